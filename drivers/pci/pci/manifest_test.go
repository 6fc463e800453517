package pci

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const nvmeManifest = `
[driver]
name = "nvmed"
path = "/bin/nvmed"
args = []

[[match]]
vendor = 0x1b36
device = 0x0010

[[match]]
class = 0x01
subclass = 0x08
prog_if = 0x02
`

func TestParseManifest(t *testing.T) {
	got, err := ParseManifest("nvmed.toml", []byte(nvmeManifest))
	if err != nil {
		t.Fatal(err)
	}
	want := &Manifest{
		Name:   "nvmed.toml",
		Driver: Driver{Name: "nvmed", Path: "/bin/nvmed", Args: []string{}},
		Match: []Rule{
			{Vendor: 0x1b36, Device: 0x0010, Fields: FieldVendor | FieldDevice},
			{Class: 0x01, Subclass: 0x08, ProgIF: 0x02, Fields: FieldClass | FieldSubclass | FieldProgIF},
		},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("ParseManifest (-want +got):\n%s", d)
	}
}

func TestParseManifestErrors(t *testing.T) {
	const driver = "[driver]\nname = \"d\"\npath = \"/bin/d\"\n"
	cases := []struct {
		name, data, want string
	}{
		{"not TOML", "[driver", "manifest bad.toml: toml:"},
		{"unknown top-level key", "color = 1\n" + driver + "[[match]]\nclass = 1\n", "unknown keys: color"},
		{"unknown driver key", "[driver]\nname = \"d\"\npath = \"/bin/d\"\nargv = []\n[[match]]\nclass = 1\n", "unknown keys: driver.argv"},
		{"misspelt match key", driver + "[[match]]\nclass = 1\nsub_class = 2\n", "unknown keys: match.sub_class"},
		{"no driver table", "[[match]]\nclass = 1\n", "no [driver] table"},
		{"no driver name", "[driver]\npath = \"/bin/d\"\n[[match]]\nclass = 1\n", "driver name missing"},
		{"blank driver name", "[driver]\nname = \" \"\npath = \"/bin/d\"\n[[match]]\nclass = 1\n", "driver name missing"},
		{"no driver path", "[driver]\nname = \"d\"\n[[match]]\nclass = 1\n", `driver path "" is not absolute`},
		{"relative driver path", "[driver]\nname = \"d\"\npath = \"bin/d\"\n[[match]]\nclass = 1\n", `driver path "bin/d" is not absolute`},
		{"no match rules", driver, "no [[match]] rules"},
		{"empty match", driver + "[[match]]\n", "match 1: no fields"},
		{"vendor out of range", driver + "[[match]]\nvendor = 0x10000\ndevice = 1\n", "match 1: vendor = 65536 is outside 0-0xfffe"},
		{"vendor 0xffff", driver + "[[match]]\nvendor = 0xffff\ndevice = 1\n", "vendor = 65535 is outside"},
		{"negative device", driver + "[[match]]\nvendor = 1\ndevice = -1\n", "device = -1 is outside 0-0xffff"},
		{"class out of range", driver + "[[match]]\nclass = 256\n", "class = 256 is outside 0-0xff"},
		{"prog_if out of range", driver + "[[match]]\nclass = 1\nsubclass = 1\nprog_if = 300\n", "prog_if = 300"},
		{"second match bad", driver + "[[match]]\nclass = 1\n[[match]]\nsubclass = 1\n", "match 2: subclass without class"},
		{"vendor alone", driver + "[[match]]\nvendor = 0x8086\n", "vendor without device"},
		{"device alone", driver + "[[match]]\ndevice = 0x10\n", "device without vendor"},
		{"prog_if without subclass", driver + "[[match]]\nclass = 1\nprog_if = 2\n", "prog_if without subclass"},
		{"string for a number", driver + "[[match]]\nclass = \"1\"\n", "manifest bad.toml:"},
		{"number for a string", "[driver]\nname = 3\npath = \"/bin/d\"\n[[match]]\nclass = 1\n", "manifest bad.toml:"},
	}
	for _, c := range cases {
		m, err := ParseManifest("bad.toml", []byte(c.data))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: ParseManifest = %+v, %v; want an error containing %q", c.name, m, err, c.want)
		}
	}
}

func mustManifest(t *testing.T, name, rules string) *Manifest {
	t.Helper()
	m, err := ParseManifest(name, []byte("[driver]\nname = \""+name+"\"\npath = \"/bin/"+name+"\"\n"+rules))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestMatch(t *testing.T) {
	byID := mustManifest(t, "byid", "[[match]]\nvendor = 0x1b36\ndevice = 0x0010\n")
	byProgIF := mustManifest(t, "byprogif", "[[match]]\nclass = 1\nsubclass = 8\nprog_if = 2\n")
	bySub := mustManifest(t, "bysub", "[[match]]\nclass = 1\nsubclass = 8\n")
	byClass := mustManifest(t, "byclass", "[[match]]\nclass = 1\n")
	byClassA := mustManifest(t, "a-byclass", "[[match]]\nclass = 1\n")
	// vendor+device narrowed by class beats plain vendor+device.
	byIDClass := mustManifest(t, "zz-byidclass", "[[match]]\nvendor = 0x1b36\ndevice = 0x0010\nclass = 1\n")
	// A manifest with two rules is ranked by its best matching one.
	twoRules := mustManifest(t, "two", "[[match]]\nclass = 1\n[[match]]\nclass = 1\nsubclass = 8\nprog_if = 2\n")

	nvme := &Function{Vendor: 0x1b36, Device: 0x0010, Class: 1, Subclass: 8, ProgIF: 2}
	otherNVMe := &Function{Vendor: 0x144d, Device: 0xa808, Class: 1, Subclass: 8, ProgIF: 2}
	sata := &Function{Vendor: 0x8086, Device: 0x2922, Class: 1, Subclass: 6, ProgIF: 1}
	net := &Function{Vendor: 0x1af4, Device: 0x1041, Class: 2}

	cases := []struct {
		name string
		ms   []*Manifest
		f    *Function
		want *Manifest
	}{
		{"vendor+device beats all", []*Manifest{byClass, bySub, byProgIF, byID}, nvme, byID},
		{"vendor+device+class beats vendor+device", []*Manifest{byID, byIDClass}, nvme, byIDClass},
		{"prog_if beats subclass", []*Manifest{byClass, bySub, byProgIF, byID}, otherNVMe, byProgIF},
		{"subclass beats class", []*Manifest{bySub, byClass}, otherNVMe, bySub},
		{"class alone", []*Manifest{byID, byProgIF, bySub, byClass}, sata, byClass},
		{"tie broken by name", []*Manifest{byClass, byClassA}, sata, byClassA},
		{"tie broken by name, either order", []*Manifest{byClassA, byClass}, sata, byClassA},
		{"best rule of a manifest counts", []*Manifest{bySub, twoRules}, otherNVMe, twoRules},
		{"nil manifests skipped", []*Manifest{nil, byClass}, sata, byClass},
		{"nothing matches", []*Manifest{byID, byProgIF, bySub, byClass}, net, nil},
		{"no manifests", nil, net, nil},
	}
	for _, c := range cases {
		got, ok := Match(c.ms, c.f)
		if got != c.want || ok != (c.want != nil) {
			t.Errorf("%s: Match = %v, %v; want %v", c.name, name(got), ok, name(c.want))
		}
	}
}

func name(m *Manifest) string {
	if m == nil {
		return "none"
	}
	return m.Name
}
