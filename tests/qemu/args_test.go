package qemu

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestArgs(t *testing.T) {
	p := Paths{Kernel: "/r/build/image/valence.mb", Initfs: "/r/build/image/initfs.tar", Syms: "/r/build/image/kernel.sym"}
	// common is the command line with the machine-specific values filled in.
	common := func(cpu, mem, accel, cmdline string, extra ...string) []string {
		args := []string{
			"-M", "q35", "-cpu", cpu, "-m", mem, "-smp", "1", "-accel", accel,
			"-display", "none", "-no-reboot", "-action", "reboot=shutdown",
			"-chardev", "stdio,id=con,signal=off", "-serial", "chardev:con", "-monitor", "none",
			"-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
			"-device", "intel-iommu,intremap=off",
			"-kernel", "/r/build/image/valence.mb",
			"-initrd", "/r/build/image/initfs.tar initfs,/r/build/image/kernel.sym ksym",
			"-append", cmdline,
		}
		return append(args, extra...)
	}
	tests := []struct {
		name string
		env  string // ACCEL
		opts Options
		want []string
	}{
		{"defaults", "", Options{}, common("max", "1024", "tcg", "")},
		{"cmdline", "", Options{Cmdline: "selftest=panic quiet"}, common("max", "1024", "tcg", "selftest=panic quiet")},
		{"memory", "", Options{MemMiB: 256}, common("max", "256", "tcg", "")},
		{"extra args", "", Options{ExtraArgs: []string{"-d", "int"}}, common("max", "1024", "tcg", "", "-d", "int")},
		{"kvm option", "", Options{Accel: "kvm"}, common("host", "1024", "kvm", "")},
		{"kvm env", "kvm", Options{}, common("host", "1024", "kvm", "")},
		{"option beats env", "kvm", Options{Accel: "tcg"}, common("max", "1024", "tcg", "")},
		{"unknown env", "whpx", Options{}, common("max", "1024", "tcg", "")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(AccelEnv, tc.env)
			if diff := cmp.Diff(tc.want, Args(p, tc.opts)); diff != "" {
				t.Errorf("Args mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPathsCheck(t *testing.T) {
	good := Paths{Kernel: "/k", Initfs: "/i", Syms: "/s"}
	tests := []struct {
		name    string
		p       Paths
		wantErr []string // substrings of the error; none means no error
	}{
		{"good", good, nil},
		{"comma", Paths{Kernel: "/k", Initfs: "/a,b/initfs.tar", Syms: "/s"}, []string{"initfs path", "comma"}},
		{"space", Paths{Kernel: "/k", Initfs: "/i", Syms: "/my dir/kernel.sym"}, []string{"symbols path", "white space"}},
		{"tab", Paths{Kernel: "/k", Initfs: "/i\tx", Syms: "/s"}, []string{"initfs path"}},
		{"empty module", Paths{Kernel: "/k", Syms: "/s"}, []string{"initfs path is empty"}},
		{"empty kernel", Paths{Initfs: "/i", Syms: "/s"}, []string{"kernel path is empty"}},
		{"all wrong", Paths{Initfs: "a,b", Syms: "c d"}, []string{"kernel", "initfs", "symbols"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.p.Check()
			if (err != nil) != (len(tc.wantErr) > 0) {
				t.Fatalf("Check() = %v, want error: %v", err, len(tc.wantErr) > 0)
			}
			for _, want := range tc.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("Check() = %q, want it to mention %q", err, want)
				}
			}
		})
	}
}

func TestArgsPanicsOnBadPaths(t *testing.T) {
	defer func() {
		if r := recover(); r == nil {
			t.Error("Args accepted an initfs path with a comma")
		}
	}()
	Args(Paths{Kernel: "/k", Initfs: "/a,b", Syms: "/s"}, Options{})
}

func TestShellQuote(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"qemu", "-m", "1024"}, "qemu -m 1024"},
		{[]string{"-append", ""}, "-append ''"},
		{[]string{"-initrd", "/a initfs,/b ksym"}, "-initrd '/a initfs,/b ksym'"},
		{[]string{"it's"}, `'it'\''s'`},
		{[]string{"-device", "isa-debug-exit,iobase=0xf4"}, "-device isa-debug-exit,iobase=0xf4"},
	}
	for _, tc := range tests {
		if got := shellQuote(tc.args); got != tc.want {
			t.Errorf("shellQuote(%q) = %s, want %s", tc.args, got, tc.want)
		}
	}
}
