package tests

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"valence.dev/tests/qemu"
)

// shellCmdTimeout bounds one command typed at the shell: TCG on a busy
// machine runs a Go program's start in a second or two, a pipeline of
// several in a few.
const shellCmdTimeout = 2 * time.Minute

// shell is a Valence shell on the serial console, driven as a person
// types: a line, then its output up to the next prompt.
type shell struct {
	t *testing.T
	m *qemu.Machine
}

// bootShell boots the root disk with the network as make run does (no
// init=: init starts the services and then the manifest's console
// program, a login shell) and waits for the shell's prompt.
func bootShell(t *testing.T, disk string) *shell {
	t.Helper()
	if testing.Short() {
		t.Skip("boots the kernel under QEMU; skipped with -short")
	}
	extra := append(nvmeDisk(disk, "valence-root"),
		"-netdev", "user,id=net0",
		"-device", "virtio-net-pci,netdev=net0,disable-legacy=on,mac=52:54:00:12:34:56")
	m := qemu.Boot(t, qemu.Options{Cmdline: "root=nvme0", Timeout: 20 * time.Minute, ExtraArgs: extra})
	m.Expect(`# `, bootTimeout)
	t.Logf("QEMU launch to the shell's prompt: %v", m.Elapsed())
	return &shell{t: t, m: m}
}

// run types line, waits for it to finish, and returns what it printed
// (with the echo of the line) and its exit status. The status is asked
// for with an echo after the line, whose output the echo of the typed
// line cannot match.
func (s *shell) run(line string) (string, string) {
	s.t.Helper()
	sep := "; "
	if strings.HasSuffix(line, "&") {
		sep = " " // "cmd & echo" runs the echo at once, in the foreground
	}
	s.m.SendLine(line + sep + `echo "@@$?@@"`)
	got := s.m.Expect(`(?s)(.*?)@@(\d+)@@`, shellCmdTimeout)
	s.m.Expect(`# `, shellCmdTimeout)
	return got[1], got[2]
}

// ok runs line and checks it succeeded and printed every pattern.
func (s *shell) ok(line string, patterns ...string) string {
	s.t.Helper()
	out, status := s.run(line)
	if status != "0" {
		s.t.Errorf("%q: exit status %s; output:\n%s", line, status, out)
	}
	for _, p := range patterns {
		if !regexp.MustCompile(p).MatchString(out) {
			s.t.Errorf("%q: output lacks %s:\n%s", line, p, out)
		}
	}
	return out
}

// TestShell boots to the shell on the root disk and uses it as a person
// would: files made, listed, piped through grep, wc and sort, renamed and
// removed; ps and dmesg; job control (^C, &, jobs, kill %1, ^Z, bg, fg);
// a file written survives poweroff (QEMU exits 0) and is there at the
// next boot of the same disk.
func TestShell(t *testing.T) {
	disk := rootDiskCopy(t)
	s := bootShell(t, disk)
	// A login shell read /etc/profile: PATH, HOME=/root, the motd.
	if !strings.Contains(s.m.Output(), "Welcome to Valence") {
		t.Errorf("no motd from /etc/profile before the first prompt")
	}
	s.ok(`pwd; echo "$HOME $PATH"`, `(?m)^/root\r?$`, `/root /bin`)
	s.ok(`ls -l /etc/passwd`, `root\s+root`)
	s.ok(`mkdir -p /tmp/work && cd /tmp/work && pwd`, `/tmp/work`)
	s.ok(`printf 'pear\napple\nfig\napple\n' > fruit && cat fruit`, `pear`, `fig`)
	s.ok(`sort fruit | uniq | head -n 1`, `(?m)^apple\r?$`)
	s.ok(`grep -c apple fruit`, `(?m)^2\r?$`)
	s.ok(`wc -l < fruit`, `(?m)^\s*4\r?$`)
	s.ok(`mv fruit basket && ls`, `basket`)
	s.ok(`cp basket b2 && rm basket && ls | wc -l`, `(?m)^\s*1\r?$`)
	s.ok(`ls /bin | grep -c '^ping$'`, `(?m)^1\r?$`)
	s.ok(`ps -e`, `pcid`, `nvmed`, `fsd`, `netd`, `virtio-netd`)
	s.ok(`svc`, `(?m)^pcid\s+running`, `(?m)^nvmed\s+running`, `(?m)^virtio-netd\s+running`, `(?m)^fsd\s+running`, `(?m)^netd\s+running`)
	// The network commands: u-root's ip (NETLINK_ROUTE), ping (raw ICMP
	// to QEMU's gateway) and netstat (/proc/net).
	s.ok(`ip addr`, `inet 127\.0\.0\.1/8`, `inet 10\.0\.2\.15/24`)
	s.ok(`ip route`, `10\.0\.2\.0/24 dev eth0`)
	s.ok(`ping -c 2 10.0.2.2`, `bytes from 10\.0\.2\.2: icmp_seq=`)
	s.ok(`netstat -r -n`, `0\.0\.0\.0\s+10\.0\.2\.2`)
	s.ok(`netstat -i`, `(?m)^eth0\s+1500`, `(?m)^lo\s+65536`)
	s.ok(`dmesg | grep -c 'init: root=nvme0'`, `(?m)^1\r?$`)
	s.ok(`uname -a`, `Valence|valence`)
	if out, status := s.run(`cat /no/such/file`); status == "0" || !strings.Contains(out, "no such file") {
		t.Errorf("cat of a missing file: status %s, output %q", status, out)
	}
	// Job control: ^C ends the foreground job, not the shell; a job
	// started with & is listed and killed by its number; ^Z stops one,
	// bg and fg continue it.
	s.m.SendLine("sleep 100")
	time.Sleep(3 * time.Second) // let it start; ^C before that would hit the shell's line
	s.m.Send("\x03")
	s.m.Expect(`# `, shellCmdTimeout)
	s.ok(`echo after-interrupt`, `(?m)^after-interrupt\r?$`)
	s.ok(`sleep 100 &`, `\[1\] \d+`)
	s.ok(`jobs`, `\[1\].*Running.*sleep 100`)
	s.ok(`kill %1; wait %1; jobs`)
	s.m.SendLine("sleep 200")
	time.Sleep(3 * time.Second)
	s.m.Send("\x1a")
	s.m.Expect(`Stopped.*sleep 200`, shellCmdTimeout)
	s.m.Expect(`# `, shellCmdTimeout)
	s.ok(`jobs`, `Stopped.*sleep 200`)
	s.ok(`bg %1`, `sleep 200`)
	s.ok(`jobs`, `Running.*sleep 200`)
	s.m.SendLine("fg %1")
	time.Sleep(3 * time.Second)
	s.m.Send("\x03")
	s.m.Expect(`# `, shellCmdTimeout)
	s.ok(`jobs; echo no-jobs-left`, `no-jobs-left`)
	if out, _ := s.run(`jobs`); strings.Contains(out, "sleep") {
		t.Errorf("a job is left after fg and ^C:\n%s", out)
	}

	s.ok(`echo kept > /kept.txt && sync`)
	s.m.SendLine("poweroff")
	if code := s.m.ExpectExit(stepTimeout); code != 0 {
		t.Errorf("poweroff: QEMU exited with status %d, want 0", code)
	}
	fsck(t, disk)

	s = bootShell(t, disk)
	s.ok(`cat /kept.txt`, `(?m)^kept\r?$`)
	s.m.SendLine("poweroff")
	if code := s.m.ExpectExit(stepTimeout); code != 0 {
		t.Errorf("poweroff: QEMU exited with status %d, want 0", code)
	}
}
