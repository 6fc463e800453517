package link

// Endpoint is the sending half of a network device.
type Endpoint interface {
	// MTU is the largest payload of a frame, excluding the Ethernet header.
	MTU() int
	// WriteFrame transmits one Ethernet frame. It must not retain frame.
	WriteFrame(frame []byte) error
}

// Device is a real network device: an Endpoint whose frames arrive by
// blocking reads.
type Device interface {
	Endpoint
	// ReadFrame blocks until a frame arrives and copies it into b.
	ReadFrame(b []byte) (int, error)
	// Close releases the device and ends blocked reads with an error.
	Close() error
}
