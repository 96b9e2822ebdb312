// The few C library calls the server needs that Swift's Glibc module does not export.
#ifndef CCHATSYSTEM_H
#define CCHATSYSTEM_H

/// Returns the allocator's free memory to the system (glibc's malloc_trim(0)); 1 when some was
/// released. Does nothing where the C library has no malloc_trim.
int chat_trim_memory(void);

/// Lowers the calling thread's scheduling priority to `niceness` (Linux: setpriority on the
/// thread's own id), so its work yields the CPU to every other thread of the process when the
/// machine is busy. Returns 0 on success.
int chat_lower_thread_priority(int niceness);

#endif
