package obj

import (
	"errors"
	"sync"

	"valence.dev/microkernel/dma"
	"valence.dev/microkernel/klog"
	"valence.dev/microkernel/mm"
)

// MaxMemory bounds one memory object.
const MaxMemory = 256 << 20

// ErrNoMemory is returned when frames run out.
var ErrNoMemory = errors.New("obj: out of memory")

// Memory is a memory object: frames that can be mapped into address spaces.
type Memory struct {
	ID   uint64
	Size uint64

	// Device objects name a device's registers: their frames are not RAM,
	// are never freed, and are mapped uncached. DMA objects are contiguous
	// RAM whose physical address the holder may learn (Phys).
	Device, DMA bool

	dom *dma.Domain // DMA memory mapped into a function's IOMMU domain

	mu       sync.Mutex
	frames   []uint64
	mappings int
	capsGone bool
	freed    bool
	onFree   func() // the creator's uncharge (see NewMemory)
}

// NewMemory allocates a zeroed memory object of size bytes (rounded up to
// pages). onFree, if not nil, runs once when the frames are freed: the
// object is charged to its creator until then, whoever holds it.
//
// The frames are user memory: they never come from the kernel's reserve
// (mm/reserve.go), and an object that cannot be had whole is refused
// before any frame is taken, so a failed request does not squeeze others.
func NewMemory(size uint64, onFree func()) (*Memory, error) {
	if size == 0 || size > MaxMemory {
		return nil, errors.New("obj: bad memory object size")
	}
	n := (size + mm.PageSize - 1) / mm.PageSize
	if mm.UserFreeFrames() < n {
		return nil, ErrNoMemory
	}
	m := &Memory{ID: NewID(), Size: n * mm.PageSize, frames: make([]uint64, 0, n), onFree: onFree}
	fl := mm.Lock()
	for i := uint64(0); i < n; i++ {
		pa, ok := mm.AllocUserFrame()
		if !ok {
			for _, f := range m.frames {
				mm.FreeFrame(f)
			}
			mm.Unlock(fl)
			return nil, ErrNoMemory
		}
		m.frames = append(m.frames, pa)
	}
	mm.Unlock(fl)
	memoryFrames.Add(int64(n))
	return m, nil
}

// NewDeviceMemory returns an object over the device registers at
// [pa, pa+size), which the caller has checked (mm.CheckDeviceRange).
func NewDeviceMemory(pa, size uint64) (*Memory, error) {
	if size == 0 || size > MaxMemory || pa&(mm.PageSize-1) != 0 || size&(mm.PageSize-1) != 0 {
		return nil, errors.New("obj: bad device memory range")
	}
	m := &Memory{ID: NewID(), Size: size, Device: true, frames: make([]uint64, size/mm.PageSize)}
	for i := range m.frames {
		m.frames[i] = pa + uint64(i)*mm.PageSize
	}
	return m, nil
}

// MaxDMA bounds one DMA object: physically contiguous memory is scarce.
const MaxDMA = 4 << 20

// NewDMAMemory allocates size bytes (rounded up to pages) of zeroed,
// physically contiguous memory for a device to reach by DMA; onFree is as
// for NewMemory. With dom (an IOMMU domain, retained by the caller for the
// object), the frames are mapped into it at their physical addresses, and
// unmapped before they are freed.
func NewDMAMemory(size uint64, onFree func(), dom *dma.Domain) (*Memory, error) {
	if size == 0 || size > MaxDMA {
		return nil, errors.New("obj: bad DMA memory size")
	}
	n := (size + mm.PageSize - 1) / mm.PageSize
	fl := mm.Lock()
	pa, ok := mm.AllocUserContig(n)
	mm.Unlock(fl)
	if !ok {
		return nil, ErrNoMemory
	}
	if dom != nil {
		if err := dom.Map(pa, n); err != nil {
			fl := mm.Lock()
			for i := uint64(0); i < n; i++ {
				mm.FreeFrame(pa + i*mm.PageSize)
			}
			mm.Unlock(fl)
			return nil, ErrNoMemory
		}
	}
	m := &Memory{ID: NewID(), Size: n * mm.PageSize, DMA: true, frames: make([]uint64, n), onFree: onFree, dom: dom}
	for i := range m.frames {
		m.frames[i] = pa + uint64(i)*mm.PageSize
	}
	memoryFrames.Add(int64(n))
	return m, nil
}

// Phys returns the physical address of byte off of a DMA object.
func (m *Memory) Phys(off uint64) (uint64, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.DMA || m.freed || off >= m.Size {
		return 0, false
	}
	return m.frames[off/mm.PageSize] + off%mm.PageSize, true
}

// Frames returns the object's frames for mapping, and takes a mapping
// reference that the returned release function drops.
func (m *Memory) Frames() ([]uint64, func(), bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.freed {
		return nil, nil, false
	}
	m.mappings++
	var once sync.Once
	return m.frames, func() { once.Do(m.unmapped) }, true
}

func (m *Memory) unmapped() {
	m.mu.Lock()
	m.mappings--
	free := m.mappings == 0 && m.capsGone
	m.mu.Unlock()
	if free {
		m.free()
	}
}

// CapsGone tells the object its last capability was removed.
func (m *Memory) CapsGone() {
	m.mu.Lock()
	m.capsGone = true
	free := m.mappings == 0
	m.mu.Unlock()
	if free {
		m.free()
	}
}

func (m *Memory) free() {
	m.mu.Lock()
	if m.freed {
		m.mu.Unlock()
		return
	}
	m.freed = true
	frames := m.frames
	m.frames = nil
	onFree := m.onFree
	m.onFree = nil
	m.mu.Unlock()
	if m.Device {
		return // the device's registers: nothing to give back
	}
	if m.dom != nil {
		// No device may reach the frames once they are someone else's.
		err := m.dom.Unmap(frames[0], uint64(len(frames)))
		m.dom.Release()
		if err != nil {
			klog.Printf("%v: %d frames at %#x are kept out of use", err, len(frames), frames[0])
			return
		}
	}
	fl := mm.Lock()
	for _, f := range frames {
		mm.FreeFrame(f)
	}
	mm.Unlock(fl)
	memoryFrames.Add(-int64(len(frames)))
	if onFree != nil {
		onFree()
	}
}

var memoryFrames counter

type counter struct {
	mu sync.Mutex
	n  int64
}

func (c *counter) Add(d int64) {
	c.mu.Lock()
	c.n += d
	c.mu.Unlock()
}

// MemoryFrames returns the frames held by memory objects.
func MemoryFrames() int64 {
	memoryFrames.mu.Lock()
	defer memoryFrames.mu.Unlock()
	return memoryFrames.n
}
