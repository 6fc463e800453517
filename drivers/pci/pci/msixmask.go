package pci

import (
	"fmt"

	"valence.dev/drivers/lib/dev"
)

// EnableMSIXMasked enables MSI-X with every table entry masked, turning
// off MSI first (PCI Local Bus 3.0 §6.8.2: at most one may be enabled).
// It is how the PCI manager hands a function to its driver: the function
// can no longer assert INTx or MSI, and raises nothing until the driver
// writes an entry and unmasks it (MSIX.SetEntry). table is the register
// window of the whole BAR MSIX.TableBIR names, as for EnableMSIX.
//
// The table is checked before anything is written; the Function Mask bit
// is held while the entries are masked (§6.8.2.3) and cleared last, so
// no entry left unmasked by a previous owner can fire meanwhile.
func (f *Function) EnableMSIXMasked(c Config, table dev.Regs) error {
	m := f.MSIX
	if m == nil {
		return fmt.Errorf("pci: %v: MSI-X: %w", f.Addr, ErrNotCapable)
	}
	if err := m.checkTable(table); err != nil {
		return fmt.Errorf("pci: %v: %w", f.Addr, err)
	}
	f.DisableMSI(c)
	ctrl := c.Read16(m.Offset + msixControl)
	c.Write16(m.Offset+msixControl, ctrl|msixEnable|msixFunctionMask)
	for i := 0; i < m.TableSize; i++ {
		m.setMasked(table, i, true)
	}
	c.Write16(m.Offset+msixControl, (ctrl|msixEnable)&^msixFunctionMask)
	return nil
}
