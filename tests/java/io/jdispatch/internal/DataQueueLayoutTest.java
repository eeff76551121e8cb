package io.jdispatch.internal;

import io.jdispatch.IOReturn;

import org.junit.jupiter.api.Test;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The Java mirror of the layout and of the IOReturn codes agrees with jd_dataqueue.h, constant by constant. */
class DataQueueLayoutTest {
    @Test
    void everyJavaConstantEqualsTheCHeader() throws Exception {
        NativeLibrary.ensure();
        int compared = 0;
        for (Class<?> c : new Class<?>[] {DataQueueLayout.class, IOReturn.class}) {
            for (Field f : c.getDeclaredFields()) {
                int m = f.getModifiers();
                if (Modifier.isPublic(m) && Modifier.isStatic(m) && Modifier.isFinal(m) && f.getType() == int.class) {
                    long fromC = DataQueueNative.jd_dq_constant(f.getName());
                    assertTrue(fromC != Long.MIN_VALUE, f.getName() + " is not known to the C header");
                    assertEquals(fromC, f.getInt(null), c.getSimpleName() + "." + f.getName() + " differs from C");
                    compared++;
                }
            }
        }
        assertEquals(17, compared, "every constant of the C table has a Java twin");
        assertEquals(Long.MIN_VALUE, DataQueueNative.jd_dq_constant("NO_SUCH_CONSTANT"));
    }
}
