// glibc's malloc_trim, which Swift's Glibc module does not export (<malloc.h> is not in it).
#ifndef CMEMORY_H
#define CMEMORY_H

/// Returns the allocator's free memory to the system; 1 when some was released. Does nothing
/// where the C library has no malloc_trim.
int cmemory_trim(void);

#endif
