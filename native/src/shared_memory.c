/*
 * Shared memory for handing frames to a Python payload host (src/python/shared-frames.ts): an
 * anonymous memory file (memfd) mapped read-write here. Its descriptor is passed to the child,
 * which maps it itself, so nothing is named in /dev/shm, nothing outlives the two processes, and
 * tmpfs size limits (a container's 64 MB /dev/shm) do not apply.
 */
#define _GNU_SOURCE
#include "shared_memory.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#ifdef __linux__
void *shared_memory_create(size_t length, int *fd, const char **failed) {
  *fd = memfd_create("dranspose-frames", MFD_CLOEXEC);
  if (*fd < 0) {
    *failed = "memfd_create";
    return NULL;
  }
  if (ftruncate(*fd, (off_t)length) != 0) {
    *failed = "ftruncate";
  } else {
    void *memory = mmap(NULL, length, PROT_READ | PROT_WRITE, MAP_SHARED, *fd, 0);
    if (memory != MAP_FAILED) return memory;
    *failed = "mmap";
  }
  int saved = errno;
  close(*fd);
  errno = saved;
  return NULL;
}

void shared_memory_unmap(void *memory, size_t length) { munmap(memory, length); }
#else
void *shared_memory_create(size_t length, int *fd, const char **failed) {
  (void)length;
  *fd = -1;
  *failed = "memfd_create";
  errno = ENOSYS;
  return NULL;
}

void shared_memory_unmap(void *memory, size_t length) { (void)memory; (void)length; }
#endif
