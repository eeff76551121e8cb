package io.jdispatch.internal;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Maps the context ids that cross into C to the Java objects they stand for. C never holds a Java
 * reference: it holds an id, and a callback looks the object up here. Ids are never reused, so a stale id
 * finds nothing rather than someone else's object.
 */
public final class Handles {
    private static final ConcurrentHashMap<Long, Object> TABLE = new ConcurrentHashMap<>();
    private static final AtomicLong NEXT = new AtomicLong(1);

    private Handles() {}

    public static long register(Object o) {
        long id = NEXT.getAndIncrement();
        TABLE.put(id, o);
        return id;
    }

    public static Object get(long id) {
        return TABLE.get(id);
    }

    public static Object remove(long id) {
        return TABLE.remove(id);
    }

    /** How many objects are registered now (for leak tests). */
    public static int size() {
        return TABLE.size();
    }
}
