/* Dispatch data and I/O with Java destructors, handlers and appliers (jd_io.h). Compiled with -fblocks. */
#include "jd_io.h"

#include <string.h>

static jd_io_fn io_fn;
static jd_data_apply_fn apply_fn;

void jd_io_install(jd_io_fn io, jd_data_apply_fn apply) {
    io_fn = io;
    apply_fn = apply;
}

static void call_io(int64_t id, int32_t kind, bool done, dispatch_data_t data, int error) {
    jd_attach_current_thread();
    io_fn(id, kind, done ? 1 : 0, (intptr_t)data, error);
}

/* ---- dispatch_data_t ---------------------------------------------------------------------------------- */

dispatch_data_t jd_data_empty(void) {
    return dispatch_data_empty;
}

dispatch_data_t jd_data_create_copy(const void *bytes, size_t size) {
    return dispatch_data_create(bytes, size, NULL, DISPATCH_DATA_DESTRUCTOR_DEFAULT);
}

dispatch_data_t jd_data_create_nocopy(const void *bytes, size_t size, int64_t dispose_id) {
    return dispatch_data_create(bytes, size, NULL, ^{
        jd_task_trampoline((void *)(intptr_t)dispose_id);
    });
}

int32_t jd_data_apply(dispatch_data_t data, int64_t id) {
    return dispatch_data_apply(data, ^bool(dispatch_data_t region, size_t offset, const void *buffer, size_t size) {
        jd_attach_current_thread();
        return apply_fn(id, (intptr_t)region, (int64_t)offset, (intptr_t)buffer, (int64_t)size) != 0;
    }) ? 1 : 0;
}

dispatch_data_t jd_data_create_map(dispatch_data_t data, int64_t out[2]) {
    const void *buffer = NULL;
    size_t size = 0;
    dispatch_data_t map = dispatch_data_create_map(data, &buffer, &size);
    out[0] = (int64_t)(intptr_t)buffer;
    out[1] = (int64_t)size;
    return map;
}

dispatch_data_t jd_data_copy_region(dispatch_data_t data, size_t location, int64_t *offset) {
    size_t at = 0;
    dispatch_data_t region = dispatch_data_copy_region(data, location, &at);
    *offset = (int64_t)at;
    return region;
}

int64_t jd_data_copy_out(dispatch_data_t data, size_t offset, size_t length, void *dst, size_t dst_offset) {
    __block size_t copied = 0;
    char *out = (char *)dst + dst_offset;
    size_t end = offset + length;
    dispatch_data_apply(data, ^bool(dispatch_data_t region, size_t at, const void *buffer, size_t size) {
        (void)region;
        if (at + size <= offset) {
            return true; /* before the range */
        }
        size_t from = offset > at ? offset - at : 0;
        size_t to = end - at < size ? end - at : size;
        memcpy(out + (at + from - offset), (const char *)buffer + from, to - from);
        copied += to - from;
        return at + size < end;
    });
    return (int64_t)copied;
}

/* ---- dispatch_io_t ------------------------------------------------------------------------------------ */

/* The cleanup handler of a create, or NULL for none; libdispatch copies the block. */
#define CLEANUP(cleanup_id) ((cleanup_id) == 0 ? NULL : ^(int error) { \
        call_io((cleanup_id), JD_IO_CLEANUP, true, NULL, error); })

dispatch_io_t jd_io_create(uint64_t type, int fd, dispatch_queue_t queue, int64_t cleanup_id) {
    return dispatch_io_create((dispatch_io_type_t)type, fd, queue, CLEANUP(cleanup_id));
}

dispatch_io_t jd_io_create_with_path(uint64_t type, const char *path, int oflag, int mode, dispatch_queue_t queue,
                                     int64_t cleanup_id) {
    return dispatch_io_create_with_path((dispatch_io_type_t)type, path, oflag, (mode_t)mode, queue,
                                        CLEANUP(cleanup_id));
}

dispatch_io_t jd_io_create_with_io(uint64_t type, dispatch_io_t io, dispatch_queue_t queue, int64_t cleanup_id) {
    return dispatch_io_create_with_io((dispatch_io_type_t)type, io, queue, CLEANUP(cleanup_id));
}

void jd_io_read(dispatch_io_t channel, int64_t offset, uint64_t length, dispatch_queue_t queue, int64_t id) {
    dispatch_io_read(channel, (off_t)offset, (size_t)length, queue, ^(bool done, dispatch_data_t data, int error) {
        call_io(id, JD_IO_HANDLER, done, data, error);
    });
}

void jd_io_write(dispatch_io_t channel, int64_t offset, dispatch_data_t data, dispatch_queue_t queue, int64_t id) {
    dispatch_io_write(channel, (off_t)offset, data, queue, ^(bool done, dispatch_data_t rest, int error) {
        call_io(id, JD_IO_HANDLER, done, rest, error);
    });
}

void jd_io_barrier(dispatch_io_t channel, int64_t id) {
    dispatch_io_barrier(channel, ^{
        jd_task_trampoline((void *)(intptr_t)id);
    });
}

void jd_io_close(dispatch_io_t channel, uint64_t flags) {
    dispatch_io_close(channel, (dispatch_io_close_flags_t)flags);
}

int32_t jd_io_get_descriptor(dispatch_io_t channel) {
    return (int32_t)dispatch_io_get_descriptor(channel);
}

void jd_io_set_high_water(dispatch_io_t channel, uint64_t high_water) {
    dispatch_io_set_high_water(channel, (size_t)high_water);
}

void jd_io_set_low_water(dispatch_io_t channel, uint64_t low_water) {
    dispatch_io_set_low_water(channel, (size_t)low_water);
}

void jd_io_set_interval(dispatch_io_t channel, uint64_t interval, uint64_t flags) {
    dispatch_io_set_interval(channel, interval, (dispatch_io_interval_flags_t)flags);
}

void jd_read(int fd, uint64_t length, dispatch_queue_t queue, int64_t id) {
    dispatch_read(fd, (size_t)length, queue, ^(dispatch_data_t data, int error) {
        call_io(id, JD_IO_HANDLER, true, data, error);
    });
}

void jd_write(int fd, dispatch_data_t data, dispatch_queue_t queue, int64_t id) {
    dispatch_write(fd, data, queue, ^(dispatch_data_t rest, int error) {
        call_io(id, JD_IO_HANDLER, true, rest, error);
    });
}
