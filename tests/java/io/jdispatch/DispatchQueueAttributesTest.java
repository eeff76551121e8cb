package io.jdispatch;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The queue attributes beyond serial/concurrent/inactive (dispatch_queue_attr_make_with_qos_class,
 * dispatch_queue_attr_make_with_autorelease_frequency), what libdispatch reads back (dispatch_queue_get_qos_class),
 * the retarget rule they bring, and toString in the spirit of dispatch_debug.
 */
class DispatchQueueAttributesTest {
    @Test
    void theQoSClassAndRelativePriorityReachLibdispatch() {
        for (QoSClass qos : QoSClass.values()) {
            for (int relativePriority : new int[] {0, -1, QoSClass.MIN_RELATIVE_PRIORITY}) {
                DispatchQueue.Attributes attributes = DispatchQueue.Attributes.CONCURRENT.withQoSClass(qos, relativePriority);
                try (DispatchQueue q = DispatchQueue.create("qos", attributes)) {
                    // Linux libdispatch has no USER_INTERACTIVE workqueue: it runs (and reports) it as USER_INITIATED.
                    QoSClass expected = qos == QoSClass.USER_INTERACTIVE ? QoSClass.USER_INITIATED : qos;
                    assertEquals(expected, q.getQoSClass(), attributes.toString());
                    assertEquals(relativePriority, q.getRelativePriority(), attributes.toString());
                    assertEquals(42, q.sync(() -> 42), "the queue runs tasks");
                }
            }
        }
        try (DispatchQueue plain = DispatchQueue.createSerial("no-qos")) {
            assertNull(plain.getQoSClass());
            assertEquals(0, plain.getRelativePriority());
        }
        // What libdispatch 6.0.3 on Linux reports for its root queues (not always the class they were asked by).
        java.util.Map<QoSClass, QoSClass> reported = new java.util.EnumMap<>(QoSClass.class);
        for (QoSClass qos : QoSClass.values()) {
            reported.put(qos, DispatchQueue.global(qos).getQoSClass());
        }
        java.util.Map<QoSClass, QoSClass> expected = new java.util.EnumMap<>(QoSClass.class);
        expected.put(QoSClass.USER_INTERACTIVE, QoSClass.USER_INTERACTIVE);
        expected.put(QoSClass.USER_INITIATED, QoSClass.BACKGROUND);
        expected.put(QoSClass.DEFAULT, null);
        expected.put(QoSClass.UTILITY, QoSClass.UTILITY);
        expected.put(QoSClass.BACKGROUND, QoSClass.BACKGROUND);
        assertEquals(expected, reported, "dispatch_queue_get_qos_class of the global queues");
    }

    @Test
    void attributesComposeAsTheirCStepsDo() {
        DispatchQueue.Attributes a = DispatchQueue.Attributes.SERIAL.withQoSClass(QoSClass.UTILITY, -2)
                .initiallyInactive().withAutoreleaseFrequency(DispatchQueue.AutoreleaseFrequency.WORK_ITEM);
        assertEquals(new DispatchQueue.Attributes(false, true, QoSClass.UTILITY, -2,
                DispatchQueue.AutoreleaseFrequency.WORK_ITEM), a);
        assertEquals(new DispatchQueue.Attributes(true, false), DispatchQueue.Attributes.CONCURRENT);
        try (DispatchQueue q = DispatchQueue.create("composed", a)) {
            assertTrue(q.isInactive());
            assertEquals(QoSClass.UTILITY, q.getQoSClass());
            assertEquals(-2, q.getRelativePriority());
            q.activate();
            assertEquals(7, q.sync(() -> 7));
        }
    }

    @Test
    void aRelativePriorityOutOfRangeIsRefusedNamingTheRule() {
        for (int bad : new int[] {1, QoSClass.MIN_RELATIVE_PRIORITY - 1, Integer.MIN_VALUE}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> DispatchQueue.Attributes.SERIAL.withQoSClass(QoSClass.DEFAULT, bad));
            assertEquals("dispatch_queue_attr_make_with_qos_class: relative_priority " + bad + " is outside "
                    + "QOS_MIN_RELATIVE_PRIORITY (-15) .. 0 (libdispatch would ignore the QoS class)", e.getMessage());
        }
        IllegalArgumentException noClass = assertThrows(IllegalArgumentException.class,
                () -> new DispatchQueue.Attributes(false, false, null, -1, DispatchQueue.AutoreleaseFrequency.INHERIT));
        assertTrue(noClass.getMessage().contains("without a QoS class"), noClass.getMessage());
        assertThrows(NullPointerException.class, () -> DispatchQueue.Attributes.SERIAL.withQoSClass(null, 0));
        assertThrows(NullPointerException.class, () -> DispatchQueue.Attributes.SERIAL.withAutoreleaseFrequency(null));
    }

    @Test
    void anAutoreleaseOrInactiveQueueCanBeRetargetedOnlyBeforeActivation() {
        try (DispatchQueue target = DispatchQueue.createSerial("target")) {
            for (DispatchQueue.AutoreleaseFrequency f : DispatchQueue.AutoreleaseFrequency.values()) {
                try (DispatchQueue q = DispatchQueue.create("freq-" + f, DispatchQueue.Attributes.SERIAL.withAutoreleaseFrequency(f))) {
                    if (f == DispatchQueue.AutoreleaseFrequency.INHERIT) {
                        q.setTargetQueue(target); // a "legacy" queue: libdispatch allows it (test_queue_rules.c)
                        assertEquals(target, q.getTargetQueue());
                    } else {
                        IllegalStateException e = assertThrows(IllegalStateException.class, () -> q.setTargetQueue(target));
                        assertEquals("dispatch_set_target_queue(DispatchQueue[freq-" + f + "], DispatchQueue[target]): "
                                + "DispatchQueue[freq-" + f + "] was created inactive or with an autorelease frequency, "
                                + "and is active: libdispatch aborts on changing its target after activation", e.getMessage());
                        assertNull(q.getTargetQueue());
                    }
                    assertEquals(1, q.sync(() -> 1));
                }
            }
            try (DispatchQueue inactive = DispatchQueue.create("inactive", DispatchQueue.Attributes.SERIAL.initiallyInactive())) {
                inactive.setTargetQueue(target); // before activation: fine
                inactive.activate();
                assertThrows(IllegalStateException.class, () -> inactive.setTargetQueue(null));
                assertEquals(target, inactive.getTargetQueue());
                assertTrue(inactive.sync(target::isCurrent), "the retarget made before activation holds");
            }
        }
    }

    @Test
    void toStringDescribesTheQueueAsDispatchDebugDoes() {
        try (DispatchQueue target = DispatchQueue.createSerial("target");
             DispatchQueue q = DispatchQueue.create("described", DispatchQueue.Attributes.CONCURRENT.initiallyInactive()
                     .withQoSClass(QoSClass.UTILITY, -3))) {
            q.setTargetQueue(target);
            assertEquals("DispatchQueue[described] = { concurrent, target = DispatchQueue[target], qos = UTILITY "
                    + "relative priority -3, inactive }", q.toString());
            q.activate();
            q.suspend();
            q.suspend();
            assertEquals("DispatchQueue[described] = { concurrent, target = DispatchQueue[target], qos = UTILITY "
                    + "relative priority -3, suspended = 2 }", q.toString());
            q.resume();
            q.resume();
            assertEquals("DispatchQueue[target] = { serial, target = default }", target.toString());
            assertEquals("DispatchQueue[global-utility] = { global }", DispatchQueue.global(QoSClass.UTILITY).toString());
            q.close();
            assertTrue(q.toString().endsWith(", closed }"), q.toString());
            // Messages name a queue by its short name, as before.
            IllegalStateException e = assertThrows(IllegalStateException.class, q::suspend);
            assertEquals("dispatch_suspend: DispatchQueue[described] is closed", e.getMessage());
        }
        for (String label : List.of("a", "with spaces")) {
            try (DispatchQueue q = DispatchQueue.createSerial(label)) {
                assertTrue(q.toString().startsWith("DispatchQueue[" + label + "] = { serial"), q.toString());
            }
        }
    }
}
