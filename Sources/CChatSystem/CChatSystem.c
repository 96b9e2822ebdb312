#include "CChatSystem.h"

// Any C library header defines __GLIBC__ on glibc; without one the checks below are always false.
#include <stdlib.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#if defined(__linux__)
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

int chat_trim_memory(void) {
#if defined(__GLIBC__)
    return malloc_trim(0);
#else
    return 0;
#endif
}

int chat_lower_thread_priority(int niceness) {
#if defined(__linux__)
    // On Linux a thread is a task of its own: its id as PRIO_PROCESS's "who" names this thread only.
    return setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), niceness);
#else
    (void)niceness;
    return -1;
#endif
}
