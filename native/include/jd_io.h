/*
 * Dispatch data and dispatch I/O (dispatch_data_create(3), dispatch_io_create(3), dispatch_read(3)) whose
 * destructors, handlers and appliers are Java code. Mapped by io.jdispatch.internal.IoNative; the API is
 * io.jdispatch.DispatchData and io.jdispatch.DispatchIO.
 *
 * libdispatch takes blocks here; jd_io.c builds them (it is compiled with -fblocks) and this header needs no
 * blocks, since the JNI code includes it. Each block calls one Java trampoline with a Handles id and integers
 * only (a pointer argument would make the JNI glue allocate before Java can catch anything):
 *   - jd_io_fn for the I/O handlers: kind JD_IO_HANDLER (a read or write handler: done, data, error; the
 *     last call has done = 1 and Java drops the id then) or JD_IO_CLEANUP (a channel's cleanup handler, once).
 *     `data` is a dispatch_data_t valid for the call only (NULL when libdispatch passes none).
 *   - jd_data_apply_fn for dispatch_data_apply's applier, on the calling thread: returns 1 to go on, 0 to stop.
 *   - a data destructor and an I/O barrier call the task trampoline (jdispatch.h) with a one-shot id.
 */
#ifndef JD_IO_H
#define JD_IO_H

#include "jdispatch.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Callback kinds of jd_io_fn. */
#define JD_IO_HANDLER 1
#define JD_IO_CLEANUP 2

typedef void (*jd_io_fn)(int64_t id, int32_t kind, int32_t done, intptr_t data, int32_t error);
typedef int32_t (*jd_data_apply_fn)(int64_t id, intptr_t region, int64_t offset, intptr_t buffer, int64_t size);
void jd_io_install(jd_io_fn io, jd_data_apply_fn apply);

/* ---- dispatch_data_t ---------------------------------------------------------------------------------- */

/* DISPATCH_DATA_EMPTY (a global object: retain and release do nothing). */
dispatch_data_t jd_data_empty(void);
/* dispatch_data_create(bytes, size, NULL, DISPATCH_DATA_DESTRUCTOR_DEFAULT): libdispatch copies the bytes now. */
dispatch_data_t jd_data_create_copy(const void *bytes, size_t size);
/*
 * dispatch_data_create(bytes, size, NULL, destructor) without a copy: the bytes must stay valid and unchanged
 * until the destructor, which libdispatch submits to a global queue once the data and every object made from
 * it are freed, calls the task trampoline with `dispose_id`. For size 0 it returns DISPATCH_DATA_EMPTY and the
 * destructor is submitted at once.
 */
dispatch_data_t jd_data_create_nocopy(const void *bytes, size_t size, int64_t dispose_id);
/* dispatch_data_apply with the Java applier `id`: 1 when every region was visited, 0 when it stopped. */
int32_t jd_data_apply(dispatch_data_t data, int64_t id);
/* dispatch_data_create_map: a contiguous data object (+1), its bytes and size in out[0], out[1]. */
dispatch_data_t jd_data_create_map(dispatch_data_t data, int64_t out[2]);
/* dispatch_data_copy_region: the region (+1) holding `location`, its offset in *offset. */
dispatch_data_t jd_data_copy_region(dispatch_data_t data, size_t location, int64_t *offset);
/* Copies `length` bytes from `offset` (both within the data: the caller checks) to dst + dst_offset; returns
 * the count. */
int64_t jd_data_copy_out(dispatch_data_t data, size_t offset, size_t length, void *dst, size_t dst_offset);

/* ---- dispatch_io_t ------------------------------------------------------------------------------------ */

/* dispatch_io_create*(...) with the cleanup handler `cleanup_id` (0: none); NULL when libdispatch refuses. */
dispatch_io_t jd_io_create(uint64_t type, int fd, dispatch_queue_t queue, int64_t cleanup_id);
dispatch_io_t jd_io_create_with_path(uint64_t type, const char *path, int oflag, int mode, dispatch_queue_t queue,
                                     int64_t cleanup_id);
dispatch_io_t jd_io_create_with_io(uint64_t type, dispatch_io_t io, dispatch_queue_t queue, int64_t cleanup_id);
/* dispatch_io_read / dispatch_io_write with the Java handler `id` (kind JD_IO_HANDLER). */
void jd_io_read(dispatch_io_t channel, int64_t offset, uint64_t length, dispatch_queue_t queue, int64_t id);
void jd_io_write(dispatch_io_t channel, int64_t offset, dispatch_data_t data, dispatch_queue_t queue, int64_t id);
/* dispatch_io_barrier with the one-shot Java task `id`. */
void jd_io_barrier(dispatch_io_t channel, int64_t id);
void jd_io_close(dispatch_io_t channel, uint64_t flags);
int32_t jd_io_get_descriptor(dispatch_io_t channel);
void jd_io_set_high_water(dispatch_io_t channel, uint64_t high_water);
void jd_io_set_low_water(dispatch_io_t channel, uint64_t low_water);
void jd_io_set_interval(dispatch_io_t channel, uint64_t interval, uint64_t flags);
/* dispatch_read / dispatch_write with the Java handler `id`: called once, kind JD_IO_HANDLER, done = 1. */
void jd_read(int fd, uint64_t length, dispatch_queue_t queue, int64_t id);
void jd_write(int fd, dispatch_data_t data, dispatch_queue_t queue, int64_t id);

#ifdef __cplusplus
}
#endif
#endif /* JD_IO_H */
