package io.jdispatch;

/**
 * An {@link IODataQueueDispatchSource} operation found the shared region truncated: another process shrank the
 * region file (a path queue; a memfd queue is sealed against it), so the pages under this process's mapping are
 * gone. The access did not kill the process: the data queue repairs such a fault with private zero pages
 * ({@code native/src/jd_dataqueue_guard.c}) and reports it here, from the call that met it, instead of HotSpot's
 * asynchronous {@code InternalError} in whatever code runs next. The queue no longer shares memory with its
 * peer: every later operation throws this too; close the source. C reports the same as {@code kIOReturnVMError}.
 */
public final class DataQueueTruncatedException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    /** @param message names the call, the queue and the region file's size now */
    public DataQueueTruncatedException(String message) {
        super(message);
    }
}
