package io.jdispatch;

/**
 * Every test of {@link DispatchChannelTest} on the default topology: connections created without a queue,
 * served by the loops (one edge-triggered epoll set per core, see {@code ChannelLoop}) instead of a READ and
 * a WRITE source each.
 */
class DispatchChannelLoopTest extends DispatchChannelTest {
    @Override
    DispatchQueue connectionQueue() {
        return null;
    }
}
