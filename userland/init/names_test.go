package main

import "testing"

func TestDevNames(t *testing.T) {
	cases := []struct {
		pcid, file string
		ok         bool
	}{
		{"nvme0", "nvme0n1", true},
		{"nvme12", "nvme12n1", true},
		{"vda", "vda", true},
		{"vdz", "vdz", true},
		{"eth0", "", false},
		{"nvme", "", false},
		{"nvmex", "", false},
		{"vd1", "", false},
		{"vdaa", "", false},
	}
	for _, c := range cases {
		file, ok := devFileName(c.pcid)
		if file != c.file || ok != c.ok {
			t.Errorf("devFileName(%q) = %q, %v; want %q, %v", c.pcid, file, ok, c.file, c.ok)
		}
		if !ok {
			continue
		}
		for _, p := range []string{"/dev/" + file, file} {
			if back, ok := pcidName(p); back != c.pcid || !ok {
				t.Errorf("pcidName(%q) = %q, %v; want %q", p, back, ok, c.pcid)
			}
		}
	}
	for _, bad := range []string{"/dev/nvme0n2", "/dev/nvme0n", "/dev/sda", "/dev/vda1", "/tmp/x", "", "/dev/nvmen1"} {
		if n, ok := pcidName(bad); ok {
			t.Errorf("pcidName(%q) = %q, want refused", bad, n)
		}
	}
	if got, want := devRdev("vdb"), mkdev(254, 16); got != want {
		t.Errorf("devRdev(vdb) = %#x, want %#x", got, want)
	}
	if got := mkdev(259, 0); got != 259<<8 {
		t.Errorf("mkdev(259, 0) = %#x", got)
	}
}
