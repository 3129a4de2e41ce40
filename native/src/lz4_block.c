#include "lz4_block.h"

#include <stdio.h>
#include <string.h>

#define MIN_MATCH 4

/* the fewest whole periods of `distance` (< 8) bytes that span 8: 8-byte chunks copied from that far back repeat the period */
static inline size_t period_stride(size_t distance) {
  return distance * ((8 + distance - 1) / distance);
}

/*
 * Copies a match of `length` bytes from `distance` bytes back, exactly. The copy runs forward, so
 * a distance shorter than the length repeats the last `distance` bytes, as LZ4 means it: chunks
 * are only read from bytes already written (a distance below 8 first lays down 8 bytes one by
 * one, then copies from a whole number of periods back, at least 8 bytes).
 */
static void copy_match_exact(uint8_t *op, size_t distance, size_t length) {
  const uint8_t *from = op - distance;
  size_t i = 0;
  if (distance == 1) {
    memset(op, *from, length);
    return;
  }
  if (distance >= 16) {
    for (; i + 16 <= length; i += 16) memcpy(op + i, from + i, 16);
  } else if (distance >= 8) {
    for (; i + 8 <= length; i += 8) memcpy(op + i, from + i, 8);
  } else {
    for (; i < 8 && i < length; i++) op[i] = from[i];
    for (const size_t stride = period_stride(distance); i + 8 <= length; i += 8) memcpy(op + i, op + i - stride, 8);
  }
  for (; i < length; i++) op[i] = from[i];
}

/*
 * The same in whole chunks, which may write up to 15 bytes past the match: the caller checked
 * that they are inside the output, where later sequences overwrite them.
 */
static inline void copy_match_fast(uint8_t *op, size_t distance, size_t length) {
  uint8_t *const end = op + length;
  const uint8_t *from = op - distance;
  if (distance >= 16) {
    do { memcpy(op, from, 16); op += 16; from += 16; } while (op < end);
  } else if (distance >= 8) {
    do { memcpy(op, from, 8); op += 8; from += 8; } while (op < end);
  } else if (distance == 1) {
    memset(op, *from, length);
  } else {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    /* the period (the last `distance` bytes) repeated over 8 bytes; its 8-byte load reads at
       most 7 bytes past the output written so far, inside the room checked */
    uint64_t period, repeated;
    memcpy(&period, from, 8);
    period &= (1ull << (8 * distance)) - 1;
    repeated = period;
    for (size_t k = distance; k < 8; k += distance) repeated |= period << (8 * k);
    memcpy(op, &repeated, 8);
#else
    for (size_t i = 0; i < 8; i++) op[i] = from[i];
#endif
    /* then 8-byte chunks from a whole number of periods back, at least 8 bytes */
    const size_t stride = period_stride(distance);
    for (op += 8; op < end; op += 8) memcpy(op, op - stride, 8);
  }
}

/*
 * Copies `length` literals. Short runs with 32 bytes of room on both sides are copied as 16 or 32
 * bytes at once: reading past them stays inside the block, and writing past them stays inside
 * the output, where later sequences overwrite it.
 */
static inline void copy_literals(uint8_t *op, const uint8_t *ip, size_t length, size_t room) {
  if (length <= 16 && room >= 16) {
    memcpy(op, ip, 16);
  } else if (length <= 32 && room >= 32) {
    memcpy(op, ip, 32);
  } else if (length > 0) {
    memcpy(op, ip, length);
  }
}

/* adds a length's extension bytes (a byte of 255 says another follows); false if the block ends inside them */
static inline int extend_length(const uint8_t **ip, const uint8_t *iend, size_t *length) {
  unsigned byte;
  do {
    if (*ip == iend) return 0;
    byte = *(*ip)++;
    *length += byte;
  } while (byte == 255);
  return 1;
}

static const char *bad_offset(size_t offset, ptrdiff_t at, ptrdiff_t decoded, char *detail, size_t detail_len) {
  snprintf(detail, detail_len, "LZ4 block has a bad match offset %zu at byte %td (%td bytes decoded)", offset, at,
           decoded);
  return detail;
}

const char *lz4_decode(const uint8_t *src, size_t src_len, uint8_t *dst, size_t capacity, size_t *written,
                       char *detail, size_t detail_len) {
  if (src_len == 0) {
    snprintf(detail, detail_len, "LZ4 block is empty");
    return detail;
  }
  const uint8_t *ip = src;
  const uint8_t *const iend = src + src_len;
  uint8_t *op = dst;
  uint8_t *const oend = dst + capacity;
  for (;;) {
    const unsigned token = *ip++;

    /*
     * Most sequences are short: both lengths fit the token, and away from the ends of the block
     * and the output the only check left is the offset's (the block cannot end inside this
     * sequence, so neither "ends with a match" nor a truncation can occur).
     */
    if ((token < 0xf0) & ((token & 15) != 15) & (iend - ip >= 18) & (oend - op >= 48)) {
      const size_t literals = token >> 4;
      memcpy(op, ip, 16);
      ip += literals;
      op += literals;
      const size_t offset = (size_t)ip[0] | ((size_t)ip[1] << 8);
      if (offset == 0 || offset > (size_t)(op - dst)) return bad_offset(offset, ip - src, op - dst, detail, detail_len);
      ip += 2;
      /* at most 18 bytes: from 8 or more bytes back, three 8-byte chunks without a loop */
      const size_t length = (token & 15) + MIN_MATCH;
      if (offset >= 8) {
        memcpy(op, op - offset, 8);
        memcpy(op + 8, op + 8 - offset, 8);
        memcpy(op + 16, op + 16 - offset, 8);
      } else {
        copy_match_fast(op, offset, length);
      }
      op += length;
      continue;
    }

    size_t literals = token >> 4;
    if (literals == 15 && !extend_length(&ip, iend, &literals)) {
      snprintf(detail, detail_len, "LZ4 block truncated in a literal length at byte %zu", (size_t)(ip - src));
      return detail;
    }
    if ((size_t)(iend - ip) < literals) {
      snprintf(detail, detail_len, "LZ4 block truncated: %zu literals at byte %zu run past its end (%zu bytes)",
               literals, (size_t)(ip - src), src_len);
      return detail;
    }
    if ((size_t)(oend - op) < literals) {
      snprintf(detail, detail_len, "LZ4 block decompresses to more than %zu bytes", capacity);
      return detail;
    }
    copy_literals(op, ip, literals, (size_t)(iend - ip) < (size_t)(oend - op) ? (size_t)(iend - ip) : (size_t)(oend - op));
    ip += literals;
    op += literals;

    if (ip == iend) break; /* the last sequence has literals only */

    if (iend - ip < 2) {
      snprintf(detail, detail_len, "LZ4 block truncated in a match offset at byte %zu", (size_t)(ip - src));
      return detail;
    }
    const size_t offset = (size_t)ip[0] | ((size_t)ip[1] << 8);
    ip += 2;
    if (offset == 0 || offset > (size_t)(op - dst)) return bad_offset(offset, ip - 2 - src, op - dst, detail, detail_len);

    size_t length = token & 15;
    if (length == 15 && !extend_length(&ip, iend, &length)) {
      snprintf(detail, detail_len, "LZ4 block truncated in a match length at byte %zu", (size_t)(ip - src));
      return detail;
    }
    length += MIN_MATCH;
    if ((size_t)(oend - op) < length) {
      snprintf(detail, detail_len, "LZ4 block decompresses to more than %zu bytes", capacity);
      return detail;
    }
    if ((size_t)(oend - op) >= length + 16) {
      copy_match_fast(op, offset, length);
    } else {
      copy_match_exact(op, offset, length);
    }
    op += length;
    if (ip == iend) {
      snprintf(detail, detail_len, "LZ4 block ends with a match instead of literals");
      return detail;
    }
  }
  *written = (size_t)(op - dst);
  return NULL;
}
