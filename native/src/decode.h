/*
 * The decoders behind the addon: LZ4 blocks (lz4_block.c), bitshuffle-LZ4 block sequences and
 * bit-unshuffling of whole arrays. Every length and offset is checked against the buffers given;
 * bad input returns 0 with a message in `error`, never reads or writes outside them.
 */
#ifndef DRANSPOSE_DECODE_H
#define DRANSPOSE_DECODE_H

#include <stddef.h>
#include <stdint.h>

#define DECODE_ERROR_BYTES 256

typedef struct {
  char text[DECODE_ERROR_BYTES];
} decode_error;

/* Decodes one LZ4 block into dst[0, capacity); sets *written. */
int lz4_decode_block(const uint8_t *src, size_t src_len, uint8_t *dst, size_t capacity, size_t *written,
                     decode_error *error);

typedef struct {
  size_t blocks;   /* LZ4 blocks decoded */
  size_t consumed; /* blob bytes read up to where decoding stopped, from the blob's start */
  size_t written;  /* output bytes written */
} bslz4_progress;

/*
 * Decodes the bitshuffle-LZ4 blocks of `total_elements` elements of `element_size` bytes, in
 * blocks of `block_elements`, from blob[start…] into out. With `complete_only`, stops without
 * error at the first block (or trailing run) the blob does not hold whole; otherwise that, and
 * bytes after the end, are errors.
 */
int bslz4_decode_blocks(const uint8_t *blob, size_t blob_len, size_t start, uint8_t *out, size_t out_len,
                        size_t element_size, size_t block_elements, size_t total_elements, int complete_only,
                        bslz4_progress *progress, decode_error *error);

/* Bit-unshuffles `bytes` bytes of src into dst (as long), blocks of `block_elements` elements. */
int bit_unshuffle(const uint8_t *src, uint8_t *dst, size_t bytes, size_t element_size, size_t block_elements,
                  decode_error *error);

#endif
