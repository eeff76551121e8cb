/*
 * The DriverKit shared-memory data queue (IODataQueueDispatchSource), byte-compatible with Apple's layout.
 * THE one place that states the layout; io.jdispatch.internal.DataQueueLayout mirrors it and NativeConstantsTest checks
 * that both agree (through jd_constant, jdispatch.h).
 *
 *   offset 0    +-----------------------------+
 *               | head   u32  (consumer only) |  byte offset into the entry area of the next entry to dequeue
 *          4    | tail   u32  (producer only) |  byte offset of the next free byte; may equal queueByteCount
 *          8    | needServicedCallback u8     |  set by a producer whose enqueue failed for lack of room
 *          9    | reserved, 119 bytes, zero   |
 *        128    +-----------------------------+
 *               | entries: queueByteCount B   |  each: u32 size (caller's, unrounded) + data padded to 4
 *               +-----------------------------+
 *
 * A wrapped entry is written at offset 0; when at least 4 bytes remain at the old tail the producer writes
 * the entry's rounded size there as a marker (it never fits, so the consumer also goes to offset 0).
 *
 * queueByteCount is NOT in the region (DriverKit does not store it): each process keeps its own trusted copy
 * in its jd_dataqueue descriptor, taken from Create or from the size of the region it maps
 * (fstat: st_size - 128). Everything read from the region (head, tail, sizes, the flag) is read once,
 * bounds-checked against that trusted count, and a bad value is kIOReturnError: never an access outside the
 * region, whatever the peer writes.
 *
 * Two layers:
 *  - jd_dq_core_*: the queue algorithm over a mapped region. Pure C11 atomics, no libdispatch, no syscalls
 *    (tests and the fuzzer call it directly).
 *  - jd_dq_*: IODataQueueDispatchSource: the region in shared memory another process can map, plus two
 *    doorbells (kernel objects) for DataAvailable and DataServiced, watched by libdispatch READ sources so
 *    that handlers run on a dispatch queue.
 *
 * How a second process attaches (see jd_dq_create / jd_dq_attach_path / jd_dq_send_fds / jd_dq_receive_fds):
 *  (a) by fds: the creator (memfd region, sealed against resizing, plus two eventfds) sends the three fds over
 *      a Unix socket with SCM_RIGHTS (jd_dq_send_fds); the peer calls jd_dq_receive_fds.
 *  (b) by path: the creator makes `<path>` (the region, O_EXCL, mode 0600) and two FIFOs `<path>.avail` and
 *      `<path>.serviced` (mode 0600) beside it, e.g. on /dev/shm or a volume shared by two containers; the
 *      peer calls jd_dq_attach_path(path). Queue size = file size - 128.
 * One producer and one consumer (single-producer single-consumer), as in DriverKit.
 */
#ifndef JD_DATAQUEUE_H
#define JD_DATAQUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- IOReturn codes (IOKit/IOReturn.h: iokit_common_err(x) = sys_iokit 0xE0000000 | sub_iokit_common 0 | x) -- */
typedef int32_t jd_ioreturn;
#define JD_IOKIT_COMMON_ERR(code) ((jd_ioreturn)(0xE0000000u | (uint32_t)(code)))
#ifndef kIOReturnSuccess
#define kIOReturnSuccess 0
#define kIOReturnError JD_IOKIT_COMMON_ERR(0x2bc)       /* general error; here: the shared region is corrupt */
#define kIOReturnNoMemory JD_IOKIT_COMMON_ERR(0x2bd)
#define kIOReturnBadArgument JD_IOKIT_COMMON_ERR(0x2c2)
#define kIOReturnVMError JD_IOKIT_COMMON_ERR(0x2c8)     /* misc. VM failure; here: a peer truncated the region */
#define kIOReturnNotReady JD_IOKIT_COMMON_ERR(0x2d8)
#define kIOReturnUnderrun JD_IOKIT_COMMON_ERR(0x2e7)    /* queue empty */
#define kIOReturnOverrun JD_IOKIT_COMMON_ERR(0x2e8)     /* no room */
#endif

/* ---- layout -------------------------------------------------------------------------------------------- */
#define JD_DQ_HEAD_OFFSET 0
#define JD_DQ_TAIL_OFFSET 4
#define JD_DQ_NEED_SERVICED_OFFSET 8
#define JD_DQ_RESERVED_OFFSET 9
#define JD_DQ_RESERVED_SIZE 119
#define JD_DQ_HEADER_SIZE 128
#define JD_DQ_ENTRY_HEADER_SIZE 4 /* GetDataQueueEntryHeaderSize */
#define JD_DQ_ENTRY_ALIGNMENT 4
/* Our limit (not DriverKit's): keeps every offset sum far from 32-bit overflow. */
#define JD_DQ_MAX_QUEUE_BYTE_COUNT (1u << 30)

#ifndef __cplusplus
struct jd_dq_header {
    _Atomic uint32_t head;
    _Atomic uint32_t tail;
    _Atomic uint8_t need_serviced_callback;
    uint8_t reserved[JD_DQ_RESERVED_SIZE];
};

_Static_assert(offsetof(struct jd_dq_header, head) == JD_DQ_HEAD_OFFSET, "head @0");
_Static_assert(offsetof(struct jd_dq_header, tail) == JD_DQ_TAIL_OFFSET, "tail @4");
_Static_assert(offsetof(struct jd_dq_header, need_serviced_callback) == JD_DQ_NEED_SERVICED_OFFSET, "flag @8");
_Static_assert(offsetof(struct jd_dq_header, reserved) == JD_DQ_RESERVED_OFFSET, "reserved @9");
_Static_assert(sizeof(struct jd_dq_header) == JD_DQ_HEADER_SIZE, "header is 128 bytes");
_Static_assert(sizeof(_Atomic uint32_t) == 4 && sizeof(_Atomic uint8_t) == 1, "lock-free plain-sized atomics");
#endif

/* Bytes an entry of `size` data bytes occupies: 4 + size rounded up to 4 (as 64-bit: never overflows). */
static inline uint64_t jd_dq_entry_size(uint64_t size) {
    return JD_DQ_ENTRY_HEADER_SIZE + ((size + (JD_DQ_ENTRY_ALIGNMENT - 1)) & ~(uint64_t)(JD_DQ_ENTRY_ALIGNMENT - 1));
}

/* ---- core: the algorithm over a mapped region ---------------------------------------------------------- */
typedef struct jd_dq_region {
    uint8_t *base;             /* the header; entries start at base + JD_DQ_HEADER_SIZE */
    uint32_t queue_byte_count; /* trusted: never read from the region */
} jd_dq_region;

/* Fills `data_size` bytes at `data` (the entry, in place). */
typedef void (*jd_dq_enqueue_block)(void *ctx, void *data, size_t data_size);
/* Reads an entry in place; `data` is valid only during the call. */
typedef void (*jd_dq_dequeue_block)(void *ctx, const void *data, size_t data_size);
/* Size of entry `index` of a batch (index 0, 1, ...); may be asked again for the same index. */
typedef uint32_t (*jd_dq_batch_size_fn)(void *ctx, uint32_t index);
/* Fills entry `index` of a batch in place. */
typedef void (*jd_dq_batch_enqueue_block)(void *ctx, uint32_t index, void *data, size_t data_size);

/* kIOReturnBadArgument unless 0 < queue_byte_count <= JD_DQ_MAX_QUEUE_BYTE_COUNT and a multiple of 4. */
jd_ioreturn jd_dq_check_queue_byte_count(uint64_t queue_byte_count);
/* Zeroes the header: empty queue, flag clear. Only when no peer is using the region (creation, recovery). */
void jd_dq_core_reset(const jd_dq_region *r);

/*
 * The notification flags (*send_data_available, *send_data_serviced) follow DriverKit's coalescing contract:
 * the caller sets its flag to false, makes one or more calls with it, then sends the notification once if the
 * flag is true. A call only ever sets the flag to true; it never clears it.
 *
 * Corrupt header (a peer wrote an impossible head, tail or size): where we differ from DriverKit, and why. We
 * never read or write outside the region and never hand the block bytes that are not one published entry, so
 * we return kIOReturnError in cases where DriverKit's code (which checks head, and each size, against
 * queueByteCount only) does not:
 *  - dequeue/peek with head == tail but either beyond queueByteCount: DriverKit kIOReturnUnderrun.
 *  - dequeue/peek with tail beyond queueByteCount, an entry that reaches past tail, a wrap to offset 0 while
 *    head < tail, or a wrapped entry at 0 that reaches past tail: DriverKit reads on (hands the block those
 *    bytes and moves head, possibly past tail).
 *  - enqueue with head or tail beyond queueByteCount: DriverKit kIOReturnUnderrun (neither writes anything).
 * With head less than 4 bytes before the end DriverKit reads a size there, past the entries; we go to offset
 * 0 without reading it. The other way round, a size at head whose rounding overflows 32 bits is
 * kIOReturnError for DriverKit; for us it is a size that does not fit before the end, so a wrap (checked as
 * above). kIOReturnError rather than kIOReturnUnderrun so that a corrupt queue is never taken for an empty one.
 */

/* *send_data_available set when the queue went from empty to non-empty, or on overrun (wake the consumer). */
jd_ioreturn jd_dq_core_enqueue(const jd_dq_region *r, uint32_t size, jd_dq_enqueue_block block, void *ctx,
                               bool *send_data_available);
/*
 * Our extension (DriverKit has none): up to `max` entries, written where `max` enqueues would put them, but
 * tail is stored and the full fence of the rules (enqueue step 5: most of an enqueue's cost) issued once, when
 * the batch ends; a DriverKit consumer just sees tail move in larger steps. When no room is left it reads head
 * again and goes on if the consumer made room. Returns kIOReturnSuccess (*count == max), kIOReturnOverrun when
 * it stopped for room (*count may be > 0; needServicedCallback set), kIOReturnError on a corrupt head/tail
 * (the *count entries before it are published), or kIOReturnBadArgument when max is 0.
 * *send_data_available as for enqueue, for the batch as a whole.
 */
jd_ioreturn jd_dq_core_enqueue_batch(const jd_dq_region *r, uint32_t max, jd_dq_batch_size_fn size_of,
                                     jd_dq_batch_enqueue_block block, void *ctx, uint32_t *count,
                                     bool *send_data_available);
/*
 * *send_data_serviced set when needServicedCallback is set (a producer ran out of room), also on underrun. The
 * dequeue only reports it: the flag in the region stays set until SendDataServiced clears it
 * (jd_dq_core_clear_need_serviced). block may be NULL.
 */
jd_ioreturn jd_dq_core_dequeue(const jd_dq_region *r, jd_dq_dequeue_block block, void *ctx, bool *send_data_serviced);
/* SendDataServiced's part in the region: clears needServicedCallback (before the doorbell rings). */
void jd_dq_core_clear_need_serviced(const jd_dq_region *r);
/*
 * Our extension (DriverKit has none): up to `max` entries in order, as `max` dequeues would, but head is
 * stored once, when the batch ends, and tail is read only when the entries already seen run out. The peer
 * then touches the shared header line once per batch instead of once per entry (head and tail share a cache
 * line in this layout). Returns kIOReturnSuccess with *count >= 1, kIOReturnUnderrun (*count == 0) when
 * empty, kIOReturnError when it meets a corrupt head/tail/size (*count entries before it were dequeued), or
 * kIOReturnBadArgument when max is 0.
 */
jd_ioreturn jd_dq_core_dequeue_batch(const jd_dq_region *r, uint32_t max, jd_dq_dequeue_block block, void *ctx,
                                     uint32_t *count, bool *send_data_serviced);
jd_ioreturn jd_dq_core_peek(const jd_dq_region *r, jd_dq_dequeue_block block, void *ctx);
bool jd_dq_core_is_data_available(const jd_dq_region *r);
/* Would `count` entries of `size` bytes fit now? Bad (corrupt) indices: false. */
bool jd_dq_core_can_enqueue(const jd_dq_region *r, uint32_t size, uint32_t count);

/* ---- IODataQueueDispatchSource ------------------------------------------------------------------------- */
#ifndef JD_DQ_NO_DISPATCH
#include <dispatch/dispatch.h>

typedef struct jd_dataqueue jd_dataqueue;

/* What a handler is called for. One function + context per handler (Java passes a trampoline and an id). */
enum { JD_DQ_EVENT_DATA_AVAILABLE = 1, JD_DQ_EVENT_DATA_SERVICED = 2, JD_DQ_EVENT_COMPLETION = 3 };
typedef void (*jd_dq_handler_fn)(void *ctx, int32_t event);

/*
 * Create: a new, empty queue of queue_byte_count bytes whose handlers run on `queue` (retained).
 * path NULL: an anonymous memfd (sealed: it can never shrink or grow) and two eventfds; a peer attaches with
 * the fds (jd_dq_send_fds). path set: the region file (O_CREAT|O_EXCL, 0600) and the FIFOs <path>.avail and
 * <path>.serviced (0600); a peer attaches with jd_dq_attach_path. status[0] = IOReturn, status[1] = errno of a
 * failed system call (0 if none). Returns NULL on failure.
 */
jd_dataqueue *jd_dq_create(uint32_t queue_byte_count, dispatch_queue_t queue, const char *path, int32_t status[2]);
/* The second process: maps an existing queue by path (size from the file) or by fds (dup'ed: the caller keeps its own). */
jd_dataqueue *jd_dq_attach_path(const char *path, dispatch_queue_t queue, int32_t status[2]);
jd_dataqueue *jd_dq_attach_fds(int memory_fd, int data_available_fd, int data_serviced_fd, dispatch_queue_t queue,
                               int32_t status[2]);
/* Route (a): send the region and doorbell fds over a connected Unix socket; the peer receives them. -errno on failure. */
int jd_dq_send_fds(jd_dataqueue *q, int socket_fd);
jd_dataqueue *jd_dq_receive_fds(int socket_fd, dispatch_queue_t queue, int32_t status[2]);
/*
 * The same over a Unix socket path, for callers without a connected socket (Java): jd_dq_receive_fds_at listens
 * at socket_path (it must not exist; created owner-only and removed again), waits up to timeout_ms for one
 * sender and receives; jd_dq_send_fds_to connects to socket_path, retrying while nobody listens there yet
 * (ENOENT, ECONNREFUSED) for up to timeout_ms, and sends. Each side checks that the other runs as the same
 * user (SO_PEERCRED; EACCES otherwise). ETIMEDOUT when the time is up. Send: 0 or -errno.
 */
int jd_dq_send_fds_to(jd_dataqueue *q, const char *socket_path, int32_t timeout_ms);
jd_dataqueue *jd_dq_receive_fds_at(const char *socket_path, int32_t timeout_ms, dispatch_queue_t queue,
                                   int32_t status[2]);
/* For the creator with a path: removes the region file and the FIFOs from the file system (mappings stay). */
int jd_dq_unlink(const char *path);
/* What errno status[1] means for a create or attach, when the caller can act on it: ": the path exists: ..."
 * (to follow jd_errno_text), or "". */
const char *jd_dq_explain(int32_t errnum);

/*
 * Is the other process still attached? 1 yes, 0 no (it closed the queue or died, even by SIGKILL), -errno.
 * Each descriptor holds a lock on one of two attachment slots (see jd_dataqueue.c); a third attach fails with
 * kIOReturnNotReady, errno EBUSY. Recovery after a peer died: see README, "Data queue".
 */
int jd_dq_peer_attached(jd_dataqueue *q);

/* free: cancels the handlers and releases everything once the cancellation has taken effect. */
void jd_dq_free(jd_dataqueue *q);

const jd_dq_region *jd_dq_region_of(jd_dataqueue *q);
uint32_t jd_dq_queue_byte_count(jd_dataqueue *q);
/* The region's fd and the doorbells. */
int jd_dq_memory_fd(jd_dataqueue *q);

/*
 * A peer that truncates a path region's file takes its pages away: an access would be a SIGBUS. Every mapping
 * of a region is guarded (jd_dataqueue_guard.c): such a fault is repaired with private zero pages, and every
 * operation that finds its mapping faulted returns kIOReturnVMError (is_data_available and can_enqueue_data:
 * false; jd_dq_truncated says which). A SIGBUS anywhere else goes to the handler installed before ours.
 */
typedef struct jd_dq_mapping jd_dq_mapping;
/* True once an access to q's region faulted: the file was truncated (by a peer) under the mapping. */
bool jd_dq_truncated(jd_dataqueue *q);
/* The region's size now (fstat; it shrinks when a peer truncates the file), or -errno. */
int64_t jd_dq_region_file_size(jd_dataqueue *q);
/* Another guarded mapping of q's region, for a second reader in this process (the Java side), independent of
   q (it outlives jd_dq_free). NULL on failure (errno). */
jd_dq_mapping *jd_dq_map_region(jd_dataqueue *q);
void *jd_dq_mapping_base(jd_dq_mapping *m);
/* The mapping's fault count: 0 until an access to it faulted. Read it after the accesses it is to judge. */
const volatile uint32_t *jd_dq_mapping_faults(jd_dq_mapping *m);
/* Unregisters and unmaps; m is invalid afterwards. */
void jd_dq_unmap_region(jd_dq_mapping *m);

/* Enqueue is exactly: send = false; jd_dq_enqueue_with_coalesce(&send); if (send) jd_dq_send_data_available(). */
jd_ioreturn jd_dq_enqueue(jd_dataqueue *q, uint32_t size, jd_dq_enqueue_block block, void *ctx);
/* Sets *send_data_available (never clears it): see the coalescing contract above jd_dq_core_enqueue. */
jd_ioreturn jd_dq_enqueue_with_coalesce(jd_dataqueue *q, uint32_t size, bool *send_data_available,
                                        jd_dq_enqueue_block block, void *ctx);
/* Sends DataAvailable itself when the batch calls for it. */
jd_ioreturn jd_dq_enqueue_batch(jd_dataqueue *q, uint32_t max, jd_dq_batch_size_fn size_of,
                                jd_dq_batch_enqueue_block block, void *ctx, uint32_t *count);
/* Dequeue is exactly: send = false; jd_dq_dequeue_with_coalesce(&send); if (send) jd_dq_send_data_serviced().
 * Dequeue, dequeue_batch and peek on a corrupt region: kIOReturnError (how this differs from DriverKit: above
 * jd_dq_core_enqueue). */
jd_ioreturn jd_dq_dequeue(jd_dataqueue *q, jd_dq_dequeue_block block, void *ctx);
/* Sets *send_data_serviced (never clears it); leaves needServicedCallback set for jd_dq_send_data_serviced. */
jd_ioreturn jd_dq_dequeue_with_coalesce(jd_dataqueue *q, bool *send_data_serviced, jd_dq_dequeue_block block, void *ctx);
jd_ioreturn jd_dq_dequeue_batch(jd_dataqueue *q, uint32_t max, jd_dq_dequeue_block block, void *ctx, uint32_t *count);
jd_ioreturn jd_dq_peek(jd_dataqueue *q, jd_dq_dequeue_block block, void *ctx);
bool jd_dq_is_data_available(jd_dataqueue *q);
bool jd_dq_can_enqueue_data(jd_dataqueue *q, uint32_t size, uint32_t count);
uint32_t jd_dq_get_data_queue_entry_header_size(void);

/*
 * Handlers run on the queue given at creation, from a READ source on the doorbell. Installing a
 * DataAvailable handler while data is queued makes it fire at once. fn NULL removes the handler.
 * kIOReturnNotReady after Cancel.
 */
jd_ioreturn jd_dq_set_data_available_handler(jd_dataqueue *q, jd_dq_handler_fn fn, void *ctx);
jd_ioreturn jd_dq_set_data_serviced_handler(jd_dataqueue *q, jd_dq_handler_fn fn, void *ctx);
/* Ring the doorbells (the other process's handler runs). SendDataServiced first clears needServicedCallback. */
jd_ioreturn jd_dq_send_data_available(jd_dataqueue *q);
jd_ioreturn jd_dq_send_data_serviced(jd_dataqueue *q);
/* Run this process's handler now, as the source would. */
void jd_dq_data_available(jd_dataqueue *q);
void jd_dq_data_serviced(jd_dataqueue *q);
/*
 * Stops / restarts delivering handlers; completion(ctx, JD_DQ_EVENT_COMPLETION) runs on the queue once it took
 * effect: for enable false, after every handler that had started returned, and no handler starts after it
 * (also on a concurrent queue) until enabled again.
 */
jd_ioreturn jd_dq_set_enable_with_completion(jd_dataqueue *q, bool enable, jd_dq_handler_fn completion, void *ctx);
/* No handler runs after the completion (which runs on the queue). Idempotent; later calls still complete. */
jd_ioreturn jd_dq_cancel(jd_dataqueue *q, jd_dq_handler_fn completion, void *ctx);
/* Rings a doorbell fd (eventfd or FIFO). 0 or -errno. */
int jd_dq_ring(int fd);
#endif

#ifdef __cplusplus
}
#endif
#endif /* JD_DATAQUEUE_H */
