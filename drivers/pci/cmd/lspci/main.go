package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"

	"valence.dev/drivers/lib/devreg"
	"valence.dev/drivers/pci/pci"
	"valence.dev/libos"
)

func main() {
	flag.Parse()
	hs := libos.InitialHandles()
	if len(hs) == 0 {
		fmt.Fprintln(os.Stderr, "lspci: no registry handle: start lspci with a capability on pcid's endpoint as initial handle 0")
		os.Exit(2)
	}
	fns, err := devreg.Client{T: libos.Endpoint{H: hs[0]}}.List(context.Background())
	if err != nil {
		fmt.Fprintf(os.Stderr, "lspci: %v\n", err)
		os.Exit(1)
	}
	var b strings.Builder
	for _, f := range fns {
		b.WriteString(Line(f))
		b.WriteByte('\n')
	}
	os.Stdout.WriteString(b.String())
}

// Line formats one function as lspci -nn does, followed by its driver:
//
//	00:04.0 Non-Volatile memory controller [0108]: Red Hat, Inc. [1b36:0010] (rev 02) -> nvmed [running, pid 5, nvme0]
//	00:1f.0 ISA bridge [0601]: Intel Corporation [8086:2918] (rev 02)
//
// A function pcid sent without its line (a list too big for one message)
// is described from its IDs, without the revision.
func Line(f devreg.Function) string {
	s := f.Line
	if s == "" {
		s = fmt.Sprintf("%s %s [%02x%02x]: %s [%04x:%04x]", f.Addr, pci.ClassName(f.Class, f.Sub), f.Class, f.Sub,
			pci.VendorName(f.Vendor), f.Vendor, f.Device)
	}
	if f.Driver == "" {
		return s
	}
	parts := []string{f.State}
	if f.PID != 0 {
		parts = append(parts, fmt.Sprintf("pid %d", f.PID))
	}
	if f.Name != "" {
		parts = append(parts, f.Name)
	}
	return fmt.Sprintf("%s -> %s [%s]", s, f.Driver, strings.Join(parts, ", "))
}
