package io.jdispatch;

import io.jdispatch.internal.DataQueueLayout;
import io.jdispatch.internal.JDispatchNative;
import io.jdispatch.internal.LoopNative;
import io.jdispatch.internal.NativeLibrary;
import io.jdispatch.internal.SourceNative;

import org.junit.jupiter.api.Test;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every number C and Java share agrees, by name: the public Java constants (compile-time constants, so that
 * callers can switch on them) against the row of the same C name in jd_constants.c, and every row of that
 * table is either mirrored by one of them or read by Java at load time. A constant added on one side only fails here.
 */
class NativeConstantsTest {
    /** The public mirrors: C name -> Java value. */
    private static Map<String, Long> publicMirrors() throws ReflectiveOperationException {
        Map<String, Long> mirrors = new HashMap<>();
        fields(IOReturn.class, "", mirrors);
        fields(DataQueueLayout.class, "JD_DQ_", mirrors);
        fields(DispatchSource.class, "DISPATCH_", mirrors);
        fields(DispatchWorkItem.class, "DISPATCH_BLOCK_", mirrors);
        fields(DispatchWorkloop.class, "QOS_", mirrors);
        put(mirrors, "DISPATCH_TIME_NOW", DispatchTime.NOW.rawValue());
        put(mirrors, "DISPATCH_TIME_FOREVER", DispatchTime.FOREVER.rawValue());
        for (QoSClass qos : QoSClass.values()) {
            put(mirrors, "QOS_CLASS_" + qos.name(), qos.value);
        }
        put(mirrors, "QOS_MIN_RELATIVE_PRIORITY", QoSClass.MIN_RELATIVE_PRIORITY);
        put(mirrors, "DISPATCH_IO_STREAM", DispatchIO.STREAM);
        put(mirrors, "DISPATCH_IO_RANDOM", DispatchIO.RANDOM);
        put(mirrors, "DISPATCH_IO_STOP", DispatchIO.STOP);
        put(mirrors, "DISPATCH_IO_STRICT_INTERVAL", DispatchIO.STRICT_INTERVAL);
        put(mirrors, "SIZE_MAX", DispatchIO.SIZE_MAX);
        for (String flag : new String[] {"O_RDONLY", "O_WRONLY", "O_RDWR", "O_CREAT", "O_EXCL", "O_TRUNC", "O_APPEND"}) {
            put(mirrors, flag, DispatchIO.class.getField(flag).getInt(null));
        }
        for (DispatchQueue.AutoreleaseFrequency f : DispatchQueue.AutoreleaseFrequency.values()) {
            put(mirrors, "DISPATCH_AUTORELEASE_FREQUENCY_" + f.name(), f.value);
        }
        return mirrors;
    }

    private static void fields(Class<?> c, String prefix, Map<String, Long> into) throws IllegalAccessException {
        for (Field f : c.getDeclaredFields()) {
            int m = f.getModifiers();
            if (Modifier.isPublic(m) && Modifier.isStatic(m) && Modifier.isFinal(m)
                    && (f.getType() == int.class || f.getType() == long.class)) {
                put(into, prefix + f.getName(), f.getType() == int.class ? f.getInt(null) : f.getLong(null));
            }
        }
    }

    private static void put(Map<String, Long> into, String name, long value) {
        assertFalse(into.containsKey(name), name + " is mirrored twice");
        into.put(name, value);
    }

    @Test
    void everyPublicConstantEqualsItsCRow() throws Exception {
        Dispatch.ensureAvailable();
        Map<String, Long> mirrors = publicMirrors();
        assertTrue(mirrors.size() >= 40, "mirrors found: " + mirrors.keySet());
        for (Map.Entry<String, Long> e : mirrors.entrySet()) {
            long fromC = JDispatchNative.jd_constant(e.getKey());
            assertTrue(fromC != Long.MIN_VALUE, e.getKey() + " has a Java mirror but no row in jd_constants.c");
            assertEquals(fromC, (long) e.getValue(), e.getKey() + ": Java says 0x" + Long.toHexString(e.getValue())
                    + ", C says 0x" + Long.toHexString(fromC));
        }
    }

    @Test
    void everyCRowIsMirroredOrReadByJava() throws Exception {
        Dispatch.ensureAvailable();
        Set<String> rows = new TreeSet<>();
        int count = JDispatchNative.jd_constant_count();
        for (int i = 0; i < count; i++) {
            assertTrue(rows.add(JDispatchNative.jd_constant_name(i)), "row " + i + " repeats a name");
        }
        // Mapping classes that read their rows at their first use, not at load time: initialized here.
        assertTrue(LoopNative.BATCH > 0, "JD_LOOP_BATCH");
        Set<String> read = NativeLibrary.constantsRead();
        Set<String> both = new HashSet<>(read);
        both.retainAll(publicMirrors().keySet());
        assertEquals(Set.of(), both, "read at load time and also mirrored by a public constant: one place each");
        Set<String> unused = new TreeSet<>(rows);
        unused.removeAll(read);
        unused.removeAll(publicMirrors().keySet());
        assertEquals(Set.of(), unused, "rows of jd_constants.c that no Java constant mirrors or reads");
        assertTrue(rows.containsAll(read), "read names all come from the table");
        assertEquals(null, JDispatchNative.jd_constant_name(count));
    }

    /**
     * Every DispatchSource.Type has its row in jd_source.c, and each public mask constant is a bit of its type's
     * row under its C name: the row's known mask is exactly the OR of the type's constants.
     */
    @Test
    void everySourceTypeAndMaskBitHasItsRow() throws Exception {
        Dispatch.ensureAvailable();
        Map<String, DispatchSource.Type> prefixes = Map.of("PROC_", DispatchSource.Type.PROC,
                "VNODE_", DispatchSource.Type.VNODE, "MEMORYPRESSURE_", DispatchSource.Type.MEMORYPRESSURE,
                "TIMER_", DispatchSource.Type.TIMER, "MACH_SEND_", DispatchSource.Type.MACH_SEND);
        Map<DispatchSource.Type, Long> javaMasks = new HashMap<>();
        for (Field f : DispatchSource.class.getDeclaredFields()) {
            int m = f.getModifiers();
            if (!Modifier.isPublic(m) || !Modifier.isStatic(m) || f.getType() != long.class) {
                continue;
            }
            DispatchSource.Type type = prefixes.entrySet().stream().filter(e -> f.getName().startsWith(e.getKey()))
                    .map(Map.Entry::getValue).findFirst().orElseThrow(() -> new AssertionError(f + ": which type?"));
            long bit = f.getLong(null);
            assertEquals(1, Long.bitCount(bit), f.getName() + " is one bit");
            assertEquals("DISPATCH_" + f.getName(), SourceNative.jd_source_mask_bit_name(type.code(), bit),
                    type + " row's name of bit 0x" + Long.toHexString(bit));
            javaMasks.merge(type, bit, (a, b) -> a | b);
        }
        Set<Integer> codes = new HashSet<>();
        for (DispatchSource.Type type : DispatchSource.Type.values()) {
            assertTrue(codes.add(type.code()), type + " shares its code " + type.code());
            long known = SourceNative.jd_source_known_mask(type.code());
            assertEquals(javaMasks.getOrDefault(type, 0L), known, type + ": Java's constants vs the row's known mask");
            long supported = SourceNative.jd_source_supported_mask(type.code());
            assertEquals(0, supported & ~known, type + " supports bits it does not define");
        }
        assertEquals(-1, SourceNative.jd_source_type_code("NO_SUCH_TYPE"));
    }

    @Test
    void anUnknownNameIsRefusedNamingIt() {
        Dispatch.ensureAvailable();
        assertEquals(Long.MIN_VALUE, JDispatchNative.jd_constant("NO_SUCH_CONSTANT"));
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> NativeLibrary.constant("NO_SUCH_CONSTANT"));
        assertTrue(e.getMessage().contains("NO_SUCH_CONSTANT") && e.getMessage().contains("jd_constants.c"),
                e.getMessage());
    }
}
