package io.jdispatch;

import java.lang.invoke.MethodHandles;
import java.util.List;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.FlightRecorder;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;
import jdk.jfr.Threshold;

/**
 * The library's JDK Flight Recorder events, under the category "JDispatch":
 * <ul>
 * <li>{@code io.jdispatch.SlowTask}: a task or source handler that ran at least the event's threshold
 *     (default 20 ms; set it like any JFR threshold, e.g. {@code recording.enable("io.jdispatch.SlowTask")
 *     .withThreshold(Duration.ofMillis(5))} or {@code threshold} in a .jfc file), with its queue's label;
 * <li>{@code io.jdispatch.TaskException}: a task or handler threw (what {@link Dispatch#reportException}
 *     then receives);
 * <li>{@code io.jdispatch.SourceCreate} and {@code io.jdispatch.SourceCancel}: a {@link DispatchSource} was
 *     created, or cancelled (by cancel() or close()).
 * </ul>
 * Until JFR is started in the JVM an event costs one static read and no event class is loaded; after that an
 * {@code isEnabled()} that returns false unless a recording enables it (the unused event object is optimised
 * away), so a task is timed only while a recording enables SlowTask. On a runtime without the jdk.jfr module
 * nothing here is loaded.
 */
final class Jfr {
    /** False on a runtime image without jdk.jfr: the event classes below are then never touched. */
    static final boolean AVAILABLE = ModuleLayer.boot().findModule("jdk.jfr").isPresent();

    /** Set once the event classes below are initialised (registered with JFR): until then no event is made. */
    private static volatile boolean ready;

    static {
        if (AVAILABLE) {
            Starter.install(); // Starter's code names jdk.jfr types: it is verified only here
        }
    }

    private Jfr() {}

    /** Initialises this class (see {@link Dispatch}'s static initialiser). */
    static void init() {}

    /**
     * Initialises the event classes when JFR comes up (-XX:StartFlightRecording, jcmd JFR.start, a new
     * Recording), on the thread that starts it. Not before: initialising an event class registers it with JFR,
     * which loads JFR's metadata repository (some 25 ms of CPU) in applications that never record. Not on
     * first use either: virtual threads waiting for a class initialiser that long pin their carriers.
     */
    private static final class Starter implements jdk.jfr.FlightRecorderListener {
        static void install() {
            try {
                FlightRecorder.addListener(new Starter());
            } catch (Throwable noJfr) {
                // No events.
            }
        }

        @Override
        public void recorderInitialized(FlightRecorder recorder) {
            try {
                MethodHandles.Lookup lookup = MethodHandles.lookup();
                for (Class<?> event : List.of(SlowTask.class, TaskException.class, SourceCreate.class, SourceCancel.class)) {
                    lookup.ensureInitialized(event);
                }
                ready = true;
            } catch (Throwable failed) {
                // No events.
            }
        }
    }

    private static boolean up() {
        return ready;
    }

    @Name("io.jdispatch.SlowTask")
    @Label("Slow Task")
    @Category("JDispatch")
    @Description("A task or dispatch source handler that ran longer than the threshold")
    @Threshold("20 ms")
    @StackTrace(false)
    static final class SlowTask extends Event {
        @Label("Queue")
        @Description("The label of the queue the task ran on")
        String queue;

        @Label("Task Class")
        String taskClass;
    }

    @Name("io.jdispatch.TaskException")
    @Label("Task Exception")
    @Category("JDispatch")
    @Description("A task or dispatch source handler threw; the exception went to Dispatch.reportException")
    @StackTrace(false)
    static final class TaskException extends Event {
        @Label("Queue")
        String queue;

        @Label("Task Class")
        String taskClass;

        @Label("Exception Class")
        String exceptionClass;

        @Label("Message")
        String message;
    }

    @Name("io.jdispatch.SourceCreate")
    @Label("Dispatch Source Created")
    @Category("JDispatch")
    static final class SourceCreate extends Event {
        @Label("Type")
        String type;

        @Label("Handle")
        long handle;

        @Label("Mask")
        long mask;

        @Label("Queue")
        String queue;
    }

    @Name("io.jdispatch.SourceCancel")
    @Label("Dispatch Source Cancelled")
    @Category("JDispatch")
    static final class SourceCancel extends Event {
        @Label("Type")
        String type;

        @Label("Handle")
        long handle;

        @Label("Queue")
        String queue;

        @Label("By")
        @Description("cancel() or close()")
        String by;
    }

    /**
     * Starts timing a task as a SlowTask event: the event, or null when no recording enables SlowTask or there
     * is no memory for it (the task then runs untimed). Never throws. (Object: callers need not load the type.)
     */
    static Object beginSlowTask() {
        if (!up()) {
            return null;
        }
        try {
            SlowTask e = new SlowTask();
            if (!e.isEnabled()) {
                return null;
            }
            e.begin();
            return e;
        } catch (Throwable noMemory) {
            return null;
        }
    }

    /** Ends what {@link #beginSlowTask} started, for {@code task} of queue {@code label}. Never throws. */
    static void endSlowTask(Object event, Object task, String label) {
        try {
            SlowTask e = (SlowTask) event;
            e.end();
            if (e.shouldCommit()) {
                e.queue = label;
                e.taskClass = task.getClass().getName();
                e.commit();
            }
        } catch (Throwable ignored) {
            // A recording must never fail the task that ran.
        }
    }

    static void taskException(Throwable t, Object task, String label) {
        if (!up()) {
            return;
        }
        try {
            TaskException e = new TaskException();
            if (e.isEnabled()) {
                e.queue = label;
                e.taskClass = task == null ? null : task.getClass().getName();
                e.exceptionClass = t.getClass().getName();
                e.message = t.getMessage();
                e.commit();
            }
        } catch (Throwable ignored) {
            // Recording never fails the call it records (e.g. no memory for the event).
        }
    }

    static void sourceCreate(DispatchSource.Type type, long handle, long mask, String queue) {
        if (!up()) {
            return;
        }
        try {
            SourceCreate e = new SourceCreate();
            if (e.isEnabled()) {
                e.type = type.name();
                e.handle = handle;
                e.mask = mask;
                e.queue = queue;
                e.commit();
            }
        } catch (Throwable ignored) {
            // Recording never fails the call it records (e.g. no memory for the event).
        }
    }

    static void sourceCancel(DispatchSource.Type type, long handle, String queue, String by) {
        if (!up()) {
            return;
        }
        try {
            SourceCancel e = new SourceCancel();
            if (e.isEnabled()) {
                e.type = type.name();
                e.handle = handle;
                e.queue = queue;
                e.by = by;
                e.commit();
            }
        } catch (Throwable ignored) {
            // Recording never fails the call it records (e.g. no memory for the event).
        }
    }
}
