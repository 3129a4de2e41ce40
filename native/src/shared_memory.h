#ifndef DRANSPOSE_SHARED_MEMORY_H
#define DRANSPOSE_SHARED_MEMORY_H

#include <stddef.h>

/*
 * A memory file of `length` bytes mapped shared read-write: returns the mapping and sets *fd (close-
 * on-exec); NULL on failure, with errno and *failed naming the call that failed.
 */
void *shared_memory_create(size_t length, int *fd, const char **failed);
void shared_memory_unmap(void *memory, size_t length);

#endif
