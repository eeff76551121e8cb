/*
 * The one table of every number C and Java share, by its C name: Java reads the internal ones at load time
 * (io.jdispatch.internal.NativeLibrary.constant) and NativeConstantsTest compares each public Java constant
 * (IOReturn, DataQueueLayout, the DispatchSource masks, the DispatchWorkItem flags, DispatchTime, QoSClass,
 * DispatchQueue.AutoreleaseFrequency, DispatchIO) with its row here.
 */
#include "jdispatch.h"
#include "jd_dataqueue.h"
#include "jd_io.h"
#include "jd_loop.h"
#include "jd_source.h"
#include "jd_workloop.h"

#include <fcntl.h>
#include <stdint.h>
#include <string.h>

#define ROW(name) {#name, (int64_t)(name)}

static const struct {
    const char *name;
    int64_t value;
} constants[] = {
    /* <dispatch/time.h> */
    ROW(DISPATCH_TIME_NOW), ROW(DISPATCH_TIME_FOREVER),
    /* qos_class_t (jdispatch.h on Linux) */
    ROW(QOS_CLASS_USER_INTERACTIVE), ROW(QOS_CLASS_USER_INITIATED), ROW(QOS_CLASS_DEFAULT), ROW(QOS_CLASS_UTILITY),
    ROW(QOS_CLASS_BACKGROUND), ROW(QOS_MIN_RELATIVE_PRIORITY),
    /* <dispatch/queue.h>: dispatch_autorelease_frequency_t */
    ROW(DISPATCH_AUTORELEASE_FREQUENCY_INHERIT), ROW(DISPATCH_AUTORELEASE_FREQUENCY_WORK_ITEM),
    ROW(DISPATCH_AUTORELEASE_FREQUENCY_NEVER),
    /* <dispatch/source.h>: the mask and data bits of dispatch_source_create(3) */
    ROW(DISPATCH_MACH_SEND_DEAD),
    ROW(DISPATCH_MEMORYPRESSURE_NORMAL), ROW(DISPATCH_MEMORYPRESSURE_WARN), ROW(DISPATCH_MEMORYPRESSURE_CRITICAL),
    ROW(DISPATCH_PROC_EXIT), ROW(DISPATCH_PROC_FORK), ROW(DISPATCH_PROC_EXEC), ROW(DISPATCH_PROC_SIGNAL),
    ROW(DISPATCH_VNODE_DELETE), ROW(DISPATCH_VNODE_WRITE), ROW(DISPATCH_VNODE_EXTEND), ROW(DISPATCH_VNODE_ATTRIB),
    ROW(DISPATCH_VNODE_LINK), ROW(DISPATCH_VNODE_RENAME), ROW(DISPATCH_VNODE_REVOKE), ROW(DISPATCH_VNODE_FUNLOCK),
    ROW(DISPATCH_TIMER_STRICT),
    /* <dispatch/block.h>: dispatch_block_flags_t (declared with blocks on: jdcore builds with -fblocks) */
    ROW(DISPATCH_BLOCK_BARRIER), ROW(DISPATCH_BLOCK_DETACHED), ROW(DISPATCH_BLOCK_ASSIGN_CURRENT),
    ROW(DISPATCH_BLOCK_NO_QOS_CLASS), ROW(DISPATCH_BLOCK_INHERIT_QOS_CLASS), ROW(DISPATCH_BLOCK_ENFORCE_QOS_CLASS),
    /* <dispatch/io.h>: channel types, close and interval flags; SIZE_MAX (read to the end) and open(2)'s flags,
     * as dispatch_io_read and dispatch_io_create_with_path take them */
    ROW(DISPATCH_IO_STREAM), ROW(DISPATCH_IO_RANDOM), ROW(DISPATCH_IO_STOP), ROW(DISPATCH_IO_STRICT_INTERVAL),
    ROW(SIZE_MAX), ROW(O_RDONLY), ROW(O_WRONLY), ROW(O_RDWR), ROW(O_CREAT), ROW(O_TRUNC), ROW(O_APPEND), ROW(O_EXCL),
    /* jd_io.h: callback kinds of the I/O trampoline */
    ROW(JD_IO_HANDLER), ROW(JD_IO_CLEANUP),
    /* jd_loop.h: what an event of a DispatchChannel loop reports */
    ROW(JD_LOOP_IN), ROW(JD_LOOP_OUT), ROW(JD_LOOP_HANGUP), ROW(JD_LOOP_WAKE_ID), ROW(JD_LOOP_BATCH),
    /* jd_source.h: callback kinds and jd_source_create's PROC flags */
    ROW(JD_SOURCE_EVENT), ROW(JD_SOURCE_CANCEL), ROW(JD_SOURCE_REGISTRATION),
    ROW(JD_PROC_EXISTED), ROW(JD_PROC_EXITED),
    /* jd_dataqueue.h: the completion's callback kind (handlers need none), the layout, IOKit's return codes */
    ROW(JD_DQ_EVENT_COMPLETION),
    ROW(JD_DQ_HEAD_OFFSET), ROW(JD_DQ_TAIL_OFFSET), ROW(JD_DQ_NEED_SERVICED_OFFSET), ROW(JD_DQ_RESERVED_OFFSET),
    ROW(JD_DQ_RESERVED_SIZE), ROW(JD_DQ_HEADER_SIZE), ROW(JD_DQ_ENTRY_HEADER_SIZE), ROW(JD_DQ_ENTRY_ALIGNMENT),
    ROW(JD_DQ_MAX_QUEUE_BYTE_COUNT),
    ROW(kIOReturnSuccess), ROW(kIOReturnError), ROW(kIOReturnNoMemory), ROW(kIOReturnBadArgument),
    ROW(kIOReturnVMError), ROW(kIOReturnNotReady), ROW(kIOReturnUnderrun), ROW(kIOReturnOverrun),
};

int64_t jd_constant(const char *name) {
    for (size_t i = 0; i < sizeof constants / sizeof constants[0]; i++) {
        if (strcmp(constants[i].name, name) == 0) {
            return constants[i].value;
        }
    }
    return INT64_MIN;
}

int32_t jd_constant_count(void) {
    return (int32_t)(sizeof constants / sizeof constants[0]);
}

const char *jd_constant_name(int32_t index) {
    return index >= 0 && index < jd_constant_count() ? constants[index].name : NULL;
}
