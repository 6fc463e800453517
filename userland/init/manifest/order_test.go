package manifest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// graph builds a manifest source from "name: dep dep" lines.
func graph(lines ...string) string {
	var b strings.Builder
	for _, l := range lines {
		name, deps, _ := strings.Cut(l, ":")
		fmt.Fprintf(&b, "[service.%s]\nprogram = \"/bin/%s\"\n", name, name)
		if f := strings.Fields(deps); len(f) > 0 {
			fmt.Fprintf(&b, "depends = [\"%s\"]\n", strings.Join(f, `", "`))
		}
	}
	return b.String()
}

func TestOrder(t *testing.T) {
	tests := []struct {
		name  string
		lines []string
		want  []string
	}{
		{"independent: by name", []string{"c:", "a:", "b:"}, []string{"a", "b", "c"}},
		{"chain", []string{"a: b", "b: c", "c:"}, []string{"c", "b", "a"}},
		{"diamond", []string{"top: l r", "l: base", "r: base", "base:"}, []string{"base", "l", "r", "top"}},
		{"ready ones by name, not by depth", []string{"z:", "y: z", "a: y"}, []string{"z", "y", "a"}},
		{"the default's shape", []string{"console: pcid fsd netd", "netd: pcid fsd", "fsd: pcid", "pcid:"},
			[]string{"pcid", "fsd", "netd", "console"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Parse("t", []byte(graph(tc.lines...)))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, m.Names()); diff != "" {
				t.Errorf("order (-want +got):\n%s", diff)
			}
		})
	}
}

func set(names ...string) map[string]bool {
	m := map[string]bool{}
	for _, n := range names {
		m[n] = true
	}
	return m
}

// TestReady walks a boot: which services may start, in parallel, as
// others settle.
func TestReady(t *testing.T) {
	m, err := Parse("t", []byte(graph("pcid:", "hang:", "fsd: pcid", "netd: pcid fsd", "log: pcid", "console: fsd netd log hang")))
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		started, settled []string
		want             []string
	}{
		{nil, nil, []string{"hang", "pcid"}},
		{[]string{"hang", "pcid"}, nil, nil},
		{[]string{"hang", "pcid"}, []string{"pcid"}, []string{"fsd", "log"}},
		{[]string{"hang", "pcid", "fsd", "log"}, []string{"pcid", "fsd"}, []string{"netd"}},
		{[]string{"hang", "pcid", "fsd", "log", "netd"}, []string{"pcid", "fsd", "log", "netd"}, nil}, // hang still starting
		{[]string{"hang", "pcid", "fsd", "log", "netd"}, []string{"pcid", "fsd", "log", "netd", "hang"}, []string{"console"}},
		{[]string{"hang", "pcid", "fsd", "log", "netd", "console"}, []string{"pcid", "fsd", "log", "netd", "hang"}, nil},
	}
	for i, s := range steps {
		var got []string
		for _, svc := range m.Ready(set(s.started...), set(s.settled...)) {
			got = append(got, svc.Name)
		}
		if diff := cmp.Diff(s.want, got); diff != "" {
			t.Errorf("step %d: started %v, settled %v (-want +got):\n%s", i, s.started, s.settled, diff)
		}
	}
}
