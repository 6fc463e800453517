// Package nvme is the hosted-testable core of Valence's NVMe driver: it
// brings up one NVM Express controller over PCIe and drives namespace 1
// as a block.Device. It touches the device only through dev.Regs (BAR0),
// dev.DMA and one dev.IRQ, so the same code runs on QEMU's -device nvme
// inside Valence and on the fake controller of internal/fakenvme in
// hosted tests. Section numbers are those of the NVM Express Base
// Specification 2.0 unless another specification is named.
//
// # Bring-up (New)
//
// New follows §3.5.1: it reads CAP and refuses what it cannot drive
// (CAP.TO 0, MQES 0, no NVM Command Set, no 4 KiB pages, doorbells
// outside the BAR for the CAP.DSTRD stride); resets the controller
// (CC.EN=0, then CSTS.RDY=0 within CAP.TO×500 ms); places a 16-entry
// admin queue pair in DMA memory (AQA, ASQ, ACQ); writes CC with 64-byte
// SQ entries, 16-byte CQ entries, 4 KiB pages, round robin and the NVM
// Command Set, then enables it and waits for CSTS.RDY, failing at once
// on CSTS.CFS. It then starts the completion loop and the watchdog, and
// sends Identify Controller (CNS 01h), Identify Namespace 1 (CNS 00h),
// Set Features Number of Queues (FID 07h), Create I/O Completion Queue 1
// (interrupts on, vector 0) and Create I/O Submission Queue 1, of
// Options.QueueDepth entries bounded by CAP.MQES+1.
//
// # I/O
//
// Submit checks a request (range, MaxSectors, buffer bounds, dword
// alignment of the data address) and fails it through Done at once if
// it cannot be sent. Otherwise it builds a Read (02h), Write (01h) or
// Flush (00h) command with its PRPs (§4.1.1): PRP1 the data address,
// PRP2 the second page or, for more than two pages, a one-page PRP list
// from DMA memory. One list page bounds a request to 2 MiB; MaxSectors
// reports the lesser of that, MDTS and the 16-bit block count.
//
// A command waits in a queue's backlog until a command identifier (CID)
// is free, then is written into the SQ and the tail doorbell rung. The
// completion loop waits for the interrupt, consumes both completion
// queues' new entries by phase tag (§3.3.3.2), rings their CQ head
// doorbells, refills the SQs from the backlogs and acknowledges the
// interrupt; it calls Done outside the lock.
//
// # Invariants
//
// Under Controller.mu, for each queue of depth D:
//   - a CID is either free or names exactly one command in flight; at
//     most D-1 commands are in flight, so the CQ never overflows;
//   - the SQ entries the device has not consumed (tail - SQHD) never
//     outnumber the commands in flight, so a free CID always has a free
//     SQ slot;
//   - every command is finished exactly once: by its completion, by the
//     watchdog or a protocol error (controller failed), or by Close.
//
// CQ memory is read only between IRQ.Wait and IRQ.Ack; a PRP list is
// freed only when its command completed or the device is known stopped.
//
// # Never trusting the device
//
// Every value read from the device is checked before it sizes or
// indexes anything: CAP fields, Identify data (NSZE non-zero, LBA data
// size a power of two from 512 B to 64 KiB, no metadata, FLBAS within
// NLBAF, SQES/CQES, NN, MDTS), and each completion's SQID, CID (must be
// in flight: unknown and duplicate CIDs are caught) and SQHD (must lie
// between the last head and the tail). A violation, or a command
// outliving Options.CommandTimeout, fails the controller: the error
// names the device and the field or command (with CSTS and the
// doorbell), every outstanding request fails with it, the controller is
// disabled (CC.EN=0), and later requests fail at once. A late completion
// could not otherwise be told from a new one, and a device that might
// still move data must be stopped before its buffers are given back.
// Errors wrap ErrDevice, ErrUnsupported, ErrBadRequest, ErrClosed,
// ErrCommandFailed (*StatusError, with SCT/SC names) or dev.ErrTimeout.
//
// # Close
//
// Close fails requests still in the backlog, sends the normal shutdown
// notification (CC.SHN=01b) and waits for CSTS.SHST=10b (§3.6) while
// commands in flight may still complete, then disables the controller
// and fails what remains with ErrClosed. DMA memory is given back only
// once CSTS.RDY=0 shows the controller stopped; otherwise it is leaked
// on purpose and Close says so.
package nvme
