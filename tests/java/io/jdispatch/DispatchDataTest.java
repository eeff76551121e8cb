package io.jdispatch;

import io.jdispatch.testutil.ProcessStats;
import io.jdispatch.internal.Handles;
import io.jdispatch.testutil.ChildJvm;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.ref.WeakReference;
import java.nio.ByteBuffer;
import java.nio.ReadOnlyBufferException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** DispatchData: creation with and without a copy, concat, subrange, apply, map, copyRegion, copying out, lifetimes. */
class DispatchDataTest {
    private static byte[] bytes(int n, int seed) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (i * 31 + seed);
        }
        return b;
    }

    private static byte[] join(byte[]... parts) {
        int n = Arrays.stream(parts).mapToInt(p -> p.length).sum();
        byte[] all = new byte[n];
        int at = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, all, at, p.length);
            at += p.length;
        }
        return all;
    }

    @Test
    void createCopiesTheRemainingBytesOfEveryKindOfBufferAndLeavesItsPosition() {
        byte[] src = bytes(100, 1);
        ByteBuffer heap = ByteBuffer.wrap(src.clone()).position(10).limit(90);
        ByteBuffer direct = ByteBuffer.allocateDirect(100).put(src).position(10).limit(90);
        ByteBuffer readOnly = ByteBuffer.wrap(src.clone()).asReadOnlyBuffer().position(10).limit(90);
        for (ByteBuffer b : List.of(heap, direct, readOnly)) {
            try (DispatchData d = DispatchData.create(b)) {
                assertEquals(80, d.getSize());
                assertEquals(10, b.position(), "position unchanged");
                if (!b.isReadOnly()) {
                    b.put(10, (byte) 0x7f); // a copy: a later change of the source does not show
                }
                assertArrayEquals(Arrays.copyOfRange(src, 10, 90), d.toByteArray(), b.toString());
            }
        }
        try (DispatchData d = DispatchData.create(src)) {
            assertArrayEquals(src, d.toByteArray());
        }
    }

    @Test
    void emptyHasNoBytesAndNoRegions() {
        try (DispatchData e = DispatchData.empty(); DispatchData alsoEmpty = DispatchData.create(new byte[0])) {
            assertEquals(0, e.getSize());
            assertEquals(0, alsoEmpty.getSize());
            AtomicInteger regions = new AtomicInteger();
            assertTrue(e.apply((offset, region) -> regions.incrementAndGet() > 0));
            assertEquals(0, regions.get());
            assertEquals(0, e.toByteArray().length);
            assertEquals(0, e.createMap().remaining());
        }
        DispatchData.empty().close();
        try (DispatchData again = DispatchData.empty()) { // closing one wrapper does not close the object
            assertEquals(0, again.getSize());
        }
    }

    @Test
    void concatKeepsTheRegionsAndApplyVisitsThemInOrderWithoutCopying() {
        byte[] a = bytes(1000, 1), b = bytes(3000, 2), c = bytes(10, 3);
        try (DispatchData da = DispatchData.create(a); DispatchData db = DispatchData.create(b);
             DispatchData dc = DispatchData.create(c); DispatchData ab = da.concat(db); DispatchData abc = ab.concat(dc)) {
            assertEquals(4010, abc.getSize());
            List<Long> offsets = new ArrayList<>();
            List<byte[]> contents = new ArrayList<>();
            assertTrue(abc.apply((offset, region) -> {
                assertTrue(region.isReadOnly() && region.isDirect());
                assertEquals(0, region.position());
                offsets.add(offset);
                byte[] r = new byte[region.remaining()];
                region.get(r);
                contents.add(r);
                return true;
            }));
            assertEquals(List.of(0L, 1000L, 4000L), offsets, "three regions, not a copy into one");
            assertArrayEquals(join(a, b, c), join(contents.toArray(new byte[0][])));
            assertArrayEquals(join(a, b, c), abc.toByteArray());
            // the same memory: da's region is abc's first one
            ByteBuffer[] first = new ByteBuffer[2];
            da.apply((o, r) -> (first[0] = r) == null);
            abc.apply((o, r) -> (first[1] = r) == null);
            assertEquals(addressOf(first[0]), addressOf(first[1]));
        }
    }

    /** A region's address, seen through JavaCPP (tests only). */
    private static long addressOf(ByteBuffer direct) {
        return io.jdispatch.internal.IoNative.address(direct);
    }

    @Test
    void applyStopsWhenTheApplierSaysSoOrThrowsAndRethrowsOnTheCaller() {
        try (DispatchData d = DispatchData.create(bytes(10, 1)).concat(DispatchData.create(bytes(10, 2)))) {
            AtomicInteger calls = new AtomicInteger();
            assertFalse(d.apply((o, r) -> calls.incrementAndGet() > 5));
            assertEquals(1, calls.get());
            int handles = Handles.size();
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> d.apply((o, r) -> {
                calls.incrementAndGet();
                throw new IllegalStateException("applier fails");
            }));
            assertEquals("applier fails", e.getMessage());
            assertEquals(2, calls.get(), "stopped at the first region");
            assertTrue(Handles.size() <= handles, "the applier's id is gone");
            assertThrows(StackOverflowError.class, () -> d.apply((o, r) -> recurse(0) > 0));
            assertTrue(d.apply((o, r) -> true), "the data still works");
        }
    }

    private static long recurse(long n) {
        return recurse(n + 1) + 1;
    }

    @Test
    void subrangeSlicesAcrossRegionsAndRefusesRangesOutside() {
        byte[] a = bytes(100, 1), b = bytes(100, 2);
        try (DispatchData d = DispatchData.create(a).concat(DispatchData.create(b))) {
            try (DispatchData s = d.subrange(50, 100)) {
                assertEquals(100, s.getSize());
                assertArrayEquals(Arrays.copyOfRange(join(a, b), 50, 150), s.toByteArray());
            }
            try (DispatchData whole = d.subrange(0, 200); DispatchData none = d.subrange(200, 0)) {
                assertEquals(200, whole.getSize());
                assertEquals(0, none.getSize());
            }
            for (long[] bad : new long[][] {{-1, 10}, {0, -1}, {150, 51}, {201, 0}, {Long.MAX_VALUE, 2}}) {
                IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class,
                        () -> d.subrange(bad[0], bad[1]));
                assertTrue(e.getMessage().contains("dispatch_data_create_subrange") && e.getMessage().contains(
                        "offset " + bad[0] + ", length " + bad[1]) && e.getMessage().contains("200 bytes"), e.getMessage());
            }
        }
    }

    @Test
    void createMapIsOneContiguousReadOnlyBufferThatOutlivesTheData() {
        byte[] a = bytes(700, 1), b = bytes(900, 2);
        ByteBuffer map;
        try (DispatchData d = DispatchData.create(a).concat(DispatchData.create(b))) {
            map = d.createMap();
        }
        System.gc();
        assertTrue(map.isReadOnly());
        assertEquals(1600, map.remaining());
        byte[] got = new byte[1600];
        map.get(got);
        assertArrayEquals(join(a, b), got);
        assertThrows(ReadOnlyBufferException.class, () -> map.put(0, (byte) 1));
    }

    @Test
    void copyRegionGivesTheRegionHoldingALocationAndItsOffset() {
        byte[] a = bytes(100, 1), b = bytes(50, 2);
        try (DispatchData d = DispatchData.create(a).concat(DispatchData.create(b))) {
            DispatchData.Region r = d.copyRegion(120);
            try (DispatchData region = r.data()) {
                assertEquals(100, r.offset());
                assertArrayEquals(b, region.toByteArray());
            }
            try (DispatchData region = d.copyRegion(0).data()) {
                assertArrayEquals(a, region.toByteArray());
            }
            for (long bad : new long[] {-1, 150, Long.MAX_VALUE}) {
                IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class, () -> d.copyRegion(bad));
                assertTrue(e.getMessage().contains("dispatch_data_copy_region: location " + bad), e.getMessage());
            }
        }
    }

    @Test
    void copyBytesCopiesAnyRangeIntoArraysAndBuffers() {
        byte[] a = bytes(100, 1), b = bytes(100, 2);
        byte[] all = join(a, b);
        try (DispatchData d = DispatchData.create(a).concat(DispatchData.create(b))) {
            byte[] into = new byte[120];
            d.copyBytes(90, into, 10, 20);
            assertArrayEquals(Arrays.copyOfRange(all, 90, 110), Arrays.copyOfRange(into, 10, 30));
            assertEquals(0, into[9]);
            assertEquals(0, into[30]);
            for (ByteBuffer dst : List.of(ByteBuffer.allocate(64).position(4).limit(54),
                    ByteBuffer.allocateDirect(64).position(4).limit(54))) {
                d.copyBytes(75, dst);
                assertEquals(54, dst.position(), "advanced");
                byte[] got = new byte[50];
                dst.position(4);
                dst.get(got);
                assertArrayEquals(Arrays.copyOfRange(all, 75, 125), got, dst.toString());
            }
            assertThrows(IndexOutOfBoundsException.class, () -> d.copyBytes(190, new byte[20], 0, 20));
            assertThrows(IndexOutOfBoundsException.class, () -> d.copyBytes(0, new byte[10], 5, 6));
            assertThrows(IndexOutOfBoundsException.class, () -> d.copyBytes(180, ByteBuffer.allocate(21)));
            assertThrows(ReadOnlyBufferException.class, () -> d.copyBytes(0, ByteBuffer.allocate(2).asReadOnlyBuffer()));
        }
    }

    @Test
    void aNoCopyDataSharesTheBufferKeepsItReachableAndRunsTheDestructorOnceFreed() throws Exception {
        CountDownLatch destroyed = new CountDownLatch(1);
        ByteBuffer direct = ByteBuffer.allocateDirect(64);
        direct.put("hello".getBytes(StandardCharsets.US_ASCII)).flip();
        WeakReference<ByteBuffer> weak = new WeakReference<>(direct);
        long address = addressOf(direct);
        DispatchData d = DispatchData.createNoCopy(direct, destroyed::countDown);
        direct = null;
        DispatchData tail = d.subrange(1, 4);
        ByteBuffer[] seen = new ByteBuffer[1];
        d.apply((o, r) -> (seen[0] = r) == null);
        assertEquals(address, addressOf(seen[0]), "not copied: the region is the buffer's memory");
        seen[0] = null;
        d.close();
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        assertFalse(destroyed.await(200, TimeUnit.MILLISECONDS), "the subrange still holds the bytes");
        assertNotNull(weak.get(), "the buffer is kept reachable while libdispatch holds the data");
        assertArrayEquals("ello".getBytes(StandardCharsets.US_ASCII), tail.toByteArray());
        tail.close();
        assertTrue(awaitGc(destroyed), "the destructor ran once the last object was freed");
        for (int i = 0; i < 50 && weak.get() != null; i++) {
            System.gc();
            Thread.sleep(20);
        }
        assertNull(weak.get(), "the buffer was let go after the destructor");
        assertThrows(IllegalArgumentException.class, () -> DispatchData.createNoCopy(ByteBuffer.allocate(4), null));
    }

    /** Collections until the latch opens (a region a buffer holds is released by the Cleaner), 30 s at most. */
    private static boolean awaitGc(CountDownLatch latch) throws InterruptedException {
        for (int i = 0; i < 300; i++) {
            System.gc();
            if (latch.await(100, TimeUnit.MILLISECONDS)) {
                return true;
            }
        }
        return false;
    }

    @Test
    void anApplyBufferKeepsItsRegionUntilTheBufferIsUnreachable() throws Exception {
        CountDownLatch destroyed = new CountDownLatch(1);
        ByteBuffer direct = ByteBuffer.allocateDirect(16);
        DispatchData d = DispatchData.createNoCopy(direct, destroyed::countDown);
        ByteBuffer[] kept = new ByteBuffer[1];
        d.apply((o, r) -> (kept[0] = r.slice()) == null); // a view of the view: it still holds the region
        d.close();
        for (int i = 0; i < 5; i++) {
            System.gc();
        }
        assertFalse(destroyed.await(200, TimeUnit.MILLISECONDS), "a reachable buffer holds its region");
        assertEquals(16, kept[0].remaining());
        kept[0] = null;
        assertTrue(awaitGc(destroyed), "the region is released once its buffers are collected");
    }

    @Test
    void aClosedDataRefusesEveryCallNamingIt() {
        DispatchData d = DispatchData.create(bytes(10, 1));
        DispatchData other = DispatchData.create(bytes(10, 2));
        d.close();
        d.close(); // idempotent
        assertTrue(d.isClosed());
        assertEquals(10, d.getSize());
        assertClosed("dispatch_data_apply", () -> d.apply((o, r) -> true));
        assertClosed("dispatch_data_create_subrange", () -> d.subrange(0, 1));
        assertClosed("dispatch_data_create_concat", () -> d.concat(other));
        assertClosed("dispatch_data_create_concat", () -> other.concat(d));
        assertClosed("dispatch_data_create_map", d::createMap);
        assertClosed("dispatch_data_copy_region", () -> d.copyRegion(0));
        assertClosed("copyBytes", d::toByteArray);
        assertClosed("dispatch_retain", d::retain);
        other.close();
    }

    private static void assertClosed(String call, Runnable r) {
        IllegalStateException e = assertThrows(IllegalStateException.class, r::run);
        assertTrue(e.getMessage().startsWith(call + ": ") && e.getMessage().contains("is closed"), e.getMessage());
    }

    @Test
    void retainIsAnIndependentReference() {
        DispatchData d = DispatchData.create(bytes(10, 1));
        DispatchData kept = d.retain();
        d.close();
        assertArrayEquals(bytes(10, 1), kept.toByteArray());
        kept.close();
    }

    /**
     * A region buffer read after the data, every object made from it and the wrapper were closed and collected
     * (1 MB leaves, which malloc maps and unmaps: a read of freed memory would be a SIGSEGV): the bytes are there.
     * In a child JVM, so that such a crash fails the test.
     */
    @Test
    void buffersReadAfterEverythingWasClosedNeverReachFreedMemory(@TempDir Path home) throws Exception {
        ChildJvm.Result r = ChildJvm.run(home, List.of("-cp", System.getProperty("java.class.path"), "-Xmx256m"),
                UseAfterClose.class.getName());
        assertEquals(0, r.exitCode(), r.output());
        assertTrue(r.output().contains("read 20 buffers, all intact"), r.output());
    }

    /** The child of {@link #buffersReadAfterEverythingWasClosedNeverReachFreedMemory}. */
    public static final class UseAfterClose {
        private UseAfterClose() {}

        public static void main(String[] args) {
            List<ByteBuffer> kept = new ArrayList<>();
            List<byte[]> expected = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                byte[] b = bytes(1 << 20, i);
                expected.add(b);
                expected.add(b);
                try (DispatchData d = DispatchData.create(b)) {
                    d.apply((o, region) -> kept.add(region));
                    kept.add(d.createMap());
                }
            }
            for (int i = 0; i < 5; i++) {
                System.gc();
                // churn: freed 1 MB blocks are unmapped, new ones mapped elsewhere
                try (DispatchData d = DispatchData.create(bytes(1 << 20, 99))) {
                    d.toByteArray();
                }
            }
            for (int i = 0; i < kept.size(); i++) {
                byte[] got = new byte[kept.get(i).remaining()];
                kept.get(i).duplicate().get(got);
                if (!Arrays.equals(expected.get(i), got)) {
                    System.out.println("buffer " + i + " changed");
                    System.exit(1);
                }
            }
            System.out.println("read " + kept.size() + " buffers, all intact");
        }
    }

    @Test
    void dataCreatedAndDroppedInRoundsLeavesNoNativeMemoryOrHandlesBehind() throws Exception {
        int handles = Handles.size();
        long[] nativeKiB = new long[7];
        for (int round = 0; round < nativeKiB.length; round++) {
            for (int i = 0; i < 2000; i++) {
                try (DispatchData a = DispatchData.create(bytes(512, i)); DispatchData b = DispatchData.create(bytes(256, i));
                     DispatchData ab = a.concat(b); DispatchData s = ab.subrange(100, 500)) {
                    s.apply((o, r) -> true);
                    s.createMap();
                    s.toByteArray();
                }
                DispatchData.createNoCopy(ByteBuffer.allocateDirect(32), null).close();
            }
            nativeKiB[round] = settledNativeKiB();
        }
        long[] growth = new long[nativeKiB.length - 1];
        for (int i = 1; i < nativeKiB.length; i++) {
            growth[i - 1] = nativeKiB[i] - nativeKiB[i - 1];
        }
        Arrays.sort(growth);
        long median = growth[growth.length / 2];
        // A leak of one 512-byte leaf per cycle alone would be 1,000 KiB a round.
        assertTrue(median < 100, "native memory grows " + median + " KiB a round: " + Arrays.toString(nativeKiB));
        // At most as many as before: ids that earlier tests\' dropped objects held may go meanwhile.
        ProcessStats.awaitHandlesAtMost(handles, "destructor ids all ran");
    }

    private static long settledNativeKiB() throws InterruptedException {
        long last = Long.MAX_VALUE;
        for (int i = 0; i < 20; i++) {
            System.gc();
            Thread.sleep(20);
            long now = io.jdispatch.internal.JDispatchNative.jd_malloc_in_use() / 1024;
            if (now > last - 16) {
                return now;
            }
            last = now;
        }
        return last;
    }

    // ---- the hostile-user round -----------------------------------------------------------------------

    /** {@code call} throws {@code type} with a message naming each of {@code names}. */
    private static <T extends Throwable> void assertRefused(Class<T> type, Runnable call, String... names) {
        T t = assertThrows(type, call::run);
        for (String name : names) {
            assertTrue(String.valueOf(t.getMessage()).contains(name), "does not name \"" + name + "\": " + t);
        }
    }

    /**
     * Null, negative and too-large arguments to every method are refused naming the call, the value and the
     * rule; the data is unchanged and usable after each refusal, and no handle is left registered.
     */
    @Test
    void badArgumentsAreRefusedNamingTheCallTheValueAndTheRuleAndTheDataStaysUsable() throws Exception {
        int handles = Handles.size();
        byte[] content = bytes(10, 3);
        try (DispatchData d = DispatchData.create(content)) {
            assertRefused(NullPointerException.class, () -> DispatchData.create((ByteBuffer) null),
                    "dispatch_data_create", "bytes is null");
            assertRefused(NullPointerException.class, () -> DispatchData.create((byte[]) null),
                    "dispatch_data_create", "bytes is null");
            assertRefused(NullPointerException.class, () -> DispatchData.createNoCopy(null, null), "buffer is null");
            assertRefused(IllegalArgumentException.class, () -> DispatchData.createNoCopy(ByteBuffer.allocate(4), null),
                    "heap buffer", "direct buffer");
            assertRefused(NullPointerException.class, () -> d.concat(null), "dispatch_data_create_concat", "other is null");
            assertRefused(NullPointerException.class, () -> d.apply(null), "dispatch_data_apply", "applier is null");
            for (long[] range : new long[][] {{-1, 1}, {0, -1}, {0, 11}, {11, 0}, {5, Long.MAX_VALUE},
                    {Long.MAX_VALUE, 5}, {Long.MIN_VALUE, 0}}) {
                assertRefused(IndexOutOfBoundsException.class, () -> d.subrange(range[0], range[1]),
                        "dispatch_data_create_subrange", "offset " + range[0] + ", length " + range[1], "inside 10 bytes");
            }
            for (long location : new long[] {-1, 10, Long.MAX_VALUE, Long.MIN_VALUE}) {
                assertRefused(IndexOutOfBoundsException.class, () -> d.copyRegion(location),
                        "dispatch_data_copy_region", "location " + location, "0 <= location < size");
            }
            assertRefused(NullPointerException.class, () -> d.copyBytes(0, (byte[]) null, 0, 1), "copyBytes", "dst is null");
            assertRefused(NullPointerException.class, () -> d.copyBytes(0, (ByteBuffer) null), "copyBytes", "dst is null");
            byte[] dst = new byte[10];
            for (int[] range : new int[][] {{-1, 5}, {0, -1}, {6, 5}, {Integer.MAX_VALUE, 1}, {1, Integer.MAX_VALUE}}) {
                assertRefused(IndexOutOfBoundsException.class, () -> d.copyBytes(0, dst, range[0], range[1]),
                        "copyBytes", "dstOffset " + range[0] + ", length " + range[1], "dst of 10 bytes");
            }
            assertRefused(IndexOutOfBoundsException.class, () -> d.copyBytes(-1, dst, 0, 1), "copyBytes", "offset -1");
            assertRefused(IndexOutOfBoundsException.class, () -> d.copyBytes(6, dst, 0, 5), "copyBytes", "offset 6, length 5");
            assertRefused(IndexOutOfBoundsException.class, () -> d.copyBytes(Long.MAX_VALUE, ByteBuffer.allocate(2)),
                    "copyBytes", "offset " + Long.MAX_VALUE);
            assertThrows(ReadOnlyBufferException.class, () -> d.copyBytes(0, ByteBuffer.allocate(2).asReadOnlyBuffer()));
            assertArrayEquals(new byte[10], dst, "a refused copy wrote nothing");

            assertArrayEquals(content, d.toByteArray(), "the data after every refusal");
            try (DispatchData tail = d.subrange(4, 6)) {
                assertArrayEquals(Arrays.copyOfRange(content, 4, 10), tail.toByteArray());
            }
        }
        ProcessStats.awaitHandlesAtMost(handles, "a refused call leaves no handle registered");
    }

    /**
     * Sizes past what an int can count: 4 GiB made of one 1 MiB region concatenated with itself (libdispatch does
     * not copy). Offsets above 2^32 reach the right byte, and what cannot be an array or a ByteBuffer is refused
     * naming the size, before anything is allocated.
     */
    @Test
    void dataLargerThanAnArrayIsAddressedByLongOffsetsAndRefusedWhereAnIntCannotHoldIt() {
        ByteBuffer leaf = ByteBuffer.allocateDirect(1 << 20);
        for (int i = 0; i < leaf.capacity(); i++) {
            leaf.put(i, (byte) (i >>> 12));
        }
        List<DispatchData> made = new ArrayList<>();
        try {
            DispatchData d = DispatchData.createNoCopy(leaf, null);
            made.add(d);
            for (int i = 0; i < 12; i++) {
                d = d.concat(d);
                made.add(d);
            }
            long size = 1L << 32;
            assertEquals(size, d.getSize());
            DispatchData big = d;
            assertRefused(IllegalStateException.class, big::toByteArray, "toByteArray", String.valueOf(size));
            assertRefused(IllegalStateException.class, big::createMap, "dispatch_data_create_map", String.valueOf(size));
            long offset = size - (1 << 20) + 0x5000; // in the last region: byte 0x5000 of the leaf
            byte[] two = new byte[2];
            big.copyBytes(offset, two, 0, 2);
            assertArrayEquals(new byte[] {5, 5}, two);
            ByteBuffer direct = ByteBuffer.allocateDirect(3);
            big.copyBytes(size - 3, direct);
            assertEquals(3, direct.position());
            assertEquals((byte) 0xff, direct.get(2));
            try (DispatchData tail = big.subrange(size - 4096, 4096)) {
                assertEquals(4096, tail.toByteArray().length);
            }
            DispatchData.Region r = big.copyRegion(size - 1);
            try (DispatchData region = r.data()) {
                assertEquals(size - (1 << 20), r.offset());
                assertEquals(1 << 20, region.getSize());
            }
            AtomicInteger regions = new AtomicInteger();
            assertTrue(big.apply((o, region) -> regions.incrementAndGet() > 0));
            assertEquals(4096, regions.get());
            assertRefused(IndexOutOfBoundsException.class, () -> big.subrange(size, 1), "offset " + size);
        } finally {
            made.forEach(DispatchData::close);
        }
    }

    /**
     * close() from inside the data's own apply: the apply visits every region (the native call holds the object),
     * the buffers it handed out stay valid, and later calls are refused; a second close does nothing.
     */
    @Test
    void dataClosedInsideItsOwnApplyFinishesTheApplyAndIsRefusedAfter() {
        DispatchData a = DispatchData.create(bytes(100, 1));
        DispatchData b = DispatchData.create(bytes(50, 2));
        DispatchData ab = a.concat(b);
        a.close();
        b.close();
        List<ByteBuffer> seen = new ArrayList<>();
        assertTrue(ab.apply((offset, region) -> {
            ab.close();
            ab.close();
            seen.add(region);
            return true;
        }), "every region visited");
        assertEquals(2, seen.size());
        assertTrue(ab.isClosed());
        assertThrows(IllegalStateException.class, ab::toByteArray);
        ByteBuffer first = seen.get(0);
        byte[] got = new byte[first.remaining()];
        first.get(got);
        assertArrayEquals(bytes(100, 1), got, "a buffer from the apply is intact after the close");
    }
}
