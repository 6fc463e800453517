package main

import (
	"regexp"
	"strings"
)

// skip is one test a suite does not run, and why: each needs something
// Valence documents as missing (docs/gotests.md lists them too, and
// docs/net.md those of the network).
type skip struct {
	test string // a test's name, or a subtest's: TestX/sub
	why  string
}

// Reasons, each a feature Valence documents as missing.
const (
	noCoreutils   = "needs a pwd program in $PATH: Valence has no shell or Unix commands"
	lexicalDotDot = "'..' after a symlink: the kernel applies '..' lexically before it resolves a path (docs/filesystems.md, \"The namespace\")"
	symlinkAttrs  = "lchown of a symlink: symlinks' own attributes cannot be changed (docs/filesystems.md, fsd's known gaps)"
	noFifos       = "needs FIFOs: mknod makes a FIFO node, but opening one is ENXIO (docs/net.md, AF_UNIX)"
	pathDirs      = "the current directory and directory descriptors are kept as paths: a directory renamed after it was opened is not followed, and a path relative to a directory over 4 KiB deep is ENAMETOOLONG (docs/filesystems.md)"
	slashTargets  = "fsd ignores a trailing slash in a symlink's target and in the name a link or mkdir makes (docs/filesystems.md, fsd's known gaps)"

	// Sockets (docs/net.md, "Go's net and net/http tests").
	noRawTCP = "dials \"ip:tcp\", a raw TCP socket: only ICMP raw sockets are offered, another protocol is EPROTONOSUPPORT (docs/net.md)"
)

var skips = map[string][]skip{
	"os": {
		{"TestStartProcess", noCoreutils},
		{"TestLchown", symlinkAttrs},
		{"TestFifoEOF", noFifos},
		{"TestFIFONonBlockingEOF", noFifos},
		{"TestRootRenameAfterOpen", pathDirs},
		{"TestGetwdDeep", pathDirs},
		{"TestGetwdDeepWithPWDSet", pathDirs},
		{"TestRemoveAllLongPath", pathDirs},
		{"TestRootMultiOpen", slashTargets},
		{"TestRootMultiOpenFile", slashTargets},
		{"TestRootMultiReadFile", slashTargets},
		{"TestRootMultiStat", slashTargets},
		{"TestRootMultiWriteFile", slashTargets},
		{"TestRootMultiChtimes", slashTargets},
		{"TestRootMultiChmod", slashTargets},
		{"TestRootMultiCreate", slashTargets},
		{"TestRootMultiLink", slashTargets},
		{"TestRootMultiMkdir", slashTargets},
		{"TestRootMultiMkdirAllShallow", slashTargets},
		{"TestRootConsistencyOpen/dotdot_in_path_after_symlink", lexicalDotDot},
		{"TestRootConsistencyMkdir/dotdot_in_path_after_symlink", lexicalDotDot},
		{"TestRootConsistencyMkdirAll/dotdot_in_path_after_symlink", lexicalDotDot},
		{"TestRootConsistencyRemove/dotdot_in_path_after_symlink", lexicalDotDot},
		{"TestRootConsistencyStat/dotdot_in_path_after_symlink", lexicalDotDot},
		{"TestRootConsistencyLstat/dotdot_in_path_after_symlink", lexicalDotDot},
		{"TestRootConsistencyRename/from/dotdot_in_path_after_symlink", lexicalDotDot},
		{"TestRootConsistencyLink/from/dotdot_in_path_after_symlink", lexicalDotDot},
		{"TestRootConsistencySymlink/dotdot_in_path_after_symlink", lexicalDotDot},
		{"TestRootConsistencyChmod/dotdot_in_path_after_symlink", lexicalDotDot},
		{"TestRootConsistencyChown/dotdot_in_path_after_symlink", lexicalDotDot},
		{"TestRootConsistencyLchown/dotdot_in_path_after_symlink", lexicalDotDot},
		{"TestRootConsistencyOpen/symlink_to_file_ends_in_slash", slashTargets},
		{"TestRootConsistencyCreate/symlink_to_file_ends_in_slash", slashTargets},
		{"TestRootConsistencyChmod/symlink_to_file_ends_in_slash", slashTargets},
		{"TestRootConsistencyStat/symlink_to_file_ends_in_slash", slashTargets},
		{"TestRootConsistencyChown/symlink_to_file_ends_in_slash", slashTargets},
		{"TestRootLchown", symlinkAttrs},
	},
	"net": netSkips(),
}

// netSkips are the net suite's exceptions (the interface tests and
// TestSplice were, until AF_NETLINK and splice(2) landed).
func netSkips() []skip {
	return []skip{
		{"TestIPConnRemoteName", noRawTCP},
	}
}

// slow are the tests GOTESTS_QUICK=1 (make test) leaves out because they
// take minutes under TCG; make soak runs them.
var slow = map[string][]skip{
	"os": {
		{"TestRootMulti*", "os.Root against plain paths over every combination of symlink, file and directory forms: 5 minutes"},
		{"TestCopyFileToFile", "copies of up to 2 MiB at many offsets and limits: 1 to 2 minutes"},
	},
	"net": {
		{"TestSplice/*/big", "1 GiB through loopback TCP each way: over 10 minutes under TCG"},
	},
	// These move megabytes through netd (a few MiB/s under TCG).
	"net/http": {
		{"TestClientCallsCloseOnlyOnce", "50 POSTs of 300 KB over HTTP/1 and HTTP/2, 15 MB each way: 1.5 minutes"},
		{"TestTransportAndServerSharedBodyRace", "1 MiB bodies each way, several times: 1.5 minutes"},
		{"TestBidiStreamReverseProxy", "4 MiB through a reverse proxy: 1 minute"},
		{"TestHandlerAbortRacesBodyRead", "6 MiB request bodies: 30 s"},
		{"TestServerReaderFromOrder", "3 MiB request bodies: 25 s"},
		{"TestMaxBytesHandler", "request bodies of up to 1 MB: 20 s"},
	},
}

// skipRegexp is the -test.skip pattern for tests, each a test's name or
// a subtest's (Test/sub/...), where a trailing "*" matches any suffix: an
// alternation of such matches, level by level, as the testing package
// splits the pattern at "|" and "/".
func skipRegexp(tests []string) string {
	var alts []string
	for _, t := range tests {
		var elems []string
		for _, e := range strings.Split(t, "/") {
			if prefix, ok := strings.CutSuffix(e, "*"); ok {
				elems = append(elems, "^"+regexp.QuoteMeta(prefix))
			} else {
				elems = append(elems, "^"+regexp.QuoteMeta(e)+"$")
			}
		}
		alts = append(alts, strings.Join(elems, "/"))
	}
	return strings.Join(alts, "|")
}
