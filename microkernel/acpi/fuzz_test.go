package acpi

import (
	"errors"
	"testing"
)

// FuzzParseS5 runs ParseS5 on arbitrary AML. It must not panic, must
// return either a 3-bit sleep type pair or one of its documented errors.
func FuzzParseS5(f *testing.F) {
	f.Add(s5q35)
	f.Add(cat(rootNameS5, []byte{0x12, 0x08, 0x04, 0x0A, 0x05, 0x0A, 0x05, 0x00, 0x00}))
	f.Add(cat(nameS5, []byte{0x12, 0x41, 0x01, 0x04, 0x0B, 0x02, 0x00, 0x0C, 3, 0, 0, 0}, make([]byte, 8)))
	f.Add(dsdtWith(s5q35)[headerSize:])
	f.Add([]byte{0x08, '_', 'S', '5', '_', 0x12, 0xFF, 0xFF, 0xFF, 0xFF})
	f.Fuzz(func(t *testing.T, aml []byte) {
		st, err := ParseS5(aml)
		if err != nil {
			if st != nil {
				t.Fatalf("result %+v with error %v", st, err)
			}
			if !errors.Is(err, ErrNoS5) && !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnsupported) {
				t.Fatalf("undocumented error %v", err)
			}
			return
		}
		if st == nil || st.SLPTypA > maxSLPTyp || st.SLPTypB > maxSLPTyp {
			t.Fatalf("bad result %+v", st)
		}
	})
}

// FuzzMADT runs ParseMADT on arbitrary entry bytes. With fix set, the
// harness supplies a valid header so that the entry walk is exercised
// rather than the checksum test; without it the bytes are the whole
// table.
func FuzzMADT(f *testing.F) {
	var qemu []byte
	for _, e := range qemuMADTEntries {
		qemu = append(qemu, e...)
	}
	f.Add(append(le.AppendUint32(le.AppendUint32(nil, 0xfee00000), 1), qemu...), true)
	f.Add(append(make([]byte, 8), entry(madtX2APIC, uint16(0), uint32(1), uint32(1), uint32(1))...), true)
	f.Add(append(make([]byte, 8), 0, 0), true)
	f.Add(madtTable(0xfee00000, 1, qemuMADTEntries...), false)
	f.Fuzz(func(t *testing.T, data []byte, fix bool) {
		tbl := data
		if fix {
			if len(data) < 8 {
				return
			}
			tbl = madtTable(le.Uint32(data), le.Uint32(data[4:]), data[8:])
		}
		m, err := ParseMADT(tbl)
		if err != nil {
			if m != nil {
				t.Fatalf("result with error %v", err)
			}
			return
		}
		n := len(m.LAPICs) + len(m.IOAPICs) + len(m.Overrides) + len(m.NMISources) + len(m.LAPICNMIs)
		if n > (len(tbl)-madtBodyStart)/2 {
			t.Fatalf("%d entries from a %d-byte table", n, len(tbl))
		}
		for irq := 0; irq < 256; irq++ {
			gsi, _, _ := m.ISAToGSI(uint8(irq))
			overridden := false
			for _, o := range m.Overrides {
				overridden = overridden || o.Bus == 0 && o.Source == uint8(irq)
			}
			if !overridden && gsi != uint32(irq) {
				t.Fatalf("IRQ %d without override maps to GSI %d", irq, gsi)
			}
		}
	})
}

// FuzzParse places arbitrary bytes at 0xE0000, where FindRSDP looks,
// and runs FindRSDP, Parse and PowerOffWrites on them. With fix set the
// harness first repairs checksums (see fixChecksums) so that mutations
// of lengths, pointers and contents get past verification; without it
// the checksum checks themselves are fuzzed.
func FuzzParse(f *testing.F) {
	f.Add(fuzzSystem(), true)
	f.Add(fuzzSystem(), false)
	f.Add(fuzzSystem()[:0x100], true)
	f.Add([]byte(rsdpSignature), true)
	f.Fuzz(func(t *testing.T, blob []byte, fix bool) {
		if fix {
			fixChecksums(blob)
		}
		mem := blobMem{biosAreaStart, blob}
		for _, pa := range []uint64{biosAreaStart, biosAreaStart + 0x40} {
			tables, err := Parse(mem, pa)
			if (tables == nil) == (err == nil) {
				t.Fatalf("Parse(%#x) = %v, %v: want exactly one of them", pa, tables, err)
			}
			if tables == nil {
				continue
			}
			if len(tables.Signatures) == 0 || tables.Signatures[0] != tables.Root {
				t.Fatalf("Signatures %q do not start with the root %q", tables.Signatures, tables.Root)
			}
			for _, p := range tables.Problems {
				var te *TableError
				if !errors.As(p, &te) {
					t.Fatalf("problem %v is not a *TableError", p)
				}
			}
			if writes, err := tables.PowerOffWrites(); err == nil {
				if len(writes) == 0 || len(writes) > 2 || writes[0].Value&slpEn == 0 {
					t.Fatalf("bad power-off writes %+v", writes)
				}
			}
			for irq := 0; irq < 16; irq++ {
				tables.MADT.ISAToGSI(uint8(irq))
			}
		}
		if pa, err := FindRSDP(mem); err == nil {
			if _, err := readRSDP(mem, pa); err != nil {
				t.Fatalf("FindRSDP returned %#x, which does not verify: %v", pa, err)
			}
		}
	})
}

// fuzzSystem lays out a complete ACPI 2.0 system in a blob that will sit
// at 0xE0000: RSDP at 0, RSDT at 0x40, XSDT at 0x80, FADT at 0x100, MADT
// at 0x200, DSDT at 0x300. Tables start on 64-byte boundaries so that
// fixChecksums can find them.
func fuzzSystem() []byte {
	at := func(off int) uint64 { return biosAreaStart + uint64(off) }
	b := make([]byte, 0x300)
	copy(b[0x00:], rsdpV2(uint32(at(0x40)), at(0x80)))
	copy(b[0x40:], rsdtTable(uint32(at(0x100)), uint32(at(0x200))))
	copy(b[0x80:], xsdtTable(at(0x100), at(0x200)))
	copy(b[0x100:], qemuFADT(uint32(at(0x300))))
	copy(b[0x200:], madtTable(0xfee00000, 1, qemuMADTEntries...))
	return append(b, dsdtWith(s5q35)...)
}

// fixChecksums repairs, in place, the checksum of everything in blob
// that looks like a table: any 64-byte-aligned offset whose length field
// (offset 4) fits in the blob gets a correct byte 9, and any 16-byte
// aligned "RSD PTR " gets correct 20-byte and extended checksums.
// Tables are repaired from the highest offset down, so that a table
// containing another's bytes is repaired after them; RSDPs come last.
func fixChecksums(blob []byte) {
	for off := (len(blob) - 1) &^ 63; off >= 0; off -= 64 {
		if len(blob)-off < headerSize {
			continue
		}
		n := int(le.Uint32(blob[off+4:]))
		if n < headerSize || n > len(blob)-off {
			continue
		}
		t := blob[off : off+n]
		t[9] = 0
		t[9] = -sum(t)
	}
	for off := 0; off+rsdpV1Length <= len(blob); off += 16 {
		r := blob[off:]
		if string(r[:8]) != rsdpSignature {
			continue
		}
		r[8] = 0
		r[8] = -sum(r[:rsdpV1Length])
		if r[15] < 2 || len(r) < rsdpV2Length {
			continue
		}
		n := int(le.Uint32(r[20:]))
		if n < rsdpV2Length || n > len(r) {
			continue
		}
		r[32] = 0
		r[32] = -sum(r[:n])
	}
}

// TestFuzzSystemSeed makes sure FuzzParse's main seed is a complete,
// valid system, so that fuzzing starts from full coverage.
func TestFuzzSystemSeed(t *testing.T) {
	blob := fuzzSystem()
	fixChecksums(blob) // must be a no-op on a valid blob
	mem := fakeMem{biosAreaStart: blob}
	pa, err := FindRSDP(mem)
	if err != nil || pa != biosAreaStart {
		t.Fatalf("FindRSDP = %#x, %v", pa, err)
	}
	tables, err := Parse(mem, pa)
	if err != nil {
		t.Fatal(err)
	}
	if len(tables.Problems) != 0 || tables.Root != "XSDT" || tables.MADT == nil {
		t.Fatalf("seed parses as %+v", tables)
	}
	if _, err := tables.PowerOffWrites(); err != nil {
		t.Fatal(err)
	}
	if string(blob) != string(fuzzSystem()) {
		t.Error("fixChecksums changed a valid blob")
	}
}
