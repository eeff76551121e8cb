package io.jdispatch;

/**
 * Runs user code (tasks, source handlers) on a libdispatch worker with what a thread dump, an exception
 * report and a recording need: the worker named after the queue, the exception reported with the queue's
 * label ({@link Jfr.TaskException} and {@link Dispatch#reportException}), slow runs recorded
 * ({@link Jfr.SlowTask}), and completions counted for {@link DispatchQueue#getCounters()}.
 *
 * <p>Naming: while a drain batch or a task of its own runs, the worker thread is called
 * {@code "<its name> [<queue label>]"}; its name is restored afterwards. Renaming a thread attached through
 * JNI (every libdispatch worker) makes no system call (HotSpot leaves the OS name of such threads alone): a
 * rename and restore cost some 30-45 ns, once per drain batch on serial and global queues, once per task on
 * a queue created concurrent. {@code -Djdispatch.threadNames=false} turns it off.
 */
final class TaskRunner {
    static final boolean NAMES = !"false".equals(System.getProperty("jdispatch.threadNames"));
    /** Per worker: the last {name, label, labelled name}, so a worker serving one queue builds its name once. */
    private static final ThreadLocal<String[]> LAST_NAME = ThreadLocal.withInitial(() -> new String[3]);

    private TaskRunner() {}

    /** Initializes this class (see {@link DispatchQueue.Stats}'s static initializer). */
    static void init() {}

    /**
     * Names the current thread after {@code label}; returns the name to give back, or null (naming off, or no
     * memory for the new name: a full heap must not keep a task from running). Never throws.
     */
    static String nameWorker(String label) {
        if (!NAMES) {
            return null;
        }
        try {
            Thread t = Thread.currentThread();
            String name = t.getName();
            String[] last = LAST_NAME.get();
            if (last[0] != name || last[1] != label) { // identity: the same strings as last time
                String labelled = labelled(name, label); // first: an OutOfMemoryError here leaves last intact
                last[2] = labelled;
                last[1] = label;
                last[0] = name;
            }
            t.setName(last[2]);
            return name;
        } catch (Throwable noMemory) {
            return null;
        }
    }

    /** Gives back the name {@link #nameWorker} returned. */
    static void restoreName(String saved) {
        if (saved != null) {
            Thread.currentThread().setName(saved);
        }
    }

    private static String labelled(String name, String label) {
        return name + " [" + label + "]";
    }

    /**
     * Runs {@code task} on a worker: interrupt status cleared first (an earlier task's interrupt never reaches
     * this one), exceptions reported with {@code label}, its completion counted in {@code stats} (null: not counted).
     */
    static void run(Runnable task, String label, DispatchQueue.Stats stats) {
        Thread.interrupted();
        Object timing = Jfr.AVAILABLE ? Jfr.beginSlowTask() : null;
        runCounted(task, label, stats);
        if (timing != null) {
            Jfr.endSlowTask(timing, task, label);
        }
    }

    static void runCounted(Runnable task, String label, DispatchQueue.Stats stats) {
        try {
            task.run();
        } catch (Throwable t) {
            report(t, task, label);
        } finally {
            if (stats != null) {
                stats.completed();
            }
        }
    }

    /**
     * Reports what a task or handler of the queue {@code label} threw: a TaskException event, then
     * {@link Dispatch#reportException} on a thread whose name carries the label (renamed for the report when
     * it does not already, e.g. with naming off), so the default report reads
     * {@code Exception in thread "<worker> [<label>]"}. Never throws.
     */
    static void report(Throwable t, Object task, String label) {
        if (Jfr.AVAILABLE) {
            Jfr.taskException(t, task, label); // never throws
        }
        Thread current = Thread.currentThread();
        String name = current.getName();
        String labelled = null;
        try {
            if (label != null && !isLabelled(name, label)) {
                labelled = labelled(name, label);
            }
        } catch (Throwable noMemory) {
            // The report goes out under the worker's own name.
        }
        if (labelled == null) {
            Dispatch.reportException(t);
            return;
        }
        current.setName(labelled);
        try {
            Dispatch.reportException(t);
        } finally {
            current.setName(name);
        }
    }

    /** Whether {@code name} is already {@code "<worker> [<label>]"} (compared without allocating). */
    private static boolean isLabelled(String name, String label) {
        int start = name.length() - label.length() - 3;
        return start >= 0 && name.startsWith(" [", start) && name.startsWith(label, start + 2) && name.endsWith("]");
    }
}
