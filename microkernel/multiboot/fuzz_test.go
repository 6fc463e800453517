package multiboot

import (
	"bytes"
	"encoding/binary"
	"reflect"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// fuzzBase is where FuzzParse places its input in physical memory.
// Seeds point into [fuzzBase, fuzzBase+len), so mutations of their
// pointer bytes explore both valid and dangling references.
const fuzzBase = 0x10000

// fuzzSeed lays out a complete structure inside one blob at fuzzBase:
// header at 0, cmdline at 0x80, modules at 0xa0, module string at 0xc0,
// memory map at 0xd0.
func fuzzSeed() []byte {
	b := make([]byte, 0xd0)
	copy(b, header{
		flags: FlagMem | FlagCmdline | FlagMods | FlagMmap, memLower: 639, memUpper: 1 << 17,
		cmdline: fuzzBase + 0x80, modsCount: 2, modsAddr: fuzzBase + 0xa0,
		mmapLength: uint32(24 * len(qemuMap)), mmapAddr: fuzzBase + 0xd0,
	}.bytes())
	copy(b[0x80:], cstr("kernel a=b c"))
	copy(b[0xa0:], modList([3]uint32{0x200000, 0x210000, fuzzBase + 0xc0}, [3]uint32{0x300000, 0x300001, 0}))
	copy(b[0xc0:], cstr("mod"))
	return append(b, mmap(qemuMap...)...)
}

// FuzzParse feeds arbitrary bytes as physical memory. Parse must not
// panic or hang; whatever it accepts must be internally consistent, and
// Available on the result must agree with the reference model.
func FuzzParse(f *testing.F) {
	seed := fuzzSeed()
	f.Add(seed, uint16(0))
	f.Add(seed[:0x50], uint16(0))
	f.Add(header{flags: FlagMem, memLower: 640, memUpper: 1024}.bytes(), uint16(0))
	odd := append([]byte(nil), seed...)
	binary.LittleEndian.PutUint32(odd[0xd0:], 0xfffffff0) // hostile entry size
	f.Add(odd, uint16(0))
	f.Add([]byte{}, uint16(0))

	f.Fuzz(func(t *testing.T, data []byte, off uint16) {
		mem := blobMem{fuzzBase, data}
		var in Info
		err := Parse(mem, BootloaderMagic, fuzzBase+uint64(off), &in)
		if err != nil && err != ErrTooManyRegions {
			if !reflect.ValueOf(in).IsZero() {
				t.Fatalf("Parse failed with %v but left Info set:\n%s", err, cmp.Diff(Info{}, in))
			}
			return
		}
		if in.NRegions < 0 || in.NRegions > MaxRegions || in.NModules < 0 || in.NModules > MaxModules ||
			in.NReserved < 1 || in.NReserved > 4+MaxModules {
			t.Fatalf("counts out of range: regions %d modules %d reserved %d", in.NRegions, in.NModules, in.NReserved)
		}
		if len(in.Cmdline) > MaxCmdline || bytes.IndexByte(in.Cmdline, 0) >= 0 {
			t.Fatalf("bad cmdline %q", in.Cmdline)
		}
		for i := 0; i < in.NModules; i++ {
			if m := in.Modules[i]; m.End < m.Start || bytes.IndexByte(m.Cmdline, 0) >= 0 {
				t.Fatalf("bad module %+v", m)
			}
		}
		for i := 0; i < in.NReserved; i++ {
			if in.Reserved[i].Len == 0 {
				t.Fatalf("empty reserved entry %d", i)
			}
		}

		want := refAvailable(&in, nil)
		for _, outLen := range []int{0, 2, 2*MaxRegions + MaxModules + 8} {
			out := make([]Region, outLen)
			checkPrefix(t, out[:in.Available(nil, out)], outLen, want)
		}

		var args [8][]byte
		for _, w := range args[:CmdlineArgs(in.Cmdline, args[:])] {
			if len(w) == 0 || bytes.ContainsAny(w, " \t\x00") {
				t.Fatalf("bad word %q", w)
			}
		}
	})
}

// FuzzAvailable decodes the input into small, colliding ranges and
// checks Available against the model and its truncation contract.
func FuzzAvailable(f *testing.F) {
	f.Add([]byte{1, 0, 10, 1, 2, 4, 0, 1, 3, 9, 3, 2}, uint8(3))
	f.Add([]byte{1, 0, 255, 255, 255, 255}, uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, outLen uint8) {
		var in Info
		var excl []Region
		// Each 3-byte record: kind, base, length in 1 KiB units.
		for i := 0; i+3 <= len(data) && i < 3*64; i += 3 {
			r := Region{Base: uint64(data[i+1]) << 10, Len: uint64(data[i+2]) << 10, Type: uint32(data[i] % 8)}
			switch {
			case data[i] == 0xff:
				r.Base, r.Len = ^uint64(0)-r.Base, ^uint64(0)
			case r.Type == 6 && in.NModules < MaxModules:
				in.Modules[in.NModules] = Module{Start: r.Base, End: r.Base + r.Len}
				in.NModules++
				continue
			case r.Type == 7:
				excl = append(excl, r)
				continue
			}
			in.Regions[in.NRegions] = r
			in.NRegions++
		}
		want := refAvailable(&in, excl)
		out := make([]Region, outLen)
		checkPrefix(t, out[:in.Available(excl, out)], len(out), want)
	})
}

// FuzzCmdlineArgs checks that splitting never panics and that the words
// are exactly the maximal blank-free runs before the first NUL.
func FuzzCmdlineArgs(f *testing.F) {
	f.Add([]byte("/kernel a=1  b\tc"), uint8(4))
	f.Add([]byte("x\x00y"), uint8(1))
	f.Fuzz(func(t *testing.T, line []byte, outLen uint8) {
		out := make([][]byte, outLen%32)
		n := CmdlineArgs(line, out)
		if i := bytes.IndexByte(line, 0); i >= 0 {
			line = line[:i]
		}
		want := bytes.FieldsFunc(line, func(r rune) bool { return r == ' ' || r == '\t' })
		if len(want) > len(out) {
			want = want[:len(out)]
		}
		if !slices.EqualFunc(want, out[:n], bytes.Equal) {
			t.Fatalf("CmdlineArgs(%q) mismatch (-want +got):\n%s", line, cmp.Diff(want, out[:n], cmpopts.EquateEmpty()))
		}
	})
}
