package manifest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestDefault(t *testing.T) {
	m := Default()
	if diff := cmp.Diff([]string{"pcid", "fsd", "netd", "console"}, m.Names()); diff != "" {
		t.Errorf("the built-in manifest's order (-want +got):\n%s", diff)
	}
	fsd := m.Service("fsd")
	want := &Service{
		Name: "fsd", Program: "/bin/fsd", Caps: []Cap{{Kind: CapRootDisk}, {Kind: CapRegister}},
		Serves: RootFS, Depends: []string{"pcid"}, Restart: Always,
		Backoff: Backoff{250 * time.Millisecond, 4 * time.Second}, MaxRestarts: 5, Window: time.Minute,
		StartTimeout: 20 * time.Second, StopTimeout: 10 * time.Second,
		Heartbeat: 5 * time.Second, Timeout: 30 * time.Second, Essential: true,
	}
	if diff := cmp.Diff(want, fsd); diff != "" {
		t.Errorf("fsd in the built-in manifest (-want +got):\n%s", diff)
	}
	if c := m.Console(); c == nil || c.Program != "/bin/sh" || c.Restart != Never {
		t.Errorf("the console service is %+v, want /bin/sh with restart never", c)
	}
}

// TestImageManifest keeps the image's /etc/init.toml equal to the
// built-in manifest, which init falls back to when the file is bad: the
// fallback must behave as the file would.
func TestImageManifest(t *testing.T) {
	p := filepath.Join("..", "..", "..", "images", "default", "etc", "init.toml")
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Parse(p, data)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(Default(), m); diff != "" {
		t.Errorf("%s differs from the built-in manifest (-built-in +image):\n%s", p, diff)
	}
}

const minimal = `
[service.a]
program = "/bin/a"
`

func TestParseDefaults(t *testing.T) {
	m, err := Parse("t", []byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	want := &Manifest{Services: []*Service{{
		Name: "a", Program: "/bin/a", Restart: Always,
		Backoff:     Backoff{DefaultInitial, DefaultMaxBackoff},
		MaxRestarts: DefaultMaxRestarts, Window: DefaultWindow,
		StartTimeout: DefaultStartTimeout, StopTimeout: DefaultStopTimeout,
	}}}
	if diff := cmp.Diff(want, m); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestParseFull(t *testing.T) {
	src := `
[service.reg]
program = "/bin/pcid"
caps = ["device-root", "register"]
serves = "devreg"

[service.web]
program = "/bin/web"
args = ["-port", "80"]
caps = ["service:reg", "driver:net0", "register"]
serves = "echo"
depends = ["reg"]
restart = "on-failure"
backoff = { initial = "100ms", max = "1s" }
max-restarts = 0
window = "30s"
start-timeout = "3s"
stop-timeout = "2s"
heartbeat = "1s"
`
	m, err := Parse("t", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	web := m.Service("web")
	want := &Service{
		Name: "web", Program: "/bin/web", Args: []string{"-port", "80"},
		Caps:   []Cap{{CapService, "reg"}, {CapDriver, "net0"}, {Kind: CapRegister}},
		Serves: Echo, Depends: []string{"reg"}, Restart: OnFailure,
		Backoff: Backoff{100 * time.Millisecond, time.Second}, MaxRestarts: 0, Window: 30 * time.Second,
		StartTimeout: 3 * time.Second, StopTimeout: 2 * time.Second,
		Heartbeat: time.Second, Timeout: 2 * time.Second, // twice the heartbeat when not given
	}
	if diff := cmp.Diff(want, web); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if m.Serving(Devreg).Name != "reg" || m.Serving(RootFS) != nil {
		t.Errorf("Serving: devreg by %v, rootfs by %v", m.Serving(Devreg), m.Serving(RootFS))
	}
}

func TestParseErrors(t *testing.T) {
	svc := func(name, body string) string {
		return "[service." + name + "]\nprogram = \"/bin/" + name + "\"\n" + body + "\n"
	}
	tests := []struct {
		name string
		src  string
		want string // a substring of the error
	}{
		{"empty", "", "no [service.NAME] tables"},
		{"syntax, with its line", "[service.a]\nprogram = \"/bin/a\"\nrestart = \n", "line 3"},
		{"unterminated string", "[service.a]\nprogram = \"/bin/a", "line 2"},
		{"unknown key", svc("a", "restrat = \"never\""), "unknown keys: service.a.restrat"},
		{"unknown top-level table", svc("a", "") + "[other]\nx = 1\n", "unknown keys: other"},
		{"wrong type", svc("a", "args = \"x\""), "line 3"},
		{"bad policy, with its line", svc("a", "\n\nrestart = \"sometimes\""), "line 5"},
		{"bad policy text", svc("a", "restart = \"sometimes\""), `restart policy "sometimes" is not always, on-failure or never`},
		{"bare number duration", svc("a", "window = 60"), `duration "60": write it with a unit`},
		{"duration too short", svc("a", "window = \"1ms\""), "outside 10ms-1h0m0s"},
		{"duration too long", svc("a", "heartbeat = \"2h\"\nserves=\"echo\"\ncaps=[\"register\"]"), "outside"},
		{"unknown capability", svc("a", "caps = [\"root-device\"]"), `unknown capability kind "root-device" (known: device-root, register, root-disk, driver:NAME, service:NAME)`},
		{"capability with a stray argument", svc("a", "caps = [\"register:x\"]"), "unknown capability kind"},
		{"capability without its argument", svc("a", "caps = [\"driver\"]"), "unknown capability kind"},
		{"capability with a bad name", svc("a", "caps = [\"driver:Net0\"]"), "only a-z"},
		{"unknown protocol", svc("a", "serves = \"http\""), `serves "http" is not one of`},
		{"bad service name", "[service.A]\nprogram = \"/bin/a\"\n", `service "A": name "A"`},
		{"long service name", "[service." + strings.Repeat("a", 33) + "]\nprogram = \"/bin/a\"\n", "1-32 bytes"},
		{"no program", "[service.a]\nargs = []\n", `service "a": program missing`},
		{"relative program", "[service.a]\nprogram = \"bin/a\"\n", "not an absolute path"},
		{"negative max-restarts", svc("a", "max-restarts = -1"), "max-restarts = -1 is outside 0-1000"},
		{"backoff inverted", svc("a", "backoff = { initial = \"2s\", max = \"1s\" }"), "backoff initial 2s is longer than max 1s"},
		{"heartbeat without serves", svc("a", "heartbeat = \"1s\""), "heartbeat without serves"},
		{"timeout without heartbeat", svc("a", "timeout = \"1s\""), "timeout without heartbeat"},
		{"register without serves", svc("a", "caps = [\"register\"]"), "caps has register but serves is not set"},
		{"serves without register", svc("a", "serves = \"echo\""), "serves echo but caps lacks register"},
		{"register twice", svc("a", "serves = \"echo\"\ncaps = [\"register\", \"register\"]"), "register twice"},
		{"too many caps", svc("a", "caps = [\"device-root\",\"device-root\",\"device-root\",\"device-root\",\"device-root\",\"device-root\",\"device-root\",\"device-root\",\"device-root\"]"), "9 caps; at most 8"},
		{"unknown dependency", svc("a", "depends = [\"b\"]"), `service "a" depends on "b", which is not in the manifest`},
		{"self dependency", svc("a", "depends = [\"a\"]"), `service "a" depends on itself`},
		{"duplicate dependency", svc("a", "depends = [\"b\", \"b\"]") + svc("b", ""), `lists dependency "b" twice`},
		{"cycle", svc("a", "depends = [\"b\"]") + svc("b", "depends = [\"c\"]") + svc("c", "depends = [\"a\"]"),
			"dependency cycle: a -> b -> c -> a"},
		{"cycle off the first service", svc("a", "depends = [\"b\"]") + svc("b", "depends = [\"c\"]") + svc("c", "depends = [\"b\"]"),
			"dependency cycle: b -> c -> b"},
		{"two consoles", svc("a", "console = true\nrestart = \"never\"") + svc("b", "console = true\nrestart = \"never\""), "2 services have console = true"},
		{"console restarted", svc("a", "console = true"), "the console's restart must be never"},
		{"console with caps", svc("a", "console = true\nrestart = \"never\"\ncaps = [\"device-root\"]"), "the console gets no capabilities"},
		{"two rootfs", svc("a", "serves = \"rootfs\"\ncaps = [\"register\"]") + svc("b", "serves = \"rootfs\"\ncaps = [\"register\"]"),
			`services "a" and "b" both serve rootfs`},
		{"root-disk without devreg", svc("a", "caps = [\"root-disk\"]"), "needs a service that serves devreg, and none does"},
		{"root-disk not after devreg", svc("a", "caps = [\"root-disk\"]") + svc("p", "serves = \"devreg\"\ncaps = [\"register\"]"),
			`capability root-disk comes from "p" (it serves devreg), which is not among its dependencies`},
		{"service cap not a dependency", svc("a", "caps = [\"service:b\"]") + svc("b", "serves = \"echo\"\ncaps = [\"register\"]"),
			`capability service:b needs "b" among its depends`},
		{"service cap on a plain program", svc("a", "caps = [\"service:b\"]\ndepends = [\"b\"]") + svc("b", ""), `"b" registers nothing`},
		{"too big", "# " + strings.Repeat("x", MaxSize), "bytes; at most"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Parse("init.toml", []byte(tc.src))
			if err == nil {
				t.Fatalf("Parse accepted it: %+v", m)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q lacks %q", err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "init.toml: ") {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
}

// TestParseTransitiveDevreg: root-disk needs pcid as a dependency, but
// through another service will do.
func TestParseTransitiveDevreg(t *testing.T) {
	src := `
[service.p]
program = "/bin/pcid"
caps = ["device-root", "register"]
serves = "devreg"
[service.mid]
program = "/bin/mid"
depends = ["p"]
[service.f]
program = "/bin/fsd"
caps = ["root-disk", "register"]
serves = "rootfs"
depends = ["mid"]
`
	if _, err := Parse("t", []byte(src)); err != nil {
		t.Error(err)
	}
}

// TestDiamond: a dependency graph with many paths is checked quickly
// (every service depends on every earlier one: 2^31 paths).
func TestDiamond(t *testing.T) {
	var b strings.Builder
	b.WriteString("[service.p]\nprogram = \"/bin/p\"\ncaps = [\"device-root\", \"register\"]\nserves = \"devreg\"\n")
	prev := []string{`"p"`}
	for i := 0; i < MaxServices-1; i++ {
		name := "s" + string(rune('a'+i/26)) + string(rune('a'+i%26))
		b.WriteString("[service." + name + "]\nprogram = \"/bin/x\"\ncaps = [\"driver:x\"]\ndepends = [" + strings.Join(prev, ",") + "]\n")
		prev = append(prev, `"`+name+`"`)
	}
	start := time.Now()
	if _, err := Parse("t", []byte(b.String())); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("parsing took %v", d)
	}
}
