package io.jdispatch.stress;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The far ends of the socket pairs of {@link SourceStressTest}, in a child process so that the test JVM holds
 * only the ends it watches (10,000 pairs would need 20,000 fds in one process: more than `ulimit -n` here).
 * Usage: {@code SocketPeers <unix socket path> <n>}; connects n times, prints "connected", writes one byte on
 * every connection when stdin says "write", and exits (closing them all) at stdin's end.
 */
public final class SocketPeers {
    public static void main(String[] args) throws Exception {
        UnixDomainSocketAddress address = UnixDomainSocketAddress.of(Path.of(args[0]));
        int n = Integer.parseInt(args[1]);
        List<SocketChannel> peers = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            peers.add(SocketChannel.open(address));
        }
        System.out.println("connected");
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
        if ("write".equals(in.readLine())) {
            ByteBuffer one = ByteBuffer.allocate(1);
            for (SocketChannel peer : peers) {
                one.clear();
                peer.write(one);
            }
            System.out.println("written");
        }
        while (in.readLine() != null) {
            // wait for the parent to close our stdin
        }
        for (SocketChannel peer : peers) {
            peer.close();
        }
    }
}
