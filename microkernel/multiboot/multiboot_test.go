package multiboot

import (
	"bytes"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Addresses used by the synthetic structures. They sit in low memory
// like QEMU's, but any values would do.
const (
	infoPA = 0x9000
	cmdPA  = 0x9100
	mmapPA = 0x9200
	modsPA = 0x9400
	str1PA = 0x9500
	str2PA = 0x9600
)

// qemuMap is the memory map QEMU's SeaBIOS reports for -m 128M.
var qemuMap = []Region{
	{Base: 0, Len: 0x9fc00, Type: TypeAvailable},
	{Base: 0x9fc00, Len: 0x400, Type: TypeReserved},
	{Base: 0xf0000, Len: 0x10000, Type: TypeReserved},
	{Base: 0x100000, Len: 0x7ee0000, Type: TypeAvailable},
	{Base: 0x7fe0000, Len: 0x20000, Type: TypeReserved},
	{Base: 0xfffc0000, Len: 0x40000, Type: TypeReserved},
}

// wantInfo builds the expected Info from the pieces a test cares about,
// filling in the fixed extent of the structure at infoPA.
func wantInfo(flags uint32, f func(*Info)) Info {
	var in Info
	in.Flags = flags
	in.InfoStart, in.InfoEnd = infoPA, infoPA+InfoSize
	in.Reserved[0] = Region{Base: infoPA, Len: InfoSize, Type: TypeReserved}
	in.NReserved = 1
	if f != nil {
		f(&in)
	}
	return in
}

func addRes(in *Info, base, n uint64) {
	in.Reserved[in.NReserved] = Region{Base: base, Len: n, Type: TypeReserved}
	in.NReserved++
}

func TestParse(t *testing.T) {
	allFlags := uint32(FlagMem | FlagCmdline | FlagMods | FlagMmap)
	full := fakeMem{
		infoPA: header{
			flags: allFlags, memLower: 639, memUpper: 130944,
			cmdline: cmdPA, modsCount: 2, modsAddr: modsPA,
			mmapLength: uint32(len(mmap(qemuMap...))), mmapAddr: mmapPA,
		}.bytes(),
		cmdPA:  cstr("/boot/kernel console=ttyS0"),
		mmapPA: mmap(qemuMap...),
		modsPA: modList([3]uint32{0x200000, 0x201234, str1PA}, [3]uint32{0x202000, 0x202000, 0}),
		str1PA: cstr("init.elf"),
	}
	tooMany := make([]Region, MaxRegions+2)
	for i := range tooMany {
		tooMany[i] = Region{Base: uint64(i) << 20, Len: 1 << 20, Type: uint32(1 + i%2)}
	}
	longLine := bytes.Repeat([]byte{'x'}, MaxCmdline)

	tests := []struct {
		name    string
		mem     Memory
		magic   uint32
		want    Info
		wantErr error
	}{
		{
			name:    "bad magic",
			mem:     full,
			magic:   0x36d76289, // Multiboot 2's magic
			wantErr: ErrBadMagic,
		},
		{
			name:    "info not readable",
			mem:     fakeMem{},
			wantErr: ErrTruncated,
		},
		{
			name: "no flags",
			mem:  fakeMem{infoPA: header{}.bytes()},
			want: wantInfo(0, nil),
		},
		{
			name: "only the flags word is readable",
			mem:  fakeMem{infoPA: {0, 0, 0, 0}},
			want: wantInfo(0, nil),
		},
		{
			name: "unknown flags are kept but not interpreted",
			mem:  fakeMem{infoPA: header{flags: 1<<1 | 1<<9 | 1<<12}.bytes()},
			want: wantInfo(1<<1|1<<9|1<<12, nil),
		},
		{
			name: "mem fields without mmap synthesise two regions",
			mem:  fakeMem{infoPA: header{flags: FlagMem, memLower: 639, memUpper: 31744}.bytes()},
			want: wantInfo(FlagMem, func(in *Info) {
				in.MemLowerKiB, in.MemUpperKiB = 639, 31744
				in.Regions[0] = Region{Base: 0, Len: 639 << 10, Type: TypeAvailable}
				in.Regions[1] = Region{Base: 1 << 20, Len: 31744 << 10, Type: TypeAvailable}
				in.NRegions = 2
			}),
		},
		{
			name:    "flags need more of the structure than is readable",
			mem:     fakeMem{infoPA: header{flags: FlagMmap}.bytes()[:offMmapAddr]},
			wantErr: ErrTruncated,
		},
		{
			name: "cmdline",
			mem: fakeMem{
				infoPA: header{flags: FlagCmdline, cmdline: cmdPA}.bytes(),
				cmdPA:  cstr("kernel a=1"),
			},
			want: wantInfo(FlagCmdline, func(in *Info) {
				in.Cmdline = []byte("kernel a=1")
				addRes(in, cmdPA, 11)
			}),
		},
		{
			name: "empty cmdline is present but empty",
			mem: fakeMem{
				infoPA: header{flags: FlagCmdline, cmdline: cmdPA}.bytes(),
				cmdPA:  {0},
			},
			want: wantInfo(FlagCmdline, func(in *Info) {
				in.Cmdline = []byte{}
				addRes(in, cmdPA, 1)
			}),
		},
		{
			name: "cmdline of exactly MaxCmdline bytes",
			mem: fakeMem{
				infoPA: header{flags: FlagCmdline, cmdline: cmdPA}.bytes(),
				cmdPA:  append(append([]byte(nil), longLine...), 0),
			},
			want: wantInfo(FlagCmdline, func(in *Info) {
				in.Cmdline = longLine
				addRes(in, cmdPA, MaxCmdline+1)
			}),
		},
		{
			name: "cmdline longer than MaxCmdline",
			mem: fakeMem{
				infoPA: header{flags: FlagCmdline, cmdline: cmdPA}.bytes(),
				cmdPA:  append(append([]byte{'y'}, longLine...), 0),
			},
			wantErr: ErrUnterminated,
		},
		{
			name: "cmdline runs into unreadable memory",
			mem: fakeMem{
				infoPA: header{flags: FlagCmdline, cmdline: cmdPA}.bytes(),
				cmdPA:  []byte("no terminator"),
			},
			wantErr: ErrTruncated,
		},
		{
			name: "cmdline wraps the address space",
			mem: fakeMem{
				infoPA: header{flags: FlagCmdline, cmdline: 0xffffffff}.bytes(),
				0:      {0},
			},
			wantErr: ErrTruncated,
		},
		{
			name: "everything, QEMU style",
			mem:  full,
			want: wantInfo(allFlags, func(in *Info) {
				in.MemLowerKiB, in.MemUpperKiB = 639, 130944
				in.Cmdline = []byte("/boot/kernel console=ttyS0")
				addRes(in, cmdPA, 27)
				in.Modules[0] = Module{Start: 0x200000, End: 0x201234, Cmdline: []byte("init.elf")}
				in.Modules[1] = Module{Start: 0x202000, End: 0x202000}
				in.NModules = 2
				addRes(in, modsPA, 32)
				addRes(in, str1PA, 9)
				copy(in.Regions[:], qemuMap)
				in.NRegions = len(qemuMap)
				addRes(in, mmapPA, uint64(24*len(qemuMap)))
			}),
		},
		{
			name: "zero modules",
			mem:  fakeMem{infoPA: header{flags: FlagMods, modsAddr: 0xdead}.bytes()},
			want: wantInfo(FlagMods, nil),
		},
		{
			name:    "too many modules",
			mem:     fakeMem{infoPA: header{flags: FlagMods, modsCount: MaxModules + 1, modsAddr: modsPA}.bytes()},
			wantErr: ErrTooManyModules,
		},
		{
			name:    "hostile module count",
			mem:     fakeMem{infoPA: header{flags: FlagMods, modsCount: 0xffffffff, modsAddr: modsPA}.bytes()},
			wantErr: ErrTooManyModules,
		},
		{
			name: "module list not readable",
			mem: fakeMem{
				infoPA: header{flags: FlagMods, modsCount: 2, modsAddr: modsPA}.bytes(),
				modsPA: modList([3]uint32{1, 2, 0}),
			},
			wantErr: ErrTruncated,
		},
		{
			name: "module ends before it starts",
			mem: fakeMem{
				infoPA: header{flags: FlagMods, modsCount: 1, modsAddr: modsPA}.bytes(),
				modsPA: modList([3]uint32{0x3000, 0x2fff, 0}),
			},
			wantErr: ErrBadModule,
		},
		{
			name: "module string unreadable",
			mem: fakeMem{
				infoPA: header{flags: FlagMods, modsCount: 1, modsAddr: modsPA}.bytes(),
				modsPA: modList([3]uint32{0x3000, 0x4000, str2PA}),
			},
			wantErr: ErrTruncated,
		},
		{
			name: "mmap entries with a larger size field",
			mem: fakeMem{
				infoPA: header{flags: FlagMmap, mmapLength: 2 * 32, mmapAddr: mmapPA}.bytes(),
				mmapPA: append(mmapEntry(28, qemuMap[0]), mmapEntry(28, qemuMap[3])...),
			},
			want: wantInfo(FlagMmap, func(in *Info) {
				in.Regions[0], in.Regions[1] = qemuMap[0], qemuMap[3]
				in.NRegions = 2
				addRes(in, mmapPA, 64)
			}),
		},
		{
			name: "empty mmap with mem fields does not synthesise",
			mem:  fakeMem{infoPA: header{flags: FlagMmap | FlagMem, memLower: 1, memUpper: 2, mmapAddr: mmapPA}.bytes()},
			want: wantInfo(FlagMmap|FlagMem, func(in *Info) {
				in.MemLowerKiB, in.MemUpperKiB = 1, 2
			}),
		},
		{
			name: "mmap entry size below 20",
			mem: fakeMem{
				infoPA: header{flags: FlagMmap, mmapLength: 24 + 20, mmapAddr: mmapPA}.bytes(),
				mmapPA: append(mmapEntry(20, qemuMap[0]), mmapEntry(16, qemuMap[1])...),
			},
			wantErr: ErrBadMmap,
		},
		{
			name: "mmap entry size zero",
			mem: fakeMem{
				infoPA: header{flags: FlagMmap, mmapLength: 24, mmapAddr: mmapPA}.bytes(),
				mmapPA: make([]byte, 24),
			},
			wantErr: ErrBadMmap,
		},
		{
			name: "mmap entry runs past mmap_length",
			mem: fakeMem{
				infoPA: header{flags: FlagMmap, mmapLength: 24 + 23, mmapAddr: mmapPA}.bytes(),
				mmapPA: mmap(qemuMap[0], qemuMap[1]),
			},
			wantErr: ErrBadMmap,
		},
		{
			name: "hostile mmap entry size",
			mem: fakeMem{
				infoPA: header{flags: FlagMmap, mmapLength: 24, mmapAddr: mmapPA}.bytes(),
				mmapPA: append([]byte{0xff, 0xff, 0xff, 0xff}, make([]byte, 20)...),
			},
			wantErr: ErrBadMmap,
		},
		{
			name: "trailing bytes after the last mmap entry",
			mem: fakeMem{
				infoPA: header{flags: FlagMmap, mmapLength: 24 + 3, mmapAddr: mmapPA}.bytes(),
				mmapPA: append(mmap(qemuMap[0]), 0, 0, 0),
			},
			wantErr: ErrBadMmap,
		},
		{
			name:    "mmap_length over the limit",
			mem:     fakeMem{infoPA: header{flags: FlagMmap, mmapLength: MaxMmapLength + 4, mmapAddr: mmapPA}.bytes()},
			wantErr: ErrBadMmap,
		},
		{
			name: "mmap buffer not readable",
			mem: fakeMem{
				infoPA: header{flags: FlagMmap, mmapLength: 48, mmapAddr: mmapPA}.bytes(),
				mmapPA: mmap(qemuMap[0]),
			},
			wantErr: ErrTruncated,
		},
		{
			name: "too many regions keeps the first MaxRegions and the rest of Info",
			mem: fakeMem{
				infoPA: header{
					flags:   FlagMmap | FlagCmdline,
					cmdline: cmdPA, mmapLength: uint32(24 * len(tooMany)), mmapAddr: 0x10000,
				}.bytes(),
				cmdPA:   cstr("k"),
				0x10000: mmap(tooMany...),
			},
			want: wantInfo(FlagMmap|FlagCmdline, func(in *Info) {
				in.Cmdline = []byte("k")
				addRes(in, cmdPA, 2)
				copy(in.Regions[:], tooMany)
				in.NRegions = MaxRegions
				addRes(in, 0x10000, uint64(24*len(tooMany)))
			}),
			wantErr: ErrTooManyRegions,
		},
		{
			name: "too many regions but a later entry is malformed",
			mem: fakeMem{
				infoPA:  header{flags: FlagMmap, mmapLength: uint32(24*len(tooMany) + 4), mmapAddr: 0x10000}.bytes(),
				0x10000: append(mmap(tooMany...), 1, 0, 0, 0),
			},
			wantErr: ErrBadMmap,
		},
		{
			name:    "memory that returns short slices is not trusted",
			mem:     shortMem{full},
			wantErr: ErrTruncated,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			magic := uint32(BootloaderMagic)
			if tt.magic != 0 {
				magic = tt.magic
			}
			switch m := tt.mem.(type) {
			case fakeMem:
				m.checkDisjoint(t)
			case shortMem:
				m.checkDisjoint(t)
			}
			var got Info
			got.NRegions = 99 // Parse must clear stale contents
			err := Parse(tt.mem, magic, infoPA, &got)
			if err != tt.wantErr {
				t.Fatalf("Parse error = %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Parse mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseNilArguments(t *testing.T) {
	if err := Parse(fakeMem{}, BootloaderMagic, infoPA, nil); err != ErrNilArgument {
		t.Errorf("nil Info: got %v, want %v", err, ErrNilArgument)
	}
	in := Info{NModules: 3}
	if err := Parse(nil, BootloaderMagic, infoPA, &in); err != ErrNilArgument {
		t.Errorf("nil Memory: got %v, want %v", err, ErrNilArgument)
	}
	if diff := cmp.Diff(Info{}, in); diff != "" {
		t.Errorf("Info not cleared (-want +got):\n%s", diff)
	}
}

func TestParseInfoAtTopOfMemory(t *testing.T) {
	// The structure's own address wraps: must fail, not read address 0.
	var in Info
	err := Parse(fakeMem{0: header{}.bytes()}, BootloaderMagic, ^uint64(0)-1, &in)
	if err != ErrTruncated {
		t.Fatalf("got %v, want %v", err, ErrTruncated)
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{ErrBadMagic, "multiboot: bad bootloader magic"},
		{ErrTooManyRegions, "multiboot: too many memory map entries (truncated)"},
		{Error(0), "multiboot: unknown error"},
		{Error(200), "multiboot: unknown error"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("%d.Error() = %q, want %q", tt.err, got, tt.want)
		}
	}
	var e error = ErrBadModule
	if !errors.Is(e, ErrBadModule) || errors.Is(e, ErrBadMmap) {
		t.Error("errors.Is does not distinguish sentinels")
	}
}

// TestNoAllocations proves the pre-runtime requirement: Parse,
// Available and CmdlineArgs never touch the heap, on success or failure.
func TestNoAllocations(t *testing.T) {
	mem := fakeMem{
		infoPA: header{
			flags:   FlagMem | FlagCmdline | FlagMods | FlagMmap,
			cmdline: cmdPA, modsCount: 1, modsAddr: modsPA,
			mmapLength: uint32(24 * len(qemuMap)), mmapAddr: mmapPA,
		}.bytes(),
		cmdPA:  cstr("kernel a b c"),
		mmapPA: mmap(qemuMap...),
		modsPA: modList([3]uint32{0x200000, 0x300000, str1PA}),
		str1PA: cstr("mod"),
	}
	bad := fakeMem{infoPA: header{flags: FlagMmap, mmapLength: 24, mmapAddr: mmapPA}.bytes()}
	var in Info
	var regions [16]Region
	var args [8][]byte
	excl := []Region{{Base: 0x100000, Len: 0x80000}}
	tests := []struct {
		name string
		f    func()
	}{
		{"Parse", func() { _ = Parse(mem, BootloaderMagic, infoPA, &in) }},
		{"Parse failing", func() { _ = Parse(bad, BootloaderMagic, infoPA, &in) }},
		{"Available", func() { _ = in.Available(excl, regions[:]) }},
		{"CmdlineArgs", func() { _ = CmdlineArgs(in.Cmdline, args[:]) }},
	}
	if err := Parse(mem, BootloaderMagic, infoPA, &in); err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		if n := testing.AllocsPerRun(100, tt.f); n != 0 {
			t.Errorf("%s: %v allocations per run, want 0", tt.name, n)
		}
	}
}
