#include "CMemory.h"

// Any C library header defines __GLIBC__ on glibc; without one the check below is always false.
#include <stdlib.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

int cmemory_trim(void) {
#if defined(__GLIBC__)
    return malloc_trim(0);
#else
    return 0;
#endif
}
