package acpi

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// Physical addresses of the synthetic tables, laid out like SeaBIOS's.
const (
	rsdpPA = 0xf5a00
	rsdtPA = 0x7fe1000
	xsdtPA = 0x7fe1100
	facpPA = 0x7fe1200
	apicPA = 0x7fe1400
	hpetPA = 0x7fe1500
	dsdtPA = 0x7fe2000
	highPA = 0x1_0000_0000 // tables above 4 GiB, reachable only via the XSDT
)

// baseMem is an ACPI 1.0 system like QEMU's: RSDP -> RSDT -> FACP,
// APIC, HPET, and FACP -> DSDT with \_S5_.
func baseMem() fakeMem {
	return fakeMem{
		rsdpPA: rsdpV1(rsdtPA),
		rsdtPA: rsdtTable(facpPA, apicPA, hpetPA),
		facpPA: qemuFADT(dsdtPA),
		apicPA: madtTable(0xfee00000, MADTPCATCompat, qemuMADTEntries...),
		hpetPA: sdt("HPET", 1, make([]byte, 20)),
		dsdtPA: dsdtWith(s5q35),
	}
}

func baseFADT() *FADT {
	f, err := ParseFADT(qemuFADT(dsdtPA))
	if err != nil {
		panic(err)
	}
	f.S5 = &SleepType{0, 0}
	return f
}

// baseTables is what Parse should return for baseMem.
func baseTables() *Tables {
	return &Tables{
		RSDPAddr: rsdpPA, Revision: 0, OEMID: "BOCHS",
		Root: "RSDT", RootAddr: rsdtPA,
		FADT:       baseFADT(),
		MADT:       qemuMADT(),
		Signatures: []string{"RSDT", "FACP", "APIC", "HPET", "DSDT"},
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name         string
		mem          func(m fakeMem) // edits baseMem
		want         func(t *Tables) // edits baseTables
		wantProblems []string        // messages, in order
		wantErr      error           // Parse fails: the sentinel
		wantErrText  string          // and the message
	}{
		{
			name: "ACPI 1.0 through the RSDT",
		},
		{
			name: "ACPI 2.0 through the XSDT, tables above 4 GiB",
			mem: func(m fakeMem) {
				m[rsdpPA] = rsdpV2(0, xsdtPA)
				m[xsdtPA] = xsdtTable(highPA, highPA+0x400)
				m[highPA] = m[facpPA]
				m[highPA+0x400] = m[apicPA]
				delete(m, facpPA)
				delete(m, apicPA)
			},
			want: func(t *Tables) {
				t.Revision, t.OEMID, t.Root, t.RootAddr = 2, "VALNCE", "XSDT", xsdtPA
				t.Signatures = []string{"XSDT", "FACP", "APIC", "DSDT"}
			},
		},
		{
			name: "revision 2 without an XSDT uses the RSDT",
			mem:  func(m fakeMem) { m[rsdpPA] = rsdpV2(rsdtPA, 0) },
			want: func(t *Tables) { t.Revision, t.OEMID = 2, "VALNCE" },
		},
		{
			name: "broken XSDT falls back to the RSDT",
			mem: func(m fakeMem) {
				m[rsdpPA] = rsdpV2(rsdtPA, xsdtPA)
				m[xsdtPA] = xsdtTable(facpPA)
				m[xsdtPA][40]++
			},
			want:         func(t *Tables) { t.Revision, t.OEMID = 2, "VALNCE" },
			wantProblems: []string{"acpi: XSDT table at 0x7fe1100: bad checksum: bytes sum to 0x01"},
		},
		{
			name: "FADT with a bad checksum is skipped, MADT still used",
			mem:  func(m fakeMem) { m[facpPA][fadtPM1aCnt] ^= 0x10 },
			want: func(t *Tables) {
				t.FADT = nil
				t.Signatures = []string{"RSDT", "APIC", "HPET"}
			},
			wantProblems: []string{"acpi: FACP table at 0x7fe1200: bad checksum: bytes sum to 0x10"},
		},
		{
			name: "DSDT with a bad checksum leaves S5 unknown",
			mem:  func(m fakeMem) { m[dsdtPA][headerSize] = 0x11 },
			want: func(t *Tables) {
				t.FADT.S5 = nil
				t.Signatures = []string{"RSDT", "FACP", "APIC", "HPET"}
			},
			wantProblems: []string{"acpi: DSDT table at 0x7fe2000: bad checksum: bytes sum to 0x01"},
		},
		{
			name: "DSDT without _S5_",
			mem:  func(m fakeMem) { m[dsdtPA] = dsdtWith(nil) },
			want: func(t *Tables) {
				t.FADT.S5 = nil
			},
			wantProblems: []string{"acpi: DSDT table at 0x7fe2000: no usable \\_S5_ object"},
		},
		{
			name: "FADT points at something that is not a DSDT",
			mem:  func(m fakeMem) { m[facpPA] = qemuFADT(hpetPA) },
			want: func(t *Tables) {
				t.FADT.S5, t.FADT.DSDT = nil, hpetPA
				t.Signatures = []string{"RSDT", "FACP", "APIC", "HPET"}
			},
			wantProblems: []string{`acpi: DSDT table at 0x7fe1500: wrong signature: found "HPET"`},
		},
		{
			name: "FADT without a DSDT address",
			mem:  func(m fakeMem) { m[facpPA] = qemuFADT(0) },
			want: func(t *Tables) {
				t.FADT.S5, t.FADT.DSDT = nil, 0
				t.Signatures = []string{"RSDT", "FACP", "APIC", "HPET"}
			},
			wantProblems: []string{"acpi: DSDT table at 0x0: malformed table: FADT gives no DSDT address"},
		},
		{
			name: "null and repeated entries, second FADT",
			mem: func(m fakeMem) {
				m[rsdtPA] = rsdtTable(facpPA, 0, apicPA, facpPA, hpetPA, 0x7fe3000)
				m[0x7fe3000] = qemuFADT(0)
			},
			want: func(t *Tables) {
				t.Signatures = []string{"RSDT", "FACP", "APIC", "HPET", "FACP", "DSDT"}
			},
			wantProblems: []string{
				"acpi: RSDT table at 0x7fe1000: malformed table: entry 1 is null",
				"acpi: RSDT table at 0x7fe1000: malformed table: entry 3 repeats table at 0x7fe1200",
				"acpi: FACP table at 0x7fe3000: malformed table: second FADT ignored",
			},
		},
		{
			name: "second MADT is ignored",
			mem: func(m fakeMem) {
				m[rsdtPA] = rsdtTable(facpPA, apicPA, hpetPA, 0x7fe3000)
				m[0x7fe3000] = madtTable(0xfee00000, 0)
			},
			want: func(t *Tables) {
				t.Signatures = []string{"RSDT", "FACP", "APIC", "HPET", "APIC", "DSDT"}
			},
			wantProblems: []string{"acpi: APIC table at 0x7fe3000: malformed table: second MADT ignored"},
		},
		{
			name: "malformed MADT is skipped",
			mem:  func(m fakeMem) { m[apicPA] = madtTable(0xfee00000, 0, []byte{0, 0}) },
			want: func(t *Tables) { t.MADT = nil },
			wantProblems: []string{
				"acpi: APIC table at 0x7fe1400: malformed table: MADT entry at offset 44 has length 0, 2 bytes left",
			},
		},
		{
			name: "unreadable, short and oversized tables are reported",
			mem: func(m fakeMem) {
				m[rsdtPA] = rsdtTable(facpPA, 0x100, apicPA, 0x200, 0x300)
				m[0x200] = sdt("SSDT", 1, nil)
				le.PutUint32(m[0x200][4:], 35)
				m[0x300] = sdt("BIGT", 1, nil)
				le.PutUint32(m[0x300][4:], MaxTableLength+1)
			},
			want: func(t *Tables) {
				t.Signatures = []string{"RSDT", "FACP", "APIC", "DSDT"}
			},
			wantProblems: []string{
				"acpi: unknown table at 0x100: memory not readable",
				"acpi: SSDT table at 0x200: bad length: length 35 outside [36, 1048576]",
				"acpi: BIGT table at 0x300: bad length: length 1048577 outside [36, 1048576]",
			},
		},
		{
			name: "table running into unreadable memory",
			mem: func(m fakeMem) {
				m[hpetPA] = m[hpetPA][:50]
			},
			want: func(t *Tables) {
				t.Signatures = []string{"RSDT", "FACP", "APIC", "DSDT"}
			},
			wantProblems: []string{"acpi: HPET table at 0x7fe1500: memory not readable: 56 bytes"},
		},
		{
			name:        "RSDP checksum",
			mem:         func(m fakeMem) { m[rsdpPA][16]++ },
			wantErr:     ErrChecksum,
			wantErrText: "acpi: RSDP table at 0xf5a00: bad checksum: first 20 bytes sum to 0x01",
		},
		{
			name: "RSDP extended checksum",
			mem: func(m fakeMem) {
				m[rsdpPA] = rsdpV2(rsdtPA, xsdtPA)
				m[rsdpPA][30]++
			},
			wantErr:     ErrChecksum,
			wantErrText: "acpi: RSDP table at 0xf5a00: bad checksum: extended checksum: 36 bytes sum to 0x01",
		},
		{
			name: "RSDP length too small",
			mem: func(m fakeMem) {
				b := rsdpV2(rsdtPA, xsdtPA)
				le.PutUint32(b[20:], 20)
				b[32] = 0
				b[32] = -sum(b)
				m[rsdpPA] = b
			},
			wantErr:     ErrLength,
			wantErrText: "acpi: RSDP table at 0xf5a00: bad length: length 20 outside [36, 1024]",
		},
		{
			name:        "no RSDP there",
			mem:         func(m fakeMem) { m[rsdpPA] = make([]byte, 20) },
			wantErr:     ErrSignature,
			wantErrText: `acpi: RSDP table at 0xf5a00: wrong signature: found "\x00\x00\x00\x00\x00\x00\x00\x00"`,
		},
		{
			name:        "RSDP unreadable",
			mem:         func(m fakeMem) { delete(m, rsdpPA) },
			wantErr:     ErrUnreadable,
			wantErrText: "acpi: RSDP table at 0xf5a00: memory not readable",
		},
		{
			name:        "RSDT missing",
			mem:         func(m fakeMem) { delete(m, rsdtPA) },
			wantErr:     ErrUnreadable,
			wantErrText: "acpi: RSDT table at 0x7fe1000: memory not readable",
		},
		{
			name:        "RSDT address holds another table",
			mem:         func(m fakeMem) { m[rsdpPA] = rsdpV1(facpPA) },
			wantErr:     ErrSignature,
			wantErrText: `acpi: RSDT table at 0x7fe1200: wrong signature: found "FACP"`,
		},
		{
			name:        "RSDT with a partial entry",
			mem:         func(m fakeMem) { m[rsdtPA] = sdt("RSDT", 1, []byte{1, 2, 3, 4, 5, 6}) },
			wantErr:     ErrLength,
			wantErrText: "acpi: RSDT table at 0x7fe1000: bad length: 6 bytes of entries is not a multiple of 4",
		},
		{
			name: "broken XSDT and no RSDT",
			mem: func(m fakeMem) {
				m[rsdpPA] = rsdpV2(0, xsdtPA)
			},
			wantErr:     ErrUnreadable,
			wantErrText: "acpi: XSDT table at 0x7fe1100: memory not readable",
		},
		{
			name:        "no root table address",
			mem:         func(m fakeMem) { m[rsdpPA] = rsdpV1(0) },
			wantErr:     ErrMalformed,
			wantErrText: "acpi: RSDP table at 0xf5a00: malformed table: no usable root table address",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mem := baseMem()
			if tt.mem != nil {
				tt.mem(mem)
			}
			mem.checkDisjoint(t)
			got, err := Parse(mem, rsdpPA)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || err.Error() != tt.wantErrText {
					t.Fatalf("Parse error = %v, want %q (%v)", err, tt.wantErrText, tt.wantErr)
				}
				var te *TableError
				if !errors.As(err, &te) {
					t.Errorf("error %v is not a *TableError", err)
				}
				if got != nil {
					t.Errorf("Parse returned tables with an error: %+v", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			want := baseTables()
			if tt.want != nil {
				tt.want(want)
			}
			if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(Tables{}, "Problems")); diff != "" {
				t.Errorf("Parse mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantProblems, errStrings(got.Problems)); diff != "" {
				t.Errorf("Problems mismatch (-want +got):\n%s", diff)
			}
			for _, p := range got.Problems {
				var te *TableError
				if !errors.As(p, &te) {
					t.Errorf("problem %v is not a *TableError", p)
				}
			}
		})
	}
}

// shortMem is a broken Memory that claims success but returns one byte
// less than asked.
type shortMem struct{ fakeMem }

func (m shortMem) Slice(pa, n uint64) ([]byte, bool) {
	b, ok := m.fakeMem.Slice(pa, n)
	if !ok || len(b) == 0 {
		return b, ok
	}
	return b[:len(b)-1], true
}

func TestParseUntrustworthyMemory(t *testing.T) {
	tests := []struct {
		name string
		mem  Memory
	}{
		{"nil", nil},
		{"short slices", shortMem{baseMem()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.mem, rsdpPA)
			if !errors.Is(err, ErrUnreadable) || got != nil {
				t.Errorf("Parse = %v, %v; want nil, %v", got, err, ErrUnreadable)
			}
		})
	}
}

// TestParseRootEntryLimit checks that a huge root table is cut at
// MaxRootEntries and that repeated entries are read only once.
func TestParseRootEntryLimit(t *testing.T) {
	mem := baseMem()
	addrs := make([]uint64, MaxRootEntries+10)
	for i := range addrs {
		addrs[i] = hpetPA
	}
	addrs[0] = facpPA
	const bigXSDT = 0x100000 // away from the other tables: it is 4 KiB long
	mem[rsdpPA] = rsdpV2(0, bigXSDT)
	mem[bigXSDT] = xsdtTable(addrs...)
	mem.checkDisjoint(t)
	got, err := Parse(mem, rsdpPA)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"XSDT", "FACP", "HPET", "DSDT"}, got.Signatures); diff != "" {
		t.Errorf("Signatures (-want +got):\n%s", diff)
	}
	// One report for the cut, then one per repeat among the examined.
	if want := 1 + MaxRootEntries - 2; len(got.Problems) != want {
		t.Errorf("got %d problems, want %d", len(got.Problems), want)
	}
	if !errors.Is(got.Problems[0], ErrLength) {
		t.Errorf("first problem = %v, want the entry limit", got.Problems[0])
	}
}

func TestTableErrorText(t *testing.T) {
	tests := []struct {
		err  *TableError
		want string
	}{
		{&TableError{Signature: "FACP", Addr: 0x1000, Err: ErrChecksum}, "acpi: FACP table at 0x1000: bad checksum"},
		{&TableError{Signature: "A\x00\xffB", Addr: 1, Err: ErrLength}, "acpi: A??B table at 0x1: bad length"},
		{&TableError{Signature: "X", Addr: 0}, "acpi: X table at 0x0: <nil>"},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, tt.err.Error()); diff != "" {
			t.Errorf("Error() (-want +got):\n%s", diff)
		}
	}
}
