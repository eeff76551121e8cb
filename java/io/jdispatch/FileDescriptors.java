package io.jdispatch;

import io.jdispatch.internal.SourceNative;

import java.io.FileDescriptor;
import java.nio.channels.Channel;
import java.util.Objects;

/**
 * The file descriptors of JDK channels and streams, the handles of READ, WRITE and VNODE sources
 * ({@link DispatchSource#read}, {@link DispatchSource#write}, {@link DispatchSource#vnode}). The channel or stream
 * keeps owning its descriptor.
 */
public final class FileDescriptors {
    static {
        Dispatch.ensureAvailable();
    }

    private FileDescriptors() {}

    /**
     * The file descriptor of an open JDK channel (SocketChannel, ServerSocketChannel, DatagramChannel,
     * Pipe.SourceChannel / SinkChannel, FileChannel), for READ, WRITE and VNODE sources. The channel keeps
     * owning it: close the channel only once the source's cancel handler has run (e.g. in that handler).
     *
     * @param channel an open channel
     * @return its file descriptor, the handle of a READ, WRITE or VNODE source
     */
    public static int of(Channel channel) {
        Objects.requireNonNull(channel, "FileDescriptors.of: channel is null");
        if (!channel.isOpen()) {
            throw new IllegalArgumentException("FileDescriptors.of: " + channel + " is closed");
        }
        return fdOf(channel);
    }

    /**
     * The int behind a java.io.FileDescriptor (of a FileInputStream, RandomAccessFile...).
     *
     * @param descriptor a valid descriptor
     * @return its file descriptor, the handle of a READ, WRITE or VNODE source
     */
    public static int of(FileDescriptor descriptor) {
        Objects.requireNonNull(descriptor, "FileDescriptors.of: descriptor is null");
        if (!descriptor.valid()) {
            throw new IllegalArgumentException("FileDescriptors.of: " + descriptor + " is not valid (closed)");
        }
        return fdOf(descriptor);
    }

    private static int fdOf(Object o) {
        int fd = SourceNative.jd_channel_fd(o);
        if (fd < 0) {
            throw new IllegalArgumentException("FileDescriptors.of: " + o.getClass().getName()
                    + " has no file descriptor field (only the JDK's own socket, datagram, pipe and file channels do)");
        }
        return fd;
    }
}
