package dma

import (
	"valence.dev/microkernel/clock"
	"valence.dev/microkernel/iommu"
	"valence.dev/microkernel/klog"
	"valence.dev/microkernel/rt"
)

// startFaults routes the unit's fault event to an MSI vector of the
// kernel's and serves it in a goroutine.
func startFaults(u *iommu.Unit) error {
	line, addr, data, err := rt.AllocMSI()
	if err != nil {
		return err
	}
	mu.Lock()
	u.SetFaultEvent(addr, data)
	mu.Unlock()
	go serveFaults(u, line)
	return nil
}

// faultLogEvery bounds the fault log: a device in a DMA loop faults as
// fast as it can.
const faultLogEvery = 1_000_000_000 // ns

func serveFaults(u *iommu.Unit, line int) {
	var buf [16]iommu.Fault
	var lastLog int64
	dropped := 0
	for {
		seq := rt.IRQSeq()
		if rt.TakeIRQ(line) > 0 {
			mu.Lock()
			faults, overflow := u.Faults(buf[:0])
			mu.Unlock()
			for _, f := range faults {
				fn := uint16(f.Bus)<<8 | uint16(f.Device)<<3 | uint16(f.Function)
				if now := clock.Monotonic(); now-lastLog >= faultLogEvery || lastLog == 0 {
					if dropped > 0 {
						klog.Printf("dma: %d more DMA faults not logged", dropped)
					}
					klog.Printf("dma: DMA fault: %s", f)
					lastLog, dropped = now, 0
				} else {
					dropped++
				}
				if OnFault != nil {
					OnFault(fn, f)
				}
			}
			if overflow {
				klog.Printf("dma: the IOMMU's fault log overflowed: faults were lost")
			}
		}
		rt.WaitIRQ(seq)
	}
}
