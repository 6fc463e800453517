// Package pcidev is the driver's side of a PCI function that pcid handed
// over (drivers/lib/devreg): reading its configuration space, which the
// driver may only read, to find capabilities, and setting up MSI-X
// vectors in the table pcid left enabled with every vector masked.
//
// Configuration space comes from the device and is checked like any
// device data: capability pointers are followed at most 48 times and must
// stay inside the header's capability area; an MSI-X table must lie
// inside the BAR it names.
package pcidev

import (
	"errors"
	"fmt"

	"valence.dev/drivers/lib/dev"
	"valence.dev/ipc"
	"valence.dev/libos"
)

// Capability IDs (PCI Code and ID Assignment Spec §2).
const (
	CapMSIX   = 0x11
	CapVendor = 0x09
)

// Caps returns the offsets of every capability with the given ID, in list
// order (PCI Local Bus 3.0 §6.7: Status bit 4 says the list exists, its
// head is at 0x34, each entry's next pointer at +1).
func Caps(cfg dev.Regs, id uint8) []uint16 {
	if cfg.Read16(0x06)&(1<<4) == 0 {
		return nil
	}
	var out []uint16
	p := uint16(cfg.Read8(0x34)) &^ 3
	for n := 0; n < 48 && p >= 0x40 && p <= 0xFC; n++ {
		if cfg.Read8(uint64(p)) == id {
			out = append(out, p)
		}
		p = uint16(cfg.Read8(uint64(p)+1)) &^ 3
	}
	return out
}

// MSIX is where a function's MSI-X table is (PCI Local Bus 3.0 §6.8.2).
type MSIX struct {
	Cap         uint16 // capability offset
	TableSize   int    // entries
	BIR         int    // BAR holding the table
	TableOffset uint64 // in that BAR
}

// ReadMSIX finds the MSI-X capability.
func ReadMSIX(cfg dev.Regs) (MSIX, error) {
	caps := Caps(cfg, CapMSIX)
	if len(caps) == 0 {
		return MSIX{}, errors.New("pcidev: no MSI-X capability")
	}
	c := uint64(caps[0])
	ctl := cfg.Read16(c + 2)
	t := cfg.Read32(c + 4)
	m := MSIX{Cap: caps[0], TableSize: int(ctl&0x7FF) + 1, BIR: int(t & 7), TableOffset: uint64(t &^ 7)}
	if m.BIR > 5 {
		return MSIX{}, fmt.Errorf("pcidev: MSI-X table in BAR %d", m.BIR)
	}
	return m, nil
}

// Vector is one MSI-X vector a driver set up.
type Vector struct {
	Handle ipc.Handle
	IRQ    *dev.KernelIRQ
}

// SetupMSIX allocates n vectors through the function's device capability,
// writes them into table entries 0..n-1 of the table (a window on the BAR
// holding it, starting at its beginning) and unmasks them (§6.8.2.6-9: each
// entry is message address low and high, data, vector control bit 0 mask).
func SetupMSIX(fn ipc.Handle, bar dev.Regs, m MSIX, n int) ([]Vector, error) {
	if n < 1 || n > m.TableSize {
		return nil, fmt.Errorf("pcidev: %d MSI-X vectors asked, the table has %d", n, m.TableSize)
	}
	if m.TableOffset > bar.Len() || uint64(n)*16 > bar.Len()-m.TableOffset {
		return nil, fmt.Errorf("pcidev: MSI-X table at %#x+%d entries is outside BAR %d (%#x bytes)", m.TableOffset, n, m.BIR, bar.Len())
	}
	var vs []Vector
	for i := 0; i < n; i++ {
		h, msg, err := libos.DevMSI(fn)
		if err != nil {
			release(vs)
			return nil, err
		}
		q, err := dev.NewKernelIRQ(h)
		if err != nil {
			libos.Close(h)
			release(vs)
			return nil, err
		}
		vs = append(vs, Vector{h, q})
		e := m.TableOffset + uint64(i)*16
		bar.Write32(e+12, bar.Read32(e+12)|1) // masked while it is written
		bar.Write32(e, uint32(msg.Addr))
		bar.Write32(e+4, uint32(msg.Addr>>32))
		bar.Write32(e+8, msg.Data)
		bar.Write32(e+12, bar.Read32(e+12)&^1)
	}
	return vs, nil
}

func release(vs []Vector) {
	for _, v := range vs {
		v.IRQ.Close()
	}
}
