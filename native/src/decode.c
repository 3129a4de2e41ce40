#include "decode.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lz4_block.h"
#include "unshuffle.h"

static int fail(decode_error *error, const char *format, ...) {
  va_list args;
  va_start(args, format);
  vsnprintf(error->text, sizeof error->text, format, args);
  va_end(args);
  return 0;
}

int lz4_decode_block(const uint8_t *src, size_t src_len, uint8_t *dst, size_t capacity, size_t *written,
                     decode_error *error) {
  return lz4_decode(src, src_len, dst, capacity, written, error->text, sizeof error->text) == NULL;
}

/* How bitshuffle cuts an array into blocks (as planBlocks in bitshuffle.ts). */
typedef struct {
  size_t block_elements;
  size_t full_blocks;
  size_t last_elements;     /* of the last, partial block: a multiple of 8, 0 = none */
  size_t leftover_elements; /* after the last block, stored as they are */
} block_plan;

static int plan_blocks(size_t total_elements, size_t element_size, size_t block_elements, block_plan *plan,
                       decode_error *error) {
  if (element_size == 0) return fail(error, "element size must be positive");
  if (block_elements == 0 || block_elements % 8 != 0) {
    return fail(error, "block length must be a positive multiple of 8 elements, got %zu", block_elements);
  }
  if (total_elements > SIZE_MAX / element_size) return fail(error, "%zu elements are too many", total_elements);
  const size_t rest = total_elements % block_elements;
  plan->block_elements = block_elements;
  plan->full_blocks = total_elements / block_elements;
  plan->last_elements = rest - rest % 8;
  plan->leftover_elements = total_elements % 8;
  return 1;
}

static size_t block_count(const block_plan *plan) {
  return plan->full_blocks + (plan->last_elements > 0 ? 1 : 0);
}

static size_t elements_of_block(const block_plan *plan, size_t index) {
  return index < plan->full_blocks ? plan->block_elements : plan->last_elements;
}

static uint32_t read_u32_be(const uint8_t *p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

/* The blocks' bodies; `scratch` has 2·largest bytes (an LZ4 output and the unshuffle's planes). */
static int decode_planned_blocks(const uint8_t *blob, size_t blob_len, size_t start, uint8_t *out, size_t out_len,
                                 size_t element_size, const block_plan *plan, int complete_only,
                                 uint8_t *scratch, size_t largest, bslz4_progress *progress,
                                 decode_error *error) {
  const size_t total = block_count(plan);
  size_t pos = start;
  size_t written = 0;
  size_t index = 0;
  /* invariants: pos <= blob_len, written <= out_len */
  for (; index < total; index++) {
    const size_t elements = elements_of_block(plan, index);
    const size_t block_bytes = elements * element_size;
    if (blob_len - pos < 4) {
      if (complete_only) goto stopped;
      return fail(error, "bslz4 blob truncated: the length of block %zu of %zu needs 4 bytes at offset %zu, only %zu remain",
                  index, total, pos, blob_len - pos);
    }
    const uint32_t compressed = read_u32_be(blob + pos);
    if (blob_len - pos - 4 < compressed) {
      if (complete_only) goto stopped;
      return fail(error, "bslz4 blob truncated: block %zu of %zu needs %zu bytes at offset %zu, only %zu remain",
                  index, total, (size_t)compressed + 4, pos, blob_len - pos);
    }
    if (out_len - written < block_bytes) {
      return fail(error, "bslz4 output of %zu bytes has no room for block %zu", out_len, index);
    }
    size_t decoded = 0;
    char detail[DECODE_ERROR_BYTES / 2];
    if (lz4_decode(blob + pos + 4, compressed, scratch, block_bytes, &decoded, detail, sizeof detail) != NULL) {
      return fail(error, "bslz4 block %zu at offset %zu: %s", index, pos, detail);
    }
    if (decoded != block_bytes) {
      return fail(error, "bslz4 block %zu at offset %zu decompresses to %zu bytes, expected %zu", index, pos, decoded,
                  block_bytes);
    }
    unshuffle_block(scratch, out + written, scratch + largest, elements, element_size);
    written += block_bytes;
    pos += 4 + (size_t)compressed;
  }

  const size_t leftover = plan->leftover_elements * element_size;
  if (blob_len - pos < leftover) {
    if (complete_only) goto stopped;
    return fail(error, "bslz4 blob truncated: the %zu unshuffled trailing elements needs %zu bytes at offset %zu, only %zu remain",
                plan->leftover_elements, leftover, pos, blob_len - pos);
  }
  if (out_len - written < leftover) return fail(error, "bslz4 output of %zu bytes has no room for the trailing elements", out_len);
  if (leftover > 0) memcpy(out + written, blob + pos, leftover);
  written += leftover;
  pos += leftover;
  if (!complete_only && pos != blob_len) {
    return fail(error, "bslz4 blob has %zu unexpected bytes after its last block", blob_len - pos);
  }

stopped:
  progress->blocks = index;
  progress->consumed = pos;
  progress->written = written;
  return 1;
}

int bslz4_decode_blocks(const uint8_t *blob, size_t blob_len, size_t start, uint8_t *out, size_t out_len,
                        size_t element_size, size_t block_elements, size_t total_elements, int complete_only,
                        bslz4_progress *progress, decode_error *error) {
  block_plan plan = {0};
  if (!plan_blocks(total_elements, element_size, block_elements, &plan, error)) return 0;
  if (start > blob_len) return fail(error, "bslz4 blocks start at %zu, after the blob's end (%zu bytes)", start, blob_len);
  /* only blocks that exist need scratch: a corrupt header's huge block length allocates nothing more */
  const size_t largest_elements = plan.full_blocks > 0 ? plan.block_elements : plan.last_elements;
  const size_t largest = largest_elements * element_size;
  uint8_t *scratch = NULL;
  if (largest > 0 && (scratch = malloc(2 * largest)) == NULL) {
    return fail(error, "no memory for two %zu-byte bslz4 blocks", largest);
  }
  const int ok = decode_planned_blocks(blob, blob_len, start, out, out_len, element_size, &plan, complete_only,
                                       scratch, largest, progress, error);
  free(scratch);
  return ok;
}

int bit_unshuffle(const uint8_t *src, uint8_t *dst, size_t bytes, size_t element_size, size_t block_elements,
                  decode_error *error) {
  if (element_size == 0 || bytes % element_size != 0) {
    return fail(error, "%zu bytes is not a whole number of %zu-byte elements", bytes, element_size);
  }
  block_plan plan = {0};
  if (!plan_blocks(bytes / element_size, element_size, block_elements, &plan, error)) return 0;
  const size_t largest_elements = plan.full_blocks > 0 ? plan.block_elements : plan.last_elements;
  uint8_t *planes = NULL;
  if (largest_elements > 0 && (planes = malloc(largest_elements * element_size)) == NULL) {
    return fail(error, "no memory for a %zu-element block", largest_elements);
  }
  size_t offset = 0;
  for (size_t index = 0; index < block_count(&plan); index++) {
    const size_t elements = elements_of_block(&plan, index);
    unshuffle_block(src + offset, dst + offset, planes, elements, element_size);
    offset += elements * element_size;
  }
  free(planes);
  if (bytes > offset) memcpy(dst + offset, src + offset, bytes - offset);
  return 1;
}
