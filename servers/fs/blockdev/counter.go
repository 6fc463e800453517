package blockdev

import "sync"

// Counter is a Device that passes every request to another device and
// counts them, so that a test or benchmark can measure a change in
// requests, which is what costs on a real disk (and most of all under
// QEMU's TCG, where each is an IPC round trip and an NVMe command),
// rather than in host time. It is safe for concurrent use if the
// device it wraps is.
type Counter struct {
	Device

	mu sync.Mutex
	n  Counts
}

// Counts is what a Counter saw.
type Counts struct {
	Reads       uint64 // ReadAt requests
	ReadBlocks  uint64 // blocks they moved
	Writes      uint64 // WriteAt requests
	WriteBlocks uint64 // blocks they moved
	Flushes     uint64
}

// Requests is the number of requests of every kind.
func (c Counts) Requests() uint64 { return c.Reads + c.Writes + c.Flushes }

// Sub returns the counts since an earlier reading o.
func (c Counts) Sub(o Counts) Counts {
	return Counts{c.Reads - o.Reads, c.ReadBlocks - o.ReadBlocks, c.Writes - o.Writes, c.WriteBlocks - o.WriteBlocks, c.Flushes - o.Flushes}
}

// NewCounter counts the requests made to dev from now on.
func NewCounter(dev Device) *Counter { return &Counter{Device: dev} }

// ReadAt implements Device.
func (c *Counter) ReadAt(p []byte, block uint64) error {
	c.mu.Lock()
	c.n.Reads++
	c.n.ReadBlocks += uint64(len(p) / BlockSize)
	c.mu.Unlock()
	return c.Device.ReadAt(p, block)
}

// WriteAt implements Device.
func (c *Counter) WriteAt(p []byte, block uint64) error {
	c.mu.Lock()
	c.n.Writes++
	c.n.WriteBlocks += uint64(len(p) / BlockSize)
	c.mu.Unlock()
	return c.Device.WriteAt(p, block)
}

// Flush implements Device.
func (c *Counter) Flush() error {
	c.mu.Lock()
	c.n.Flushes++
	c.mu.Unlock()
	return c.Device.Flush()
}

// Counts returns the counts so far.
func (c *Counter) Counts() Counts {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}
