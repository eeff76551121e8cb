/*
 * Work items (jd_block.h). C++ for one reason: a block literal copies the C++ objects it captures with their
 * copy constructor and destroys them with their destructor (also when libdispatch's copy of the block is
 * freed), which is how the shim learns that a block is gone. libdispatch's own block.cpp relies on the same.
 */
#include "jd_block.h"
#include "jd_queue.h"

#include <Block.h>
#include <stdlib.h>

namespace {

/* The ids of one work item and how many captured copies of `Ids` refer to them. */
struct Shared {
    long refs;
    int64_t run_id;
    int64_t dispose_id;
};

/*
 * A counted reference to Shared. The block literal captures one; the compiler copies it into the stack block
 * and Block_copy into the heap block, each copy counted, each destruction uncounted: the last one (the heap
 * block freed by its last Block_release) calls Java with the dispose id.
 */
class Ids {
public:
    explicit Ids(Shared *shared) noexcept : shared_(shared) {}
    Ids(const Ids &other) noexcept : shared_(other.shared_) {
        __atomic_fetch_add(&shared_->refs, 1, __ATOMIC_RELAXED);
    }
    Ids &operator=(const Ids &) = delete;
    ~Ids() {
        if (__atomic_sub_fetch(&shared_->refs, 1, __ATOMIC_ACQ_REL) == 0) {
            int64_t dispose = shared_->dispose_id;
            free(shared_);
            jd_task_trampoline((void *)(intptr_t)dispose);
        }
    }
    int64_t run_id() const noexcept { return shared_->run_id; }

private:
    Shared *shared_;
};

dispatch_block_t as_block(void *block) { return (dispatch_block_t)block; }

/*
 * How the next run of a work item's body on this thread runs. The body runs as a barrier of its queue when
 * libdispatch says so: a DISPATCH_BLOCK_BARRIER block submitted (async, sync, a group: libdispatch makes those
 * barriers), or any block submitted with a barrier call; not when called directly. It records that barrier
 * (jd_queue_run_as_barrier), as a barrier task's trampoline does, so that a sync from it onto its own queue is
 * refused instead of aborting. Only the shims below set it, right before a call that runs the body at once on
 * this thread (nothing else runs there in between); the body takes it back to BY_FLAGS on entry.
 */
enum class Run { BY_FLAGS, DIRECT, BARRIER };
thread_local Run next_run = Run::BY_FLAGS;

/* A block submitted with dispatch_barrier_async_f: called directly, known as a barrier. */
void barrier_invoke(void *block) {
    next_run = Run::BARRIER;
    as_block(block)();
    next_run = Run::BY_FLAGS; // cancelled: the body never took it
    Block_release(as_block(block));
}

} // namespace

void *jd_block_create(uint64_t flags, int64_t run_id, int64_t dispose_id) {
    Shared *shared = (Shared *)malloc(sizeof *shared);
    if (shared == NULL) {
        return NULL;
    }
    shared->refs = 1;
    shared->run_id = run_id;
    shared->dispose_id = dispose_id;
    Ids ids(shared);
    const bool barrier = (flags & DISPATCH_BLOCK_BARRIER) != 0;
    dispatch_block_t block = dispatch_block_create((dispatch_block_flags_t)flags, ^{
        Run how = next_run;
        next_run = Run::BY_FLAGS;
        void *id = (void *)(intptr_t)ids.run_id();
        if (how == Run::BARRIER || (how == Run::BY_FLAGS && barrier)) {
            jd_queue_run_as_barrier(jd_task_trampoline, id);
        } else {
            jd_task_trampoline(id);
        }
    });
    return (void *)block;
}

void *jd_block_retain(void *block) {
    return (void *)Block_copy(as_block(block));
}

void jd_block_release(void *block) {
    Block_release(as_block(block));
}

void jd_block_invoke(void *block) {
    next_run = Run::DIRECT; // not a barrier, whatever the flags say
    as_block(block)();
    next_run = Run::BY_FLAGS;
}

void jd_block_cancel(void *block) {
    dispatch_block_cancel(as_block(block));
}

intptr_t jd_block_testcancel(void *block) {
    return dispatch_block_testcancel(as_block(block));
}

intptr_t jd_block_wait(void *block, dispatch_time_t timeout) {
    return dispatch_block_wait(as_block(block), timeout);
}

void jd_block_notify_block(void *block, dispatch_queue_t queue, void *notification) {
    dispatch_block_notify(as_block(block), queue, as_block(notification));
}

void jd_block_notify_task(void *block, dispatch_queue_t queue, int64_t id) {
    dispatch_block_notify(as_block(block), queue, ^{
        jd_task_trampoline((void *)(intptr_t)id);
    });
}

void jd_block_perform_task(uint64_t flags, int64_t id) {
    dispatch_block_perform((dispatch_block_flags_t)flags, ^{
        jd_task_trampoline((void *)(intptr_t)id);
    });
}

void jd_block_async(dispatch_queue_t queue, void *block) {
    dispatch_async(queue, as_block(block));
}

/*
 * Not dispatch_barrier_async(queue, block): its body could not tell that run from a plain one. The block is
 * called directly inside a barrier work item instead, which keeps cancel, wait and notify as they are (Linux has
 * no QoS or vouchers for the direct call to lose); the copy keeps the block alive until then.
 */
void jd_block_barrier_async(dispatch_queue_t queue, void *block) {
    dispatch_barrier_async_f(queue, (void *)Block_copy(as_block(block)), barrier_invoke);
}

void jd_block_sync(dispatch_queue_t queue, void *block) {
    dispatch_sync(queue, as_block(block));
}

void jd_block_barrier_sync(dispatch_queue_t queue, void *block) {
    next_run = Run::BARRIER; // runs on this thread, once the queue is ours
    dispatch_barrier_sync(queue, as_block(block));
    next_run = Run::BY_FLAGS;
}

void jd_block_after(dispatch_time_t when, dispatch_queue_t queue, void *block) {
    dispatch_after(when, queue, as_block(block));
}

void jd_block_group_async(dispatch_group_t group, dispatch_queue_t queue, void *block) {
    dispatch_group_async(group, queue, as_block(block));
}

void jd_block_group_notify(dispatch_group_t group, dispatch_queue_t queue, void *block) {
    dispatch_group_notify(group, queue, as_block(block));
}
