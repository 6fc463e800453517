package netdev

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"

	"valence.dev/drivers/lib/dev"
	"valence.dev/drivers/lib/virtio"
)

// Feature bits of the network device the driver uses (VIRTIO 1.2 §5.1.3).
const (
	FeatureMAC      = 1 << 5
	FeatureMRGRxBuf = 1 << 15 // not negotiated: every frame fits one buffer
	FeatureStatus   = 1 << 16
	wantFeatures    = FeatureMAC | FeatureStatus
	linkUp          = 1 // VIRTIO_NET_S_LINK_UP, §5.1.4
	configMAC       = 0 // offsets in struct virtio_net_config, §5.1.4
	configStatus    = 6
	receiveq        = 0 // §5.1.2: receiveq1, transmitq1
	transmitq       = 1
	maxQueueSize    = 256
	slotSize        = 2048 // one frame buffer: ≥ HeaderLen+MaxFrame (§5.1.6.3.1)
)

// HeaderLen is struct virtio_net_hdr with VIRTIO_F_VERSION_1 (§5.1.6):
// 12 bytes, num_buffers included.
const HeaderLen = 12

// MaxFrame is the largest Ethernet frame without its FCS (§5.1.6.3: 1514
// bytes without GUEST_TSO/UFO), MinFrame the smallest: a header.
const (
	MaxFrame = 1514
	MinFrame = 14
)

// ErrClosed is returned after Close.
var ErrClosed = errors.New("virtio-net: closed")

// Stats count what the driver did with frames.
type Stats struct {
	TxFrames, RxFrames uint64
	RxErrors           uint64 // used buffers too short to hold a header
}

// rxFrame is a received frame still in receive slot slot: written bytes,
// header included.
type rxFrame struct {
	slot    int
	written uint32
}

// NIC is an open virtio-net device: one receive and one transmit queue.
// Its methods are safe for concurrent use.
type NIC struct {
	t        *virtio.Transport
	dma      dev.DMA
	rxq, txq *virtio.Queue
	rxMem    *dev.Buffer // rxq.Size() slots of slotSize
	txMem    *dev.Buffer // txq.Size() slots of slotSize
	mac      [6]byte
	features uint64
	frames   chan rxFrame  // received frames waiting for Receive, still in their slots
	txFreed  chan struct{} // a transmit slot came back
	failed   chan struct{} // closed when err is set
	cancel   context.CancelFunc
	served   chan struct{}

	// using is held (read) by Send and Receive while they use frame
	// memory, and taken by Close before freeing it.
	using sync.RWMutex

	mu      sync.Mutex
	link    bool
	txFree  []int // free transmit slots
	stats   Stats
	err     error // sticky: device failure, or ErrClosed
	stopped bool
}

// Open initialises the device behind t (§3.1.1, §5.1.5) and starts
// serving its interrupts. dma provides the rings and frame buffers.
func Open(ctx context.Context, t *virtio.Transport, dma dev.DMA, irqs virtio.Interrupts) (*NIC, error) {
	n := &NIC{t: t, dma: dma, txFreed: make(chan struct{}, 1), failed: make(chan struct{}), served: make(chan struct{})}
	if err := n.init(ctx, irqs); err != nil {
		// Reset first so that the device stops using what was set up
		// and its memory can be freed, then say the driver gave up.
		n.release(ctx)
		t.Fail()
		return nil, fmt.Errorf("virtio-net: open: %w", err)
	}
	sctx, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	go func() {
		defer close(n.served)
		if err := t.Serve(sctx, virtio.Handler{Queue: n.queueInterrupt, Config: n.configChanged}); err != nil {
			n.fail(err)
		}
	}()
	return n, nil
}

func (n *NIC) init(ctx context.Context, irqs virtio.Interrupts) error {
	var err error
	if n.features, err = n.t.Negotiate(ctx, wantFeatures); err != nil {
		return err
	}
	if err = n.t.UseInterrupts(irqs); err != nil {
		return err
	}
	if err = n.readConfig(); err != nil {
		return err
	}
	if n.features&FeatureMAC == 0 {
		// §5.1.5: without VIRTIO_NET_F_MAC the driver makes up an
		// address: random, locally administered, unicast.
		rand.Read(n.mac[:])
		n.mac[0] = n.mac[0]&^1 | 2
	}
	if n.rxq, err = n.t.SetupQueue(receiveq, n.dma, maxQueueSize); err != nil {
		return err
	}
	if n.txq, err = n.t.SetupQueue(transmitq, n.dma, maxQueueSize); err != nil {
		return err
	}
	if n.rxMem, err = n.dma.Alloc(uint64(n.rxq.Size())*slotSize, 4096); err != nil {
		return err
	}
	if n.txMem, err = n.dma.Alloc(uint64(n.txq.Size())*slotSize, 4096); err != nil {
		return err
	}
	// A slot is in the channel at most once, so it never blocks.
	n.frames = make(chan rxFrame, n.rxq.Size())
	for i := range int(n.txq.Size()) {
		n.txFree = append(n.txFree, i)
	}
	// §5.1.6.3: keep the receive queue full. Buffers may be added before
	// DRIVER_OK; the device is notified only after it.
	for i := range int(n.rxq.Size()) {
		if err = n.postRx(i); err != nil {
			return err
		}
	}
	if err = n.t.Ready(); err != nil {
		return err
	}
	n.rxq.Kick()
	return nil
}

// readConfig reads the MAC address (if VIRTIO_NET_F_MAC) and link status
// (if VIRTIO_NET_F_STATUS; otherwise the link is taken to be up, §5.1.4).
func (n *NIC) readConfig() error {
	if n.features&(FeatureMAC|FeatureStatus) == 0 {
		n.setLink(true)
		return nil
	}
	if n.t.ConfigLen() < configStatus+2 {
		return fmt.Errorf("device configuration of %d bytes has no status: %w", n.t.ConfigLen(), virtio.ErrDevice)
	}
	var mac [6]byte
	var status uint16
	err := n.t.ReadConfig(func(cfg dev.Regs) {
		for i := range mac {
			mac[i] = cfg.Read8(configMAC + uint64(i))
		}
		status = cfg.Read16(configStatus)
	})
	if err != nil {
		return err
	}
	if n.features&FeatureMAC != 0 {
		n.mac = mac
	}
	n.setLink(n.features&FeatureStatus == 0 || status&linkUp != 0)
	return nil
}

func (n *NIC) setLink(up bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.link = up
}

func (n *NIC) slot(mem *dev.Buffer, i int) ([]byte, uint64) {
	off := i * slotSize
	return mem.Bytes[off : off+slotSize], mem.Addr + uint64(off)
}

// postRx makes receive slot i available to the device: one device-writable
// buffer for header and frame (no MRG_RXBUF: §5.1.6.3.1).
func (n *NIC) postRx(i int) error {
	_, addr := n.slot(n.rxMem, i)
	return n.rxq.Add([]virtio.Segment{{Addr: addr, Len: slotSize, Write: true}}, i)
}

// MAC returns the device's MAC address.
func (n *NIC) MAC() [6]byte { return n.mac }

// Features returns the features negotiated.
func (n *NIC) Features() uint64 { return n.features }

// LinkUp reports the link status as last read from the device.
func (n *NIC) LinkUp() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.link
}

// Stats returns the frame counters.
func (n *NIC) Stats() Stats {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.stats
}

// Err returns why the NIC stopped working, or nil.
func (n *NIC) Err() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.err
}

// fail records the first fatal error and wakes everyone waiting.
func (n *NIC) fail(err error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.err == nil {
		n.err = fmt.Errorf("virtio-net: %w", err)
		close(n.failed)
	}
}
