package netdev

import (
	"bytes"
	"context"
	"fmt"

	"valence.dev/drivers/lib/dev"
	"valence.dev/drivers/lib/virtio"
)

// Send transmits one Ethernet frame (destination, source, type, payload;
// no FCS), waiting for a free transmit buffer if all are in flight. The
// frame is copied; the caller may reuse it at once.
func (n *NIC) Send(ctx context.Context, frame []byte) error {
	if len(frame) < MinFrame || len(frame) > MaxFrame {
		return fmt.Errorf("virtio-net: frame of %d bytes, want %d to %d", len(frame), MinFrame, MaxFrame)
	}
	n.using.RLock()
	defer n.using.RUnlock()
	s, err := n.takeTxSlot(ctx)
	if err != nil {
		return err
	}
	buf, addr := n.slot(n.txMem, s)
	// §5.1.6.2: no checksum or segmentation offload, so flags 0 and
	// gso_type VIRTIO_NET_HDR_GSO_NONE; num_buffers is 0 on transmit.
	clear(buf[:HeaderLen])
	copy(buf[HeaderLen:], frame)
	if err := n.txq.Add([]virtio.Segment{{Addr: addr, Len: uint32(HeaderLen + len(frame))}}, s); err != nil {
		n.mu.Lock()
		n.txFree = append(n.txFree, s)
		n.mu.Unlock()
		n.deviceFailed(err)
		return fmt.Errorf("virtio-net: send: %w", err)
	}
	n.txq.Kick()
	n.mu.Lock()
	n.stats.TxFrames++
	n.mu.Unlock()
	return nil
}

// takeTxSlot returns a free transmit slot. There are as many slots as
// transmit descriptors and each frame takes one, so a slot in hand always
// fits in the queue.
func (n *NIC) takeTxSlot(ctx context.Context) (int, error) {
	for {
		n.mu.Lock()
		if n.err != nil {
			err := n.err
			n.mu.Unlock()
			return 0, err
		}
		if k := len(n.txFree); k > 0 {
			s := n.txFree[k-1]
			n.txFree = n.txFree[:k-1]
			n.mu.Unlock()
			return s, nil
		}
		n.mu.Unlock()
		if n.reclaimTx() > 0 {
			continue
		}
		select {
		case <-n.txFreed:
		case <-n.failed:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
}

// Receive returns the next frame received (without the virtio header),
// waiting for one until ctx is done or the NIC fails. Frames not yet
// received keep their buffers from the device, so a slow reader makes the
// device hold (or drop) frames rather than the driver.
func (n *NIC) Receive(ctx context.Context) ([]byte, error) {
	var f rxFrame
	select {
	case f = <-n.frames:
	default:
		select {
		case f = <-n.frames:
		case <-n.failed:
			return nil, n.Err()
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	n.using.RLock()
	defer n.using.RUnlock()
	if n.rxMem == nil {
		return nil, n.Err()
	}
	buf, _ := n.slot(n.rxMem, f.slot)
	// written ≤ slotSize: the queue refused larger lengths.
	frame := bytes.Clone(buf[HeaderLen:f.written])
	if err := n.postRx(f.slot); err != nil {
		n.deviceFailed(err)
	} else {
		n.rxq.Kick()
	}
	return frame, nil
}

func (n *NIC) queueInterrupt(index uint16) {
	switch index {
	case receiveq:
		n.receive()
	case transmitq:
		n.reclaimTx()
	}
}

// reclaimTx takes back the transmit slots the device has used and
// returns how many.
func (n *NIC) reclaimTx() int {
	used, err := n.txq.Harvest()
	if len(used) > 0 {
		n.mu.Lock()
		for _, u := range used {
			n.txFree = append(n.txFree, u.Token.(int))
		}
		n.mu.Unlock()
		select {
		case n.txFreed <- struct{}{}:
		default:
		}
	}
	if err != nil {
		n.deviceFailed(err)
	}
	return len(used)
}

// receive hands the frames the device has written to Receive
// (§5.1.6.4); Receive gives their buffers back.
func (n *NIC) receive() {
	used, err := n.rxq.Harvest()
	reposted := false
	for _, u := range used {
		i := u.Token.(int)
		if u.Written < HeaderLen {
			// Too short for a header: the device's fault, but not one
			// that touches memory it should not, so only counted.
			n.mu.Lock()
			n.stats.RxErrors++
			n.mu.Unlock()
			if perr := n.postRx(i); perr != nil {
				err = perr
				break
			}
			reposted = true
			continue
		}
		n.mu.Lock()
		n.stats.RxFrames++
		n.mu.Unlock()
		n.frames <- rxFrame{slot: i, written: u.Written}
	}
	if reposted {
		n.rxq.Kick()
	}
	if err != nil {
		n.deviceFailed(err)
	}
}

// configChanged serves a configuration change notification (§4.1.5.4):
// the link status may have changed, or the device may need a reset.
func (n *NIC) configChanged() {
	if err := n.t.CheckStatus(); err != nil {
		n.deviceFailed(err)
		return
	}
	if err := n.readConfig(); err != nil {
		n.deviceFailed(err)
	}
}

// deviceFailed stops the NIC after the device misbehaved or asked for a
// reset: the error becomes sticky and the device is reset, so that it
// stops using the rings and buffers. Reopening is the caller's choice.
func (n *NIC) deviceFailed(err error) {
	n.fail(err)
	n.t.Reset(context.Background())
}

// Close stops serving interrupts, resets the device and frees its memory.
// Send and Receive then return ErrClosed.
func (n *NIC) Close() error {
	n.mu.Lock()
	if n.stopped {
		n.mu.Unlock()
		return nil
	}
	n.stopped = true
	if n.err == nil {
		n.err = ErrClosed
		close(n.failed)
	}
	n.mu.Unlock()
	n.cancel()
	<-n.served
	n.using.Lock() // Sends and Receives in progress see ErrClosed and return
	defer n.using.Unlock()
	return n.release(context.Background())
}

// release resets the device, which frees the rings, then frees the frame
// buffers; if the reset fails the device may still write them, so they
// are kept.
func (n *NIC) release(ctx context.Context) error {
	if err := n.t.Close(ctx); err != nil {
		return fmt.Errorf("virtio-net: close: %w", err)
	}
	for _, b := range []**dev.Buffer{&n.rxMem, &n.txMem} {
		if *b != nil {
			n.dma.Free(*b)
			*b = nil
		}
	}
	return nil
}
