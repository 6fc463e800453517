package pci

import (
	"fmt"

	"valence.dev/drivers/lib/dev"
)

// EnableMSIX programs table entries 0 to len(msgs)-1 with msgs, unmasked,
// masks the other entries, and enables MSI-X, turning off MSI first (PCI
// Local Bus 3.0 §6.8.2: at most one may be enabled). table is the
// register window of the whole BAR MSIX.TableBIR names; the function's
// memory decoding must be on, and the caller must also EnableBusMaster.
//
// Every argument is checked before anything is written. While the
// entries are written the Function Mask bit is set (§6.8.2.3), so that no
// half-written entry can fire; it is cleared last.
func (f *Function) EnableMSIX(c Config, table dev.Regs, msgs []Message) error {
	m := f.MSIX
	if m == nil {
		return fmt.Errorf("pci: %v: MSI-X: %w", f.Addr, ErrNotCapable)
	}
	if len(msgs) == 0 || len(msgs) > m.TableSize {
		return fmt.Errorf("pci: %v: MSI-X: %d vectors asked for; the table has %d", f.Addr, len(msgs), m.TableSize)
	}
	if err := m.checkTable(table); err != nil {
		return fmt.Errorf("pci: %v: %w", f.Addr, err)
	}
	for i, msg := range msgs {
		if err := checkMessage(msg, true); err != nil {
			return fmt.Errorf("pci: %v: MSI-X entry %d: %w", f.Addr, i, err)
		}
	}
	f.DisableMSI(c)
	ctrl := c.Read16(m.Offset + msixControl)
	c.Write16(m.Offset+msixControl, ctrl|msixEnable|msixFunctionMask)
	for i := 0; i < m.TableSize; i++ {
		if i < len(msgs) {
			m.writeEntry(table, i, msgs[i])
		} else {
			m.setMasked(table, i, true)
		}
	}
	c.Write16(m.Offset+msixControl, (ctrl|msixEnable)&^msixFunctionMask)
	return nil
}

// DisableMSIX turns MSI-X off, if the function has it.
func (f *Function) DisableMSIX(c Config) {
	if m := f.MSIX; m != nil {
		c.Write16(m.Offset+msixControl, c.Read16(m.Offset+msixControl)&^msixEnable)
	}
}

// SetEntry reprograms entry i of the table (the register window of the
// table's BAR) to send msg, and leaves it unmasked. The entry is masked
// while it is written (PCI Local Bus 3.0 §6.8.2.9: changing an unmasked
// entry's address or data is undefined).
func (m *MSIX) SetEntry(table dev.Regs, i int, msg Message) error {
	if err := m.checkEntry(table, i); err != nil {
		return err
	}
	if err := checkMessage(msg, true); err != nil {
		return fmt.Errorf("pci: MSI-X entry %d: %w", i, err)
	}
	m.writeEntry(table, i, msg)
	return nil
}

// Mask masks (masked true) or unmasks entry i of the table.
func (m *MSIX) Mask(table dev.Regs, i int, masked bool) error {
	if err := m.checkEntry(table, i); err != nil {
		return err
	}
	m.setMasked(table, i, masked)
	return nil
}

func (m *MSIX) checkEntry(table dev.Regs, i int) error {
	if i < 0 || i >= m.TableSize {
		return fmt.Errorf("pci: MSI-X entry %d is outside the table of %d", i, m.TableSize)
	}
	return m.checkTable(table)
}

// checkTable makes sure the whole table is inside the window, so that no
// entry access can panic.
func (m *MSIX) checkTable(table dev.Regs) error {
	if end := uint64(m.TableOffset) + uint64(m.TableSize)*msixEntrySize; end > table.Len() {
		return fmt.Errorf("pci: MSI-X table ends at %#x, past the %#x-byte window given for BAR%d", end, table.Len(), m.TableBIR)
	}
	return nil
}

func (m *MSIX) entry(i int) uint64 { return uint64(m.TableOffset) + uint64(i)*msixEntrySize }

func (m *MSIX) writeEntry(table dev.Regs, i int, msg Message) {
	e := m.entry(i)
	m.setMasked(table, i, true)
	table.Write32(e+msixEntryAddr, uint32(msg.Addr))
	table.Write32(e+msixEntryAddrHi, uint32(msg.Addr>>32))
	table.Write32(e+msixEntryData, msg.Data)
	m.setMasked(table, i, false)
}

// setMasked changes only the Mask bit of the Vector Control register: the
// others are reserved and must be preserved (§6.8.2.9).
func (m *MSIX) setMasked(table dev.Regs, i int, masked bool) {
	off := m.entry(i) + msixEntryCtrl
	v := table.Read32(off)
	if masked {
		v |= msixEntryMasked
	} else {
		v &^= msixEntryMasked
	}
	table.Write32(off, v)
}
