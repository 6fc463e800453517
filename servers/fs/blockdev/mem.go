package blockdev

// Mem is a Device held in memory. Flush does nothing: memory is as
// durable as it gets. The crash tests use Recorder on top of it to find
// out what a real medium could have lost.
type Mem struct {
	data []byte
}

// NewMem returns a zeroed device of the given number of blocks.
func NewMem(blocks uint64) *Mem {
	return &Mem{data: make([]byte, blocks*BlockSize)}
}

// MemFrom returns a device whose contents are image, rounded down to
// whole blocks. The device uses image itself, not a copy.
func MemFrom(image []byte) *Mem {
	return &Mem{data: image[:len(image)/BlockSize*BlockSize]}
}

// Bytes returns the device's contents (not a copy).
func (m *Mem) Bytes() []byte { return m.data }

// ReadAt implements Device.
func (m *Mem) ReadAt(p []byte, block uint64) error {
	if err := check(p, block, m.Blocks()); err != nil {
		return err
	}
	copy(p, m.data[block*BlockSize:])
	return nil
}

// WriteAt implements Device.
func (m *Mem) WriteAt(p []byte, block uint64) error {
	if err := check(p, block, m.Blocks()); err != nil {
		return err
	}
	copy(m.data[block*BlockSize:], p)
	return nil
}

// Flush implements Device.
func (m *Mem) Flush() error { return nil }

// Blocks implements Device.
func (m *Mem) Blocks() uint64 { return uint64(len(m.data) / BlockSize) }

// Overlay is a copy-on-write view of a base device: reads see the
// overlay's own writes first and the base beneath them, and writes never
// reach the base. A crash test mounts one overlay per cut point over a
// shared image instead of copying the image each time.
type Overlay struct {
	base    Device
	written map[uint64][]byte
}

// NewOverlay returns an overlay over base. base must not change while the
// overlay is in use.
func NewOverlay(base Device) *Overlay {
	return &Overlay{base: base, written: make(map[uint64][]byte)}
}

// ReadAt implements Device.
func (o *Overlay) ReadAt(p []byte, block uint64) error {
	if err := check(p, block, o.Blocks()); err != nil {
		return err
	}
	for i := 0; i < len(p); i += BlockSize {
		b := block + uint64(i/BlockSize)
		if data, ok := o.written[b]; ok {
			copy(p[i:i+BlockSize], data)
		} else if err := o.base.ReadAt(p[i:i+BlockSize], b); err != nil {
			return err
		}
	}
	return nil
}

// WriteAt implements Device.
func (o *Overlay) WriteAt(p []byte, block uint64) error {
	if err := check(p, block, o.Blocks()); err != nil {
		return err
	}
	for i := 0; i < len(p); i += BlockSize {
		b := block + uint64(i/BlockSize)
		data, ok := o.written[b]
		if !ok {
			data = make([]byte, BlockSize)
			o.written[b] = data
		}
		copy(data, p[i:i+BlockSize])
	}
	return nil
}

// Flush implements Device.
func (o *Overlay) Flush() error { return nil }

// Blocks implements Device.
func (o *Overlay) Blocks() uint64 { return o.base.Blocks() }
