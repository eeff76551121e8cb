package io.jdispatch;

import io.jdispatch.internal.Handles;
import io.jdispatch.testutil.ProcessStats;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.FileDescriptor;
import java.io.UncheckedIOException;
import java.nio.channels.Channel;
import java.nio.channels.FileChannel;
import java.nio.channels.Pipe;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.stream.Stream;

import static io.jdispatch.DispatchSourceTest.collect;
import static io.jdispatch.DispatchSourceTest.take;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The bad-input table (README, "Bad input"): every public entry point of DispatchSource and of DispatchQueue's
 * API given null, negative, out-of-range, closed or foreign values. Each row must throw the documented type
 * with a message naming the call's value, leave no handle registered, and the next valid call must work.
 */
class BadInputTest {
    /** One row: what is called with what, the exception, and what its message must name ({fd} etc. from the fixture). */
    record Case(String entry, String input, Class<? extends Throwable> expected, Call call, String... names) {
        @Override
        public String toString() {
            return entry + " <- " + input;
        }
    }

    interface Call {
        void call(BadInputTest f) throws Exception;
    }

    @TempDir
    Path dir;
    DispatchQueue queue;
    DispatchQueue closedQueue;
    Pipe pipe;
    int readFd, writeFd, fileFd, closedFd;
    FileChannel file;
    final List<DispatchSource> sources = new ArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        queue = DispatchQueue.createSerial("bad-input");
        closedQueue = DispatchQueue.createSerial("closed-target");
        closedQueue.close();
        pipe = Pipe.open();
        readFd = FileDescriptors.of(pipe.source());
        writeFd = FileDescriptors.of(pipe.sink());
        Path p = Files.writeString(dir.resolve("regular.txt"), "0123456789");
        file = FileChannel.open(p);
        fileFd = FileDescriptors.of(file);
        Pipe closed = Pipe.open();
        closedFd = FileDescriptors.of(closed.source());
        closed.source().close();
        closed.sink().close();
    }

    @AfterEach
    void tearDown() throws Exception {
        for (DispatchSource s : sources) {
            s.close();
        }
        queue.sync(() -> { }); // cancel handlers of the closed sources have run
        queue.close();
        pipe.source().close();
        pipe.sink().close();
        file.close();
    }

    DispatchSource track(DispatchSource s) {
        sources.add(s);
        return s;
    }

    DispatchSource data() {
        return track(DispatchSource.dataAdd(queue));
    }

    DispatchSource active() {
        DispatchSource s = data();
        s.resume();
        return s;
    }

    DispatchSource cancelled() {
        DispatchSource s = active();
        s.cancel();
        return s;
    }

    DispatchSource closed() {
        DispatchSource s = DispatchSource.dataAdd(queue);
        s.close();
        return s;
    }

    DispatchSource timer() {
        return track(DispatchSource.timer(false, queue));
    }

    static Stream<Case> cases() {
        Class<NullPointerException> npe = NullPointerException.class;
        Class<IllegalArgumentException> iae = IllegalArgumentException.class;
        Class<IllegalStateException> ise = IllegalStateException.class;
        Class<UnsupportedOperationException> uoe = UnsupportedOperationException.class;
        Class<UncheckedIOException> exhausted = UncheckedIOException.class; // EMFILE, ENFILE, ENOMEM
        return Stream.of(
                // ---- create and the typed factories
                new Case("create", "type null", npe, f -> DispatchSource.create(null, 0, 0, f.queue), "type is null"),
                new Case("create", "MACH_RECV (macOS only)", uoe,
                        f -> DispatchSource.create(DispatchSource.Type.MACH_RECV, 0, 0, f.queue), "MACH_RECV", "macOS"),
                new Case("create", "MACH_SEND (macOS only)", uoe,
                        f -> DispatchSource.create(DispatchSource.Type.MACH_SEND, 1, 1, f.queue), "MACH_SEND"),
                new Case("create", "DATA_ADD handle 7", iae,
                        f -> DispatchSource.create(DispatchSource.Type.DATA_ADD, 7, 0, f.queue), "DATA_ADD, 7,", "must be 0"),
                new Case("create", "DATA_OR mask 0x10", iae,
                        f -> DispatchSource.create(DispatchSource.Type.DATA_OR, 0, 0x10, f.queue), "0x10", "must be 0"),
                new Case("create", "DATA_REPLACE handle -1", iae,
                        f -> DispatchSource.create(DispatchSource.Type.DATA_REPLACE, -1, 0, f.queue), ", -1,"),
                new Case("create", "TIMER mask 0x2", iae,
                        f -> DispatchSource.create(DispatchSource.Type.TIMER, 0, 2, f.queue), "0x2", "DISPATCH_TIMER_STRICT"),
                new Case("create", "TIMER handle 3", iae,
                        f -> DispatchSource.create(DispatchSource.Type.TIMER, 3, 0, f.queue), "TIMER, 3,"),
                new Case("create", "target queue closed", ise,
                        f -> DispatchSource.create(DispatchSource.Type.DATA_ADD, 0, 0, f.closedQueue), "closed-target", "closed"),
                new Case("read", "fd -1", iae, f -> DispatchSource.read(-1, f.queue), "READ, -1,", "not an open file descriptor"),
                new Case("read", "closed fd", iae, f -> DispatchSource.read(f.closedFd, f.queue), "READ, {closedFd},", "not an open"),
                new Case("read", "fd Integer.MAX_VALUE", iae,
                        f -> DispatchSource.read(Integer.MAX_VALUE, f.queue), String.valueOf(Integer.MAX_VALUE)),
                new Case("create", "READ fd 2^40", iae,
                        f -> DispatchSource.create(DispatchSource.Type.READ, 1L << 40, 0, f.queue), String.valueOf(1L << 40)),
                new Case("create", "READ mask 0x1", iae,
                        f -> DispatchSource.create(DispatchSource.Type.READ, f.readFd, 1, f.queue), "0x1", "must be 0"),
                new Case("write", "closed fd", iae, f -> DispatchSource.write(f.closedFd, f.queue), "WRITE, {closedFd},"),
                new Case("write", "fd -7", iae, f -> DispatchSource.write(-7, f.queue), "WRITE, -7,"),
                new Case("signal", "0", iae, f -> DispatchSource.signal(0, f.queue), "signal 0", "1 .. NSIG-1"),
                new Case("signal", "-1", iae, f -> DispatchSource.signal(-1, f.queue), "signal -1", "out of range"),
                new Case("signal", "65 (NSIG)", iae, f -> DispatchSource.signal(65, f.queue), "signal 65", "out of range"),
                new Case("signal", "SIGSEGV (11)", iae, f -> DispatchSource.signal(11, f.queue), "signal 11", "SIGSEGV"),
                new Case("signal", "SIGKILL (9)", iae, f -> DispatchSource.signal(9, f.queue), "signal 9", "SIGKILL"),
                new Case("signal", "SIGTERM (15)", iae, f -> DispatchSource.signal(15, f.queue), "signal 15", "shutdown hooks"),
                new Case("signal", "32 (glibc-reserved)", iae, f -> DispatchSource.signal(32, f.queue), "signal 32", "reserved"),
                new Case("create", "SIGNAL mask 0x4", iae,
                        f -> DispatchSource.create(DispatchSource.Type.SIGNAL, 10, 4, f.queue), "0x4", "must be 0"),
                new Case("proc", "pid 0", iae, f -> DispatchSource.proc(0, DispatchSource.PROC_EXIT, f.queue), "PROC, 0,", "process id"),
                new Case("proc", "pid -1", iae, f -> DispatchSource.proc(-1, DispatchSource.PROC_EXIT, f.queue), "PROC, -1,"),
                new Case("proc", "pid 2^31-1 (no such process)", iae,
                        f -> DispatchSource.proc(Integer.MAX_VALUE, DispatchSource.PROC_EXIT, f.queue),
                        String.valueOf(Integer.MAX_VALUE), "No such process"),
                new Case("proc(ProcessHandle)", "null", npe,
                        f -> DispatchSource.proc((ProcessHandle) null, DispatchSource.PROC_EXIT, f.queue), "process is null"),
                new Case("proc(Process)", "null", npe,
                        f -> DispatchSource.proc((Process) null, DispatchSource.PROC_EXIT, f.queue), "process is null"),
                new Case("proc(ProcessHandle)", "mask PROC_EXEC", uoe,
                        f -> DispatchSource.proc(ProcessHandle.current(), DispatchSource.PROC_EXEC, f.queue), "DISPATCH_PROC_EXEC"),
                new Case("proc", "mask PROC_FORK", uoe,
                        f -> DispatchSource.proc(ProcessHandle.current().pid(), DispatchSource.PROC_FORK, f.queue),
                        "DISPATCH_PROC_FORK", "0x40000000"),
                new Case("proc", "mask 0x1 (unknown bit)", iae,
                        f -> DispatchSource.proc(ProcessHandle.current().pid(), 1, f.queue), "unknown mask bits 0x1"),
                new Case("vnode", "fd -1", iae, f -> DispatchSource.vnode(-1, DispatchSource.VNODE_WRITE, f.queue), "VNODE, -1,"),
                new Case("vnode", "closed fd", iae,
                        f -> DispatchSource.vnode(f.closedFd, DispatchSource.VNODE_WRITE, f.queue), "VNODE, {closedFd},"),
                new Case("vnode", "fd of a pipe", iae,
                        f -> DispatchSource.vnode(f.readFd, DispatchSource.VNODE_WRITE, f.queue), "VNODE, {readFd},", "inotify"),
                new Case("vnode", "mask VNODE_FUNLOCK", uoe,
                        f -> DispatchSource.vnode(f.fileFd, DispatchSource.VNODE_FUNLOCK, f.queue), "DISPATCH_VNODE_FUNLOCK"),
                new Case("vnode", "mask 0x1000 (unknown bit)", iae,
                        f -> DispatchSource.vnode(f.fileFd, 0x1000, f.queue), "unknown mask bits 0x1000"),
                new Case("vnode", "more sources than inotify instances", exhausted, f -> {
                    for (int i = 0; i < 100_000; i++) {
                        f.track(DispatchSource.vnode(f.fileFd, DispatchSource.VNODE_WRITE, f.queue));
                    }
                }, "VNODE, {fileFd},", "max_user_instances"),
                new Case("memoryPressure", "mask 0x8 (unknown bit)", iae,
                        f -> DispatchSource.memoryPressure(0x8, f.queue), "MEMORYPRESSURE", "0x8"),
                new Case("create", "MEMORYPRESSURE handle 5", iae,
                        f -> DispatchSource.create(DispatchSource.Type.MEMORYPRESSURE, 5, 1, f.queue), "MEMORYPRESSURE, 5,"),
                // ---- fileDescriptor
                new Case("FileDescriptors.of(Channel)", "null", npe, f -> FileDescriptors.of((Channel) null), "channel is null"),
                new Case("FileDescriptors.of(Channel)", "closed channel", iae, f -> {
                    Pipe p = Pipe.open();
                    p.sink().close();
                    p.source().close();
                    FileDescriptors.of(p.source());
                }, "is closed", "SourceChannel"),
                new Case("FileDescriptors.of(Channel)", "foreign Channel implementation", iae,
                        f -> FileDescriptors.of(new ForeignChannel()), "ForeignChannel", "no file descriptor"),
                new Case("FileDescriptors.of(FileDescriptor)", "null", npe,
                        f -> FileDescriptors.of((FileDescriptor) null), "descriptor is null"),
                new Case("FileDescriptors.of(FileDescriptor)", "new FileDescriptor() (invalid)", iae,
                        f -> FileDescriptors.of(new FileDescriptor()), "not valid"),
                // ---- instance methods in the wrong state or with bad values
                new Case("resume", "twice", ise, f -> {
                    DispatchSource s = f.active();
                    s.resume();
                }, "dispatch_resume", "DispatchSource[DATA_ADD", "not suspended"),
                new Case("suspend", "inactive source", ise, f -> f.data().suspend(), "dispatch_suspend", "not activated"),
                new Case("suspend", "cancelled source", ise, f -> f.cancelled().suspend(), "dispatch_suspend", "cancelled"),
                new Case("mergeData", "TIMER source", ise, f -> f.timer().mergeData(1), "dispatch_source_merge_data", "TIMER", "not a DATA_ADD"),
                new Case("setTimer", "DATA_ADD source", ise, f -> f.data().setTimer(DispatchTime.NOW, 1, 0), "dispatch_source_set_timer", "DATA_ADD", "not a TIMER"),
                new Case("setTimer", "leeway -1", iae, f -> f.timer().setTimer(DispatchTime.NOW, 1_000_000, -1), "leeway -1", "negative"),
                new Case("setTimer(Duration)", "interval -1 ns", iae,
                        f -> f.timer().setTimer(DispatchTime.NOW, Duration.ofNanos(-1), Duration.ZERO), "interval PT-0.000000001S", "negative"),
                new Case("setTimer(Duration)", "leeway -1 s", iae,
                        f -> f.timer().setTimer(DispatchTime.NOW, Duration.ofMillis(1), Duration.ofSeconds(-1)), "leeway PT-1S", "negative"),
                new Case("setTimer(Duration)", "null interval", npe,
                        f -> f.timer().setTimer(DispatchTime.NOW, null, Duration.ZERO), "dispatch_source_set_timer", "interval is null"),
                new Case("setTimer", "cancelled TIMER", ise, f -> {
                    DispatchSource t = f.timer();
                    t.resume();
                    t.cancel();
                    t.setTimer(DispatchTime.NOW, 1_000_000, 0);
                }, "dispatch_source_set_timer", "TIMER", "cancelled"),
                new Case("setEventHandler", "cancelled source", ise, f -> f.cancelled().setEventHandler(() -> { }),
                        "dispatch_source_set_event_handler", "cancelled"),
                new Case("setCancelHandler", "cancelled source", ise, f -> f.cancelled().setCancelHandler(() -> { }),
                        "dispatch_source_set_cancel_handler", "cancelled"),
                new Case("setRegistrationHandler", "cancelled source", ise, f -> f.cancelled().setRegistrationHandler(() -> { }),
                        "dispatch_source_set_registration_handler", "cancelled"),
                new Case("setCloseOnCancel", "DATA_ADD source", ise, f -> f.data().setCloseOnCancel(true),
                        "setCloseOnCancel", "DATA_ADD", "no file descriptor"),
                new Case("mergeData", "closed source", ise, f -> f.closed().mergeData(1), "dispatch_source_merge_data", "DispatchSource[DATA_ADD", "closed"),
                new Case("resume", "closed source", ise, f -> f.closed().resume(), "dispatch_resume", "closed"),
                new Case("activate", "closed source", ise, f -> f.closed().activate(), "dispatch_activate", "closed"),
                new Case("suspend", "closed source", ise, f -> f.closed().suspend(), "dispatch_suspend", "closed"),
                new Case("cancel", "closed source", ise, f -> f.closed().cancel(), "dispatch_source_cancel", "closed"),
                new Case("isCancelled", "closed source", ise, f -> f.closed().isCancelled(), "dispatch_source_testcancel", "closed"),
                new Case("getData", "closed source (outside its handler)", ise, f -> f.closed().getData(), "dispatch_source_get_data", "closed"),
                new Case("setEventHandler", "closed source", ise, f -> f.closed().setEventHandler(() -> { }), "dispatch_source_set_event_handler", "closed"),
                new Case("setTimer", "closed TIMER", ise, f -> {
                    DispatchSource t = DispatchSource.timer(false, f.queue);
                    t.close();
                    t.setTimer(DispatchTime.NOW, 1, 0);
                }, "dispatch_source_set_timer", "DispatchSource[TIMER", "closed"),
                // ---- DispatchQueue
                new Case("DispatchQueue.async", "null task", npe, f -> f.queue.async((Runnable) null), "dispatch_async", "task is null"),
                new Case("DispatchQueue.sync", "null task", npe, f -> f.queue.sync((Runnable) null), "dispatch_sync", "task is null"),
                new Case("DispatchQueue.async", "closed queue", ise, f -> f.closedQueue.async(() -> { }), "closed-target", "closed"),
                new Case("DispatchQueue.sync", "closed queue", ise, f -> f.closedQueue.sync(() -> { }), "closed-target", "closed"),
                new Case("DispatchQueue.execute", "null task", npe, f -> f.queue.execute(null), "task is null"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void badInputIsRefusedClearlyAndTheNextValidCallWorks(Case c) throws Exception {
        queue.sync(() -> { });
        int handlesBefore = Handles.size();
        Throwable t = assertThrows(c.expected(), () -> c.call().call(this), c.toString());
        String message = String.valueOf(t.getMessage());
        for (String name : c.names()) {
            String expected = name.replace("{closedFd}", String.valueOf(closedFd)).replace("{readFd}", String.valueOf(readFd))
                    .replace("{fileFd}", String.valueOf(fileFd));
            assertTrue(message.contains(expected), c + ": message does not name \"" + expected + "\": " + message);
        }
        // Nothing was lost or leaked: the sources the row created are closed, their cancel handlers ran.
        for (DispatchSource s : sources) {
            s.close();
        }
        sources.clear();
        // Cancel handlers are queued asynchronously after cancel: wait for them (bounded).
        ProcessStats.awaitHandlesAtMost(handlesBefore, c + ": handles left registered (" + handlesBefore + " before)");
        // The next valid call works.
        try (DispatchSource ok = DispatchSource.dataAdd(queue)) {
            BlockingQueue<Long> seen = collect(ok);
            ok.resume();
            ok.mergeData(3);
            assertEquals(3, take(seen), c + ": a valid source after the bad call");
        }
    }

    /** A Channel that is not one of the JDK's: it has no fd. */
    static final class ForeignChannel implements Channel {
        @Override
        public boolean isOpen() {
            return true;
        }

        @Override
        public void close() {}
    }
}
