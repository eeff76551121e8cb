package io.jdispatch.docker;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.startupcheck.OneShotStartupCheckStrategy;
import org.testcontainers.containers.wait.strategy.Wait;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One data queue shared by two containers of the runtime image: the consumer's container owns an IPC namespace
 * (and so its /dev/shm), the producer's joins it. Every entry must arrive once, in order, intact.
 *
 * Contract of io.jdispatch.demo.DataQueuePeer (provided by the data-queue work):
 *   consume PATH COUNT  creates the queue in PATH, prints "ready", dequeues COUNT entries, checks entry i carries
 *                       sequence number i, prints "consumed COUNT entries in order, crc32 HEX" and exits 0
 *                       (non-zero with a message on a gap, a duplicate or a wrong payload)
 *   produce PATH COUNT  opens the queue in PATH, enqueues entry i = payload(i) for i in [0, COUNT) (waiting for
 *                       room when full), prints "produced COUNT entries, crc32 HEX" and exits 0
 *   payload(i) = i as 8 bytes little-endian, then (i % 61) bytes of value (byte) (i * 31); crc32 is CRC32 over
 *   all payloads in order.
 */
class DataQueueTwoContainersIT {
    private static final String PEER = "io.jdispatch.demo.DataQueuePeer";
    private static final String PATH = "/dev/shm/jdispatch-it-queue";
    private static final int COUNT = 100_000;

    @BeforeEach
    void engine() {
        RuntimeImage.requireEngine();
    }

    static byte[] payload(int i) {
        byte[] b = new byte[8 + i % 61];
        for (int k = 0; k < 8; k++) {
            b[k] = (byte) ((long) i >>> (8 * k));
        }
        java.util.Arrays.fill(b, 8, b.length, (byte) (i * 31));
        return b;
    }

    @Test
    void everyEntryCrossesFromOneContainerToTheOtherOnceInOrder() {
        CRC32 crc = new CRC32();
        for (int i = 0; i < COUNT; i++) {
            crc.update(payload(i));
        }
        String expectedCrc = Long.toHexString(crc.getValue());

        try (GenericContainer<?> consumer = new GenericContainer<>(RuntimeImage.name())
                .withCreateContainerCmdModifier(cmd -> cmd.getHostConfig().withIpcMode("shareable"))
                .withCommand("java", "-cp", "/opt/jdispatch/jdispatch-demo.jar", PEER, "consume", PATH, "" + COUNT)
                .waitingFor(Wait.forLogMessage("ready\\n", 1).withStartupTimeout(Duration.ofMinutes(1)))) {
            consumer.start();
            String producerOut;
            try (GenericContainer<?> producer = new GenericContainer<>(RuntimeImage.name())
                    .withCreateContainerCmdModifier(cmd -> cmd.getHostConfig().withIpcMode("container:" + consumer.getContainerId()))
                    .withCommand("java", "-cp", "/opt/jdispatch/jdispatch-demo.jar", PEER, "produce", PATH, "" + COUNT)
                    .withStartupCheckStrategy(new OneShotStartupCheckStrategy().withTimeout(Duration.ofMinutes(2)))) {
                producer.start();   // fails unless the producer exits with 0
                producerOut = producer.getLogs();
            }
            int exit = DockerClientFactory.instance().client().waitContainerCmd(consumer.getContainerId())
                    .start().awaitStatusCode(2, TimeUnit.MINUTES);
            String consumerOut = consumer.getLogs();
            assertEquals(0, exit, "consumer:\n" + consumerOut + "\nproducer:\n" + producerOut);
            assertTrue(producerOut.contains("produced " + COUNT + " entries, crc32 " + expectedCrc), producerOut);
            assertTrue(consumerOut.contains("consumed " + COUNT + " entries in order, crc32 " + expectedCrc), consumerOut);
        }
    }
}
