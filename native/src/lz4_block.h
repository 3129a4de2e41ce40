/*
 * An LZ4 block decoder with the TypeScript decoder's verdicts (src/core/compression/lz4.ts): it
 * refuses what that one refuses, a match offset of 0 included, and reads the blocks it reads,
 * including those that break the format's end-of-block rules. liblz4 is not used because its
 * decoder is not a validator: it takes offset 0, copying whatever the output buffer held, and it
 * refuses blocks whose last match starts within 12 bytes of the end.
 */
#ifndef DRANSPOSE_LZ4_BLOCK_H
#define DRANSPOSE_LZ4_BLOCK_H

#include <stddef.h>
#include <stdint.h>

/*
 * Decodes the LZ4 block src[0, src_len) into dst[0, capacity), reading nothing outside src and
 * writing nothing outside dst[0, capacity): short copies are done 16 or 32 bytes at a time, so up
 * to 32 bytes after the decoded end (*written) may be overwritten too when the output is shorter
 * than `capacity`. Returns NULL, or what is wrong with the block (then `detail` holds the
 * message, `detail_len` bytes at most).
 */
const char *lz4_decode(const uint8_t *src, size_t src_len, uint8_t *dst, size_t capacity, size_t *written,
                       char *detail, size_t detail_len);

#endif
