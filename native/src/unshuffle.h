/*
 * Bit-unshuffle: the inverse of the bitshuffle filter's bit transpose (see
 * src/core/compression/bitshuffle.ts for the layout). Inside a block of n elements (n a multiple
 * of 8) of `size` bytes, the input is 8·size rows of n/8 bytes, row 8b+j holding bit j of byte b
 * of every element, least significant bit first.
 */
#ifndef DRANSPOSE_UNSHUFFLE_H
#define DRANSPOSE_UNSHUFFLE_H

#include <stddef.h>
#include <stdint.h>

typedef enum { SIMD_SCALAR = 0, SIMD_SSE2 = 1, SIMD_AVX2 = 2 } simd_level;

/* The best level this CPU runs. */
simd_level simd_best(void);
/* Uses `wanted`, or the best this CPU runs if that is lower; returns the level in force. */
simd_level simd_use(simd_level wanted);
simd_level simd_in_use(void);
const char *simd_name(simd_level level);

/*
 * Unshuffles one block of `elements` elements (a multiple of 8) of `size` bytes from `src` to
 * `dst` (both elements·size bytes, not overlapping). `planes` is scratch of elements·size bytes.
 */
void unshuffle_block(const uint8_t *src, uint8_t *dst, uint8_t *planes, size_t elements, size_t size);

#endif
