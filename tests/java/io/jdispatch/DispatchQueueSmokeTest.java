package io.jdispatch;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DispatchQueueSmokeTest {
    @Test
    void libraryIsAvailableAndNamesItsLibdispatch() {
        Dispatch.ensureAvailable();
        assertTrue(Dispatch.isAvailable());
        assertNull(Dispatch.unavailabilityCause());
        if (Dispatch.platform().startsWith("linux")) {
            assertEquals("swift-corelibs-libdispatch 6.0.3", Dispatch.libdispatchVersion());
        }
    }

    @Test
    void serialQueueRunsAsyncTasksInOrderAndSyncWaits() throws Exception {
        try (DispatchQueue q = DispatchQueue.createSerial("smoke")) {
            List<Integer> seen = new ArrayList<>();
            for (int i = 0; i < 1000; i++) {
                int n = i;
                q.async(() -> seen.add(n));
            }
            List<Integer> snapshot = new ArrayList<>();
            q.sync(() -> snapshot.addAll(seen)); // runs after all 1000 on the serial queue
            assertEquals(1000, snapshot.size());
            for (int i = 0; i < 1000; i++) {
                assertEquals(i, snapshot.get(i));
            }
        }
    }

    @Test
    void globalQueueRunsTasks() throws Exception {
        CountDownLatch done = new CountDownLatch(100);
        for (int i = 0; i < 100; i++) {
            DispatchQueue.global().async(done::countDown);
        }
        assertTrue(done.await(60, TimeUnit.SECONDS)); // a hang detector
    }

    @Test
    void useAfterCloseIsAnErrorAndCloseIsIdempotent() {
        DispatchQueue q = DispatchQueue.createSerial("closed");
        q.close();
        q.close();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> q.async(() -> {}));
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
        assertThrows(NullPointerException.class, () -> DispatchQueue.global().async((Runnable) null));
    }
}
