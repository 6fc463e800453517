package pci

import (
	"encoding/binary"
	"fmt"
	"testing"

	"valence.dev/drivers/lib/devtest"
)

// fakeFn is one function of a fake ECAM: its configuration space as reset
// leaves it, and which bits of it software may write (the rest are
// read-only: a write leaves them as they were).
type fakeFn struct {
	addr    Address
	cfg     [ConfigSize]byte
	wmask   [ConfigSize]byte
	lastCap uint16 // offset of the last capability added, 0 if none
	nextCap uint16 // where the next capability goes
}

// newFn returns a type 0 function with its identity set, memory, I/O and
// bus master enabled (as firmware leaves a device it set up) and a
// writable Command register and interrupt line.
func newFn(bus, dev, fn uint8, vendor, device uint16, class, subclass, progIF, rev uint8) *fakeFn {
	f := &fakeFn{addr: Address{bus, dev, fn}, nextCap: capFirst}
	f.put16(RegVendor, vendor)
	f.put16(RegDevice, device)
	f.put8(RegRevision, rev)
	f.put8(RegProgIF, progIF)
	f.put8(RegSubclass, subclass)
	f.put8(RegClass, class)
	f.put16(RegCommand, CmdIO|CmdMemory|CmdBusMaster)
	f.writable(RegCommand, 2, CmdIO|CmdMemory|CmdBusMaster|CmdINTxDisable)
	f.writable(RegIntLine, 1, 0xff)
	return f
}

func (f *fakeFn) put8(off uint16, v uint8)   { f.cfg[off] = v }
func (f *fakeFn) put16(off uint16, v uint16) { binary.LittleEndian.PutUint16(f.cfg[off:], v) }
func (f *fakeFn) put32(off uint16, v uint32) { binary.LittleEndian.PutUint32(f.cfg[off:], v) }

// writable makes the bits of mask (n bytes at off) writable.
func (f *fakeFn) writable(off uint16, n int, mask uint64) {
	for i := 0; i < n; i++ {
		f.wmask[int(off)+i] |= byte(mask >> (8 * i))
	}
}

func (f *fakeFn) header(t uint8) *fakeFn { f.put8(RegHeaderType, t); return f }

func (f *fakeFn) subsystem(vendor, id uint16) *fakeFn {
	f.put16(regSubsystemVendor, vendor)
	f.put16(regSubsystem, id)
	return f
}

func (f *fakeFn) intPin(pin uint8) *fakeFn { f.put8(RegIntPin, pin); return f }

// mem32 makes BAR i a 32-bit memory BAR of size bytes at base.
func (f *fakeFn) mem32(i int, base, size uint32, prefetch bool) *fakeFn {
	flags := uint32(0)
	if prefetch {
		flags |= barPrefetchable
	}
	off := uint16(RegBAR0 + 4*i)
	f.put32(off, base|flags)
	f.writable(off, 4, uint64(^(size - 1)))
	return f
}

// mem64 makes BARs i and i+1 one 64-bit memory BAR of size bytes at base.
func (f *fakeFn) mem64(i int, base, size uint64, prefetch bool) *fakeFn {
	flags := uint64(barMemType64)
	if prefetch {
		flags |= barPrefetchable
	}
	off := uint16(RegBAR0 + 4*i)
	v, m := base|flags, ^(size-1)&^uint64(barMemFlags)
	f.put32(off, uint32(v))
	f.put32(off+4, uint32(v>>32))
	f.writable(off, 8, m)
	return f
}

// io makes BAR i an I/O BAR of size bytes at base, decoding 16 bits of
// address (the upper half reads as zero).
func (f *fakeFn) io(i int, base, size uint32) *fakeFn {
	off := uint16(RegBAR0 + 4*i)
	f.put32(off, base|barIO)
	f.writable(off, 4, uint64(^(size-1)&0xfffc))
	return f
}

// bridge makes f a type 1 header with the given bus numbers.
func (f *fakeFn) bridge(primary, secondary, subordinate uint8) *fakeFn {
	f.header(HeaderBridge)
	f.put8(regPrimaryBus, primary)
	f.put8(regSecondaryBus, secondary)
	f.put8(regSubordinateBus, subordinate)
	f.writable(regPrimaryBus, 3, 0xffffff)
	return f
}

// addCap appends a capability with the given bytes after its ID and next
// pointer, linking it into the list, and returns its offset.
func (f *fakeFn) addCap(id uint8, body ...byte) uint16 {
	off := f.nextCap
	if f.lastCap == 0 {
		f.put8(RegCapPtr, uint8(off))
		f.put16(RegStatus, f.status()|statusCapList)
	} else {
		f.put8(f.lastCap+1, uint8(off))
	}
	f.put8(off, id)
	copy(f.cfg[off+2:], body)
	f.lastCap = off
	f.nextCap = off + uint16((2+len(body)+3)&^3)
	return off
}

func (f *fakeFn) status() uint16 { return binary.LittleEndian.Uint16(f.cfg[RegStatus:]) }

// le builds little-endian bytes of the given widths, for capability bodies.
func le(vals ...any) []byte {
	var b []byte
	for _, v := range vals {
		switch v := v.(type) {
		case uint8:
			b = append(b, v)
		case uint16:
			b = binary.LittleEndian.AppendUint16(b, v)
		case uint32:
			b = binary.LittleEndian.AppendUint32(b, v)
		default:
			panic(fmt.Sprintf("le: %T", v))
		}
	}
	return b
}

// msix adds an MSI-X capability with a writable Message Control.
func (f *fakeFn) msix(size int, tableBIR uint8, tableOff uint32, pbaBIR uint8, pbaOff uint32) uint16 {
	off := f.addCap(CapMSIX, le(uint16(size-1), tableOff|uint32(tableBIR), pbaOff|uint32(pbaBIR))...)
	f.writable(off+msixControl, 2, msixEnable|msixFunctionMask)
	return off
}

// msi adds an MSI capability capable of vectors (log2 mmc) vectors.
func (f *fakeFn) msi(mmc uint16, addr64, perVector bool) uint16 {
	ctrl := mmc << msiMMCShift
	size := 8 // after the header: control, address, data
	if addr64 {
		ctrl |= msiAddr64Cap
		size += 4
	}
	if perVector {
		ctrl |= msiMaskCap
		size += 10
	}
	body := make([]byte, size)
	binary.LittleEndian.PutUint16(body, ctrl)
	off := f.addCap(CapMSI, body...)
	f.writable(off+msiControl, 2, msiEnable|msiMMEMask)
	for i := msiAddr; i < 2+size; i++ {
		f.wmask[int(off)+i] = 0xff // address, data, mask (and pending: no matter)
	}
	return off
}

// pcie adds a version 2 PCI Express capability.
func (f *fakeFn) pcie(portType uint8, mps uint8) uint16 {
	body := make([]byte, pcieLenV2-2)
	binary.LittleEndian.PutUint16(body, 2|uint16(portType)<<4)
	binary.LittleEndian.PutUint32(body[2:], uint32(mps))
	binary.LittleEndian.PutUint16(body[pcieLinkStatus-2:], 1|1<<4) // 2.5 GT/s x1
	return f.addCap(CapPCIe, body...)
}

// virtio adds a virtio PCI capability (virtio 1.1 §4.1.4) and returns its
// bytes as Scan should report them, but for the next pointer, which is
// set when the next capability is added.
func (f *fakeFn) virtio(cfgType, bar uint8, offset, length uint32, extra ...byte) VendorCap {
	body := append(le(uint8(16+len(extra)), cfgType, bar, uint8(0), uint16(0), offset, length), extra...)
	off := f.addCap(CapVendor, body...)
	return VendorCap{Offset: off, Data: append([]byte(nil), f.cfg[off:int(off)+16+len(extra)]...)}
}

// fakeECAM is an ECAM window over devtest.Regs modelling the functions
// given; the rest reads as all ones and ignores writes, as absent
// functions do. It fails the test if a BAR is written with all ones while
// decoding is on, or if anything writes the Status register.
type fakeECAM struct {
	*ECAM
	regs *devtest.Regs
	fns  map[uint64]*fakeFn // by 4 KiB page of the window
}

func newFakeECAM(t testing.TB, first, last uint8, fns ...*fakeFn) *fakeECAM {
	t.Helper()
	size := uint64(last-first+1) << ecamBusShift
	regs := devtest.NewRegs(size)
	for off := uint64(0); off < size; off += 8 {
		regs.Store(off, 8, ^uint64(0))
	}
	e := &fakeECAM{regs: regs, fns: map[uint64]*fakeFn{}}
	for _, f := range fns {
		page := pageOf(f.addr, first)
		e.fns[page] = f
		for off := 0; off < ConfigSize; off += 8 {
			regs.Store(page<<12+uint64(off), 8, binary.LittleEndian.Uint64(f.cfg[off:]))
		}
	}
	regs.Write = func(off uint64, width int, v uint64) {
		f := e.fns[off>>12]
		reg := uint16(off & 0xfff)
		if f != nil && reg < RegStatus+2 && int(reg)+width > RegStatus {
			t.Errorf("%v: %d-byte write at %#x touches the Status register", f.addr, width, reg)
		}
		if f != nil && reg >= RegBAR0 && reg < RegBAR0+24 && uint32(v) == 0xffffffff {
			if cmd := regs.Load(off&^0xfff|RegCommand, 2); cmd&(CmdIO|CmdMemory) != 0 {
				t.Errorf("%v: BAR at %#x sized with decoding on (Command %#x)", f.addr, reg, cmd)
			}
		}
		var nv uint64
		for i := 0; i < width; i++ {
			ro, m := byte(0xff), byte(0)
			if f != nil {
				ro, m = f.cfg[int(reg)+i], f.wmask[int(reg)+i]
			}
			nv |= uint64(byte(v>>(8*i))&m|ro&^m) << (8 * i)
		}
		regs.Store(off, width, nv)
	}
	ecam, err := NewECAM(regs, first, last)
	if err != nil {
		t.Fatal(err)
	}
	e.ECAM = ecam
	return e
}

func pageOf(a Address, first uint8) uint64 {
	return uint64(a.Bus-first)<<8 | uint64(a.Device)<<3 | uint64(a.Function)
}

// snapshot returns the configuration spaces of the modelled functions.
func (e *fakeECAM) snapshot() map[uint64][]byte {
	s := map[uint64][]byte{}
	for page := range e.fns {
		b := make([]byte, ConfigSize)
		for off := 0; off < ConfigSize; off += 8 {
			binary.LittleEndian.PutUint64(b[off:], e.regs.Load(page<<12+uint64(off), 8))
		}
		s[page] = b
	}
	return s
}
