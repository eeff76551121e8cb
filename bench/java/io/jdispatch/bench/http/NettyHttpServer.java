package io.jdispatch.bench.http;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.util.ByteProcessor;

/**
 * The baseline: the same server ({@link Http11}) on Netty's native epoll transport, as its users set it up
 * (one boss loop, Netty's default worker loops, pooled buffers, a flush per read batch).
 */
final class NettyHttpServer implements AutoCloseable {
    // The responses, shared by every connection: a write sends a slice, which never frees it.
    private static final ByteBuf RESPONSES = Unpooled.unreleasableBuffer(
            Unpooled.directBuffer(Http11.RESPONSES.capacity()).writeBytes(Http11.RESPONSES.duplicate()));

    private final EventLoopGroup boss = new EpollEventLoopGroup(1);
    private final EventLoopGroup workers = new EpollEventLoopGroup();
    private final Channel server;

    NettyHttpServer(int port) throws InterruptedException {
        server = new ServerBootstrap().group(boss, workers).channel(EpollServerSocketChannel.class)
                .option(ChannelOption.SO_BACKLOG, 4096)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new Handler());
                    }
                })
                .bind("127.0.0.1", port).sync().channel();
    }

    int port() {
        return ((java.net.InetSocketAddress) server.localAddress()).getPort();
    }

    @Override
    public void close() {
        server.close().syncUninterruptibly();
        boss.shutdownGracefully(0, 5, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
        workers.shutdownGracefully(0, 5, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly(); // closes the connections
    }

    private static final class Handler extends ChannelInboundHandlerAdapter {
        private final Http11.Framer framer = new Http11.Framer();
        private int requests;
        private final ByteProcessor counter = b -> {
            if (framer.end(b)) {
                requests++;
            }
            return true;
        };

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf bytes = (ByteBuf) msg;
            try {
                bytes.forEachByte(counter);
            } finally {
                bytes.release();
            }
            for (; requests > 0; requests -= Http11.BATCH) {
                ctx.write(RESPONSES.slice(0, Math.min(requests, Http11.BATCH) * Http11.RESPONSE.length));
            }
            requests = 0;
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
