// Package blockdev is the block-device interface the filesystem is
// written against, with the devices the host uses: a file-backed image
// (File), a device in memory (Mem), a copy-on-write view of another
// device (Overlay), a recording device for crash tests (Recorder and
// Replay), a block cache in front of any device (Cache), write-through
// or write-back, and a request counter for measurements (Counter).
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
// adapts it to this interface, with a write-back Cache in front of it.
// On the host, File is an image file, and its Flush is fdatasync(2),
// which flushes the host disk's write cache too; an image may be sparse,
// and blocks never written take no space.
//
// # The cache
//
// Cache (NewCache, NewCacheWith) keeps whole blocks in memory, up to a
// size, evicting the least recently used clean block. A read the cache
// holds entirely costs no request; otherwise each run of missing blocks
// is one request to the device (runs separated by a few cached blocks
// are joined, the cached ones read again but not believed), since on a
// real disk the number of requests, not their size, is what costs. A
// read whose first missing block is where the previous read from the
// device ended continues a sequential stream, and reads ahead of it, in
// the same request, a window that doubles with each such read up to
// CacheOptions.Readahead.
//
// Write-through (NewCache, or CacheOptions.WriteBack false): a write
// reaches the device before the cache, and a failed one drops its
// blocks, so the cache never holds data the device does not, nothing is
// ever dirty in it, and the durability contract above is the device's,
// unchanged. Under concurrent use it keeps that promise with a
// generation per stripe of blocks: a read caches what it fetched only
// if no write to those blocks was in flight or began while it was in
// the device, and a write updates the cache only if no other write to
// its blocks overlapped it (otherwise the device holds one of them, and
// the cache drops the block).
//
// Write-back (CacheOptions.WriteBack): a write only copies its blocks
// into the cache, dirty; a dirty block is never evicted, and every read
// sees it. Flush writes every dirty block to the device, each run of
// consecutive blocks as one request, issued in block order and up to
// CacheOptions.Writers at once, and then flushes the device. When a write would make more than
// CacheOptions.MaxDirty bytes dirty, the write first writes every dirty
// block back the same way, without the device flush (early writeback).
//
// Why this keeps the contract, and so every crash guarantee built on
// it: a write-back Cache is itself a Device that obeys the contract. A
// write it acknowledged and that was not followed by a successful Flush
// may be lost (it was only in memory), kept (written back early), or
// torn (by the device, during a writeback): the contract allows each. A
// block written twice before a writeback reaches the device once, with
// the second data, which is what a device that kept both writes would
// show. Unflushed writes reach the device in an order of the cache's
// choosing, which the contract allows too ("two unflushed writes may
// reach the medium in either order"). And Flush returns success only
// after every write that completed before it was written back and the
// device was flushed, so nothing acknowledged before a successful Flush
// is lost. The filesystem relies on nothing more (package fs, commit):
// it writes the new tree and bitmap, flushes, writes the superblock,
// flushes. The superblock is written only after a Flush, so nothing it
// refers to is still dirty when it is; it is itself dirty until the
// second Flush, whose writeback is one block. Blocks written after a
// commit's superblock (by the next transaction) may be written back
// early, in any order, before the next superblock: that is harmless
// because copy-on-write writes only to blocks free in the committed
// tree until the next superblock names them. The crash tests run with a
// write-back cache between the filesystem and the recording device, so
// power cuts there lose whatever was dirty.
//
// A failed writeback must not blur what is durable and what is not.
// Flush starts no more requests after one fails, and returns its error
// without flushing the device; the blocks not written stay dirty (so reads
// still see them) and the next Flush writes them again. A write that
// needs an early writeback that fails returns the error and caches
// nothing, so a device that keeps failing cannot make the dirty data
// grow without bound. (The filesystem stops at its first device error
// anyway; the image on the device is then as of its last commit.)
//
// Under concurrent use, writes, reads and writebacks share one lock for
// the cache's maps, held during no I/O; one writeback runs at a time
// (Cache.wb; its runs may be in the device together), and only a
// writeback cleans a block, and only if no write changed it while it
// was in the device (a version per dirty block).
// The devices Mem, Overlay and Recorder are not safe for concurrent
// use; File, Counter and Cache (over a safe device) are.
package blockdev
