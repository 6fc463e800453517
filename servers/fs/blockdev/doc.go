// Package blockdev is the block-device interface the filesystem is
// written against, with the devices the host uses: a file-backed image
// (File), a device in memory (Mem), a copy-on-write view of another
// device (Overlay), a recording device for crash tests (Recorder and
// Replay), and a write-through block cache in front of any device
// (Cache).
//
// # The contract
//
// A Device is an array of Blocks() blocks of BlockSize (4096) bytes.
// ReadAt and WriteAt move whole, consecutive blocks; a request that is
// not a multiple of the block size or runs past the end is refused
// before anything is transferred. Writes become durable only at the next
// successful Flush: until then a power cut may lose any of them, keep
// any of them, and tear any of them (leave some 512-byte sectors of a
// block new and the rest old). A write that completed before a Flush
// that returned is never lost. Nothing else is promised; in particular
// two unflushed writes may reach the medium in either order.
//
// That contract is the whole of what the filesystem's crash consistency
// rests on, so the crash tests model exactly it: Recorder logs every
// write and flush a workload issues, and Replay rebuilds the medium as a
// power cut at any point of the log would leave it, choosing which
// unflushed writes survive, which are lost and which are torn.
//
// In Valence fsd talks to the NVMe driver through the block protocol and
// adapts it to this interface, with a Cache in front of it. On the host, File is an image file, and
// its Flush is fdatasync(2), which flushes the host disk's write cache
// too; an image may be sparse, and blocks never written take no space.
//
// # The cache
//
// Cache (NewCache) keeps whole blocks in memory, up to a size, evicting
// the least recently used. A read the cache holds entirely costs no
// request; otherwise each run of missing blocks is one request to the
// device (runs separated by a few cached blocks are joined, the cached
// ones read again), since on a real disk the number of requests, not
// their size, is what costs. It is write-through: a write reaches the
// device before the cache, and a failed one drops its blocks, so the
// cache never holds data the device does not, nothing is ever dirty in
// it, and the durability contract above is the device's, unchanged.
// Under concurrent use it keeps that promise with a generation per
// stripe of blocks: a read caches what it fetched only if no write to
// those blocks was in flight or began while it was in the device, and
// a write updates the cache only if no other write to its blocks
// overlapped it (otherwise the device holds one of them, and the cache
// drops the block). The devices Mem, Overlay and Recorder are not safe
// for concurrent use; File and Cache (over a safe device) are.
package blockdev
