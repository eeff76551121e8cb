#include "jd_jvm.h"
#include "jdispatch.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

enum { FIRST_BACKOFF_NS = 1000000, MAX_BACKOFF_NS = 100000000 };

static JavaVM *vm;
static pthread_key_t attached_here; /* the JNIEnv of a thread this file attached, so that it is detached at exit */
static atomic_int workers;
static atomic_flag warned = ATOMIC_FLAG_INIT;

static void detach_at_exit(void *env) {
    (void)env;
    (*vm)->DetachCurrentThread(vm);
}

static void attach(void) {
    if (pthread_getspecific(attached_here)) {
        return;
    }
    JNIEnv *env;
    if ((*vm)->GetEnv(vm, (void **)&env, JNI_VERSION_1_6) == JNI_OK) {
        return; /* a Java thread, or one attached by someone else: theirs to detach */
    }
    char name[32];
    snprintf(name, sizeof name, "jdispatch-worker-%d", atomic_fetch_add(&workers, 1) + 1);
    JavaVMAttachArgs args = {.version = JNI_VERSION_1_6, .name = name, .group = NULL};
    long backoff = FIRST_BACKOFF_NS;
    jint rc;
    while ((rc = (*vm)->AttachCurrentThreadAsDaemon(vm, (void **)&env, &args)) != JNI_OK) {
        if (!atomic_flag_test_and_set(&warned)) { /* once per process: under heap pressure many threads wait */
            fprintf(stderr, "jdispatch: %s cannot attach to the JVM yet (JNI error %d, out of memory?); its callback "
                            "waits and the attach is retried until it succeeds\n", name, (int)rc);
        }
        struct timespec pause = {.tv_sec = 0, .tv_nsec = backoff};
        nanosleep(&pause, NULL);
        backoff = backoff * 2 < MAX_BACKOFF_NS ? backoff * 2 : MAX_BACKOFF_NS;
    }
    pthread_setspecific(attached_here, env);
}

void jd_jvm_install(JNIEnv *env, jclass caller) {
    (void)caller;
    if (vm == NULL && (*env)->GetJavaVM(env, &vm) == JNI_OK
        && pthread_key_create(&attached_here, detach_at_exit) == 0) {
        jd_attach_install(attach);
    }
}
