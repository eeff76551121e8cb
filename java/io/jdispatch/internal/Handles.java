package io.jdispatch.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Maps the context ids that cross into C to the Java objects they stand for. C never holds a Java
 * reference: it holds an id, and a callback looks the object up here.
 *
 * <p>A lock-free slot table (one register + one remove per async task, so no boxing, no map node): an id is
 * {@code generation << 26 | slot}. Each slot has a state {@code generation << 1 | live}; {@link #remove}
 * wins by a CAS of that state, so an object is removed exactly once, and a freed slot goes on a free list
 * (a Treiber stack whose head carries a tag against ABA). Reusing a slot bumps its generation, so a stale id
 * finds nothing rather than another task's object (it could only alias after 2^37 reuses of one slot).
 * Slots live in chunks of 4096 that are added, never moved, under a lock when the table is full.
 */
public final class Handles {
    private static final int SLOT_BITS = 26;
    private static final int MAX_SLOTS = 1 << SLOT_BITS;
    private static final long GENERATION_MASK = (1L << (63 - SLOT_BITS)) - 1; // ids stay positive
    private static final int CHUNK_BITS = 12;
    private static final int CHUNK = 1 << CHUNK_BITS;
    private static final VarHandle STATES = MethodHandles.arrayElementVarHandle(long[].class);

    private static final class Chunk {
        final Object[] objects = new Object[CHUNK];
        /** What a task runs with (its queue's {@link Upcalls.TaskContext}), so that no wrapper is allocated. */
        final Object[] contexts = new Object[CHUNK];
        final long[] states = new long[CHUNK];
        /** Free-list link: the slot below this one on the stack, or -1. */
        final int[] next = new int[CHUNK];
    }

    private static volatile Chunk[] chunks = {new Chunk()};
    /** Never-used slots start here. */
    private static final AtomicInteger FRESH = new AtomicInteger();
    /** Free-list head: tag << 32 | (slot + 1); slot + 1 == 0 means empty. */
    private static final AtomicLong FREE = new AtomicLong();

    private Handles() {}

    /**
     * Registers {@code o} and returns its id.
     *
     * @param o the object C will refer to by id
     * @return the id
     */
    public static long register(Object o) {
        return register(o, null);
    }

    /**
     * Registers {@code o} with a context object (for example the queue a task belongs to), read back with
     * {@link #context}: a pair without allocating one.
     *
     * @param o the object C will refer to by id
     * @param context read back with {@link #context}, or null
     * @return the id
     */
    public static long register(Object o, Object context) {
        Objects.requireNonNull(o, "Handles.register: object is null");
        int slot = pop();
        Chunk c = chunks[slot >>> CHUNK_BITS];
        int i = slot & (CHUNK - 1);
        long generation = ((c.states[i] >>> 1) + 1) & GENERATION_MASK;
        if (generation == 0) {
            generation = 1;
        }
        c.objects[i] = o; // the slot is ours alone until the release store below publishes it
        c.contexts[i] = context;
        STATES.setRelease(c.states, i, generation << 1 | 1);
        return generation << SLOT_BITS | slot;
    }

    public static Object get(long id) {
        return get(id, false);
    }

    /**
     * The context {@code id} was registered with, or null (none, or the id is not live).
     *
     * @param id an id from {@link #register(Object, Object)}
     * @return its context, or null
     */
    public static Object context(long id) {
        return get(id, true);
    }

    private static Object get(long id, boolean context) {
        Chunk c = chunk(id);
        if (c == null) {
            return null;
        }
        int i = (int) id & (CHUNK - 1);
        long live = (id >>> SLOT_BITS) << 1 | 1;
        if ((long) STATES.getAcquire(c.states, i) != live) {
            return null;
        }
        Object o = context ? c.contexts[i] : c.objects[i];
        VarHandle.loadLoadFence();
        // Unchanged state: the slot was not freed and reused while we read it, so o is this id's object.
        return (long) STATES.getVolatile(c.states, i) == live ? o : null;
    }

    public static Object remove(long id) {
        Chunk c = chunk(id);
        if (c == null) {
            return null;
        }
        int i = (int) id & (CHUNK - 1);
        long live = (id >>> SLOT_BITS) << 1 | 1;
        if (!STATES.compareAndSet(c.states, i, live, live & ~1L)) {
            return null;
        }
        Object o = c.objects[i];
        c.objects[i] = null;
        c.contexts[i] = null;
        push((int) (id & (MAX_SLOTS - 1)));
        return o;
    }

    /** {@return the chunks the table has grown to} (chunks are added, never removed) */
    public static int chunkCount() {
        return chunks.length;
    }

    /** {@return how many objects are registered now} (a scan: for leak tests, not for hot paths) */
    public static int size() {
        int n = 0;
        for (Chunk c : chunks) {
            for (int i = 0; i < CHUNK; i++) {
                n += (int) ((long) STATES.getVolatile(c.states, i) & 1);
            }
        }
        return n;
    }

    private static Chunk chunk(long id) {
        int slot = (int) (id & (MAX_SLOTS - 1));
        Chunk[] cs = chunks;
        return id > 0 && (slot >>> CHUNK_BITS) < cs.length ? cs[slot >>> CHUNK_BITS] : null;
    }

    private static int pop() {
        while (true) {
            long head = FREE.get();
            int slot = (int) head - 1;
            if (slot < 0) {
                return fresh();
            }
            // A stale read of next (the slot was popped and pushed meanwhile) fails the CAS: the tag moved.
            int below = chunks[slot >>> CHUNK_BITS].next[slot & (CHUNK - 1)];
            if (FREE.compareAndSet(head, ((head >>> 32) + 1) << 32 | (below + 1L))) {
                return slot;
            }
        }
    }

    private static void push(int slot) {
        int[] next = chunks[slot >>> CHUNK_BITS].next;
        while (true) {
            long head = FREE.get();
            next[slot & (CHUNK - 1)] = (int) head - 1;
            if (FREE.compareAndSet(head, ((head >>> 32) + 1) << 32 | (slot + 1L))) {
                return;
            }
        }
    }

    private static int fresh() {
        while (true) {
            int slot = FRESH.get();
            if (slot >= chunks.length * CHUNK) {
                grow(slot); // claims nothing: when it throws (the cap, OutOfMemoryError) no slot is lost
            } else if (FRESH.compareAndSet(slot, slot + 1)) {
                return slot;
            }
        }
    }

    private static synchronized void grow(int slot) {
        if (slot >= MAX_SLOTS) {
            throw new IllegalStateException("Handles: more than " + MAX_SLOTS
                    + " tasks/handlers registered at once (each queued task holds one until it runs)");
        }
        Chunk[] cs = chunks;
        if (slot >= cs.length * CHUNK) {
            Chunk[] bigger = Arrays.copyOf(cs, (slot >>> CHUNK_BITS) + 1);
            for (int k = cs.length; k < bigger.length; k++) {
                bigger[k] = new Chunk();
            }
            chunks = bigger;
        }
    }
}
