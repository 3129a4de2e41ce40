/*
 * Bit-unshuffle in two passes per block, scalar, SSE2 or AVX2 (chosen at run time):
 *   1. bits to byte planes: for byte b of the elements, the 8 bit-rows 8b…8b+7 are read side by
 *      side; every column of 8 bytes is an 8×8 bit matrix whose transpose is byte b of 8
 *      consecutive elements ("plane" b holds byte b of every element);
 *   2. planes to elements: the planes are interleaved byte by byte (an element-size × n byte
 *      transpose). With 1-byte elements pass 1 writes the output directly.
 * Everything stays in the block's few KiB, so both passes run from L1.
 */
#include "unshuffle.h"

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#define HAVE_X86_SIMD 1
#include <immintrin.h>
#endif

/* ---- scalar ---------------------------------------------------------------------------------- */

/* Transposes the 8×8 bit matrix whose row r is byte r of x (bit c = column c). */
static inline uint64_t transpose_bits8x8(uint64_t x) {
  uint64_t t;
  t = (x ^ (x >> 7)) & 0x00AA00AA00AA00AAull;
  x ^= t ^ (t << 7);
  t = (x ^ (x >> 14)) & 0x0000CCCC0000CCCCull;
  x ^= t ^ (t << 14);
  t = (x ^ (x >> 28)) & 0x00000000F0F0F0F0ull;
  x ^= t ^ (t << 28);
  return x;
}

/* Pass 1 for the columns [from, cols) of the 8 rows at `rows` (each `cols` bytes long). */
static void bits_to_plane_scalar(const uint8_t *rows, size_t cols, size_t from, uint8_t *plane) {
  for (size_t m = from; m < cols; m++) {
    uint64_t x = 0;
    for (unsigned j = 0; j < 8; j++) x |= (uint64_t)rows[j * cols + m] << (8 * j);
    x = transpose_bits8x8(x);
    for (unsigned i = 0; i < 8; i++) plane[8 * m + i] = (uint8_t)(x >> (8 * i));
  }
}

/* Pass 2 for the elements [from, elements). */
static void planes_to_elements_scalar(const uint8_t *planes, size_t elements, size_t size, size_t from,
                                      uint8_t *dst) {
  for (size_t e = from; e < elements; e++) {
    for (size_t b = 0; b < size; b++) dst[e * size + b] = planes[b * elements + e];
  }
}

/* ---- SSE2 and AVX2 ------------------------------------------------------------------------------ */

#ifdef HAVE_X86_SIMD

/*
 * Delta swap between two rows: exchanges the bits of `a` at the positions of mask << shift with
 * the bits of `b` under mask. The masks never cross a byte, so the lane width of the shifts does
 * not matter: all 16 (32) byte lanes hold independent 8×8 matrices.
 */
#define SWAP_BITS(V, SRL, SLL, XOR, AND, a, b, shift, mask) do { \
    V t_ = AND(XOR(SRL(a, shift), b), mask);                     \
    b = XOR(b, t_);                                              \
    a = XOR(a, SLL(t_, shift));                                  \
  } while (0)

/*
 * After these 12 swaps, byte lane q of x[k] holds bit k of byte lane q of every x[j] as its bit j:
 * with x[j] = bit-row j, that is the byte of element 8q+k.
 */
#define TRANSPOSE_LANES(V, SRL, SLL, XOR, AND, SET1, x) do {                        \
    const V m1 = SET1(0x55), m2 = SET1(0x33), m4 = SET1(0x0f);                        \
    SWAP_BITS(V, SRL, SLL, XOR, AND, x[0], x[1], 1, m1);                            \
    SWAP_BITS(V, SRL, SLL, XOR, AND, x[2], x[3], 1, m1);                            \
    SWAP_BITS(V, SRL, SLL, XOR, AND, x[4], x[5], 1, m1);                            \
    SWAP_BITS(V, SRL, SLL, XOR, AND, x[6], x[7], 1, m1);                            \
    SWAP_BITS(V, SRL, SLL, XOR, AND, x[0], x[2], 2, m2);                            \
    SWAP_BITS(V, SRL, SLL, XOR, AND, x[1], x[3], 2, m2);                            \
    SWAP_BITS(V, SRL, SLL, XOR, AND, x[4], x[6], 2, m2);                            \
    SWAP_BITS(V, SRL, SLL, XOR, AND, x[5], x[7], 2, m2);                            \
    SWAP_BITS(V, SRL, SLL, XOR, AND, x[0], x[4], 4, m4);                            \
    SWAP_BITS(V, SRL, SLL, XOR, AND, x[1], x[5], 4, m4);                            \
    SWAP_BITS(V, SRL, SLL, XOR, AND, x[2], x[6], 4, m4);                            \
    SWAP_BITS(V, SRL, SLL, XOR, AND, x[3], x[7], 4, m4);                            \
  } while (0)

/*
 * The 8×16 byte transpose: out[8q + k] = x[k][q] for q < 16 (within each 128-bit lane), as
 * c[0…7], each 16 bytes = two q. Three rounds of unpacks, widening 8 → 16 → 32 bits.
 */
#define INTERLEAVE8(V, LO8, HI8, LO16, HI16, LO32, HI32, x, c) do {                  \
    V a0 = LO8(x[0], x[1]), a1 = HI8(x[0], x[1]), a2 = LO8(x[2], x[3]), a3 = HI8(x[2], x[3]);     \
    V a4 = LO8(x[4], x[5]), a5 = HI8(x[4], x[5]), a6 = LO8(x[6], x[7]), a7 = HI8(x[6], x[7]);     \
    V b0 = LO16(a0, a2), b1 = HI16(a0, a2), b2 = LO16(a1, a3), b3 = HI16(a1, a3);                 \
    V b4 = LO16(a4, a6), b5 = HI16(a4, a6), b6 = LO16(a5, a7), b7 = HI16(a5, a7);                 \
    c[0] = LO32(b0, b4); c[1] = HI32(b0, b4); c[2] = LO32(b1, b5); c[3] = HI32(b1, b5);           \
    c[4] = LO32(b2, b6); c[5] = HI32(b2, b6); c[6] = LO32(b3, b7); c[7] = HI32(b3, b7);           \
  } while (0)

__attribute__((target("sse2")))
static inline __m128i set1_sse2(int byte) { return _mm_set1_epi8((char)byte); }

__attribute__((target("sse2")))
static void interleave8_sse2(__m128i x[8], uint8_t *out) {
  __m128i c[8];
  INTERLEAVE8(__m128i, _mm_unpacklo_epi8, _mm_unpackhi_epi8, _mm_unpacklo_epi16, _mm_unpackhi_epi16,
              _mm_unpacklo_epi32, _mm_unpackhi_epi32, x, c);
  for (unsigned k = 0; k < 8; k++) _mm_storeu_si128((__m128i *)(out + 16 * k), c[k]);
}

/* Pass 1 from column m on, 16 columns (128 elements) per step; returns the first column left. */
__attribute__((target("sse2")))
static size_t bits_to_plane_sse2(const uint8_t *rows, size_t cols, size_t m, uint8_t *plane) {
  for (; m + 16 <= cols; m += 16) {
    __m128i x[8];
    for (unsigned j = 0; j < 8; j++) x[j] = _mm_loadu_si128((const __m128i *)(rows + j * cols + m));
    TRANSPOSE_LANES(__m128i, _mm_srli_epi64, _mm_slli_epi64, _mm_xor_si128, _mm_and_si128, set1_sse2, x);
    interleave8_sse2(x, plane + 8 * m);
  }
  return m;
}

/* Pass 2 for 2, 4 and 8-byte elements, 16 elements per step; returns the first element left. */
__attribute__((target("sse2")))
static size_t planes_to_elements_sse2(const uint8_t *planes, size_t elements, size_t size, uint8_t *dst) {
  size_t e = 0;
  if (size == 2) {
    for (; e + 16 <= elements; e += 16) {
      __m128i p0 = _mm_loadu_si128((const __m128i *)(planes + e));
      __m128i p1 = _mm_loadu_si128((const __m128i *)(planes + elements + e));
      _mm_storeu_si128((__m128i *)(dst + 2 * e), _mm_unpacklo_epi8(p0, p1));
      _mm_storeu_si128((__m128i *)(dst + 2 * e + 16), _mm_unpackhi_epi8(p0, p1));
    }
  } else if (size == 4) {
    for (; e + 16 <= elements; e += 16) {
      __m128i p[4];
      for (unsigned b = 0; b < 4; b++) p[b] = _mm_loadu_si128((const __m128i *)(planes + b * elements + e));
      __m128i a0 = _mm_unpacklo_epi8(p[0], p[1]), a1 = _mm_unpackhi_epi8(p[0], p[1]);
      __m128i a2 = _mm_unpacklo_epi8(p[2], p[3]), a3 = _mm_unpackhi_epi8(p[2], p[3]);
      uint8_t *o = dst + 4 * e;
      _mm_storeu_si128((__m128i *)o, _mm_unpacklo_epi16(a0, a2));
      _mm_storeu_si128((__m128i *)(o + 16), _mm_unpackhi_epi16(a0, a2));
      _mm_storeu_si128((__m128i *)(o + 32), _mm_unpacklo_epi16(a1, a3));
      _mm_storeu_si128((__m128i *)(o + 48), _mm_unpackhi_epi16(a1, a3));
    }
  } else if (size == 8) {
    for (; e + 16 <= elements; e += 16) {
      __m128i p[8];
      for (unsigned b = 0; b < 8; b++) p[b] = _mm_loadu_si128((const __m128i *)(planes + b * elements + e));
      interleave8_sse2(p, dst + 8 * e);
    }
  }
  return e;
}

__attribute__((target("avx2")))
static inline __m256i set1_avx2(int byte) { return _mm256_set1_epi8((char)byte); }

/*
 * Pass 1 from column m on, 32 columns (256 elements) per step, the two 128-bit lanes holding
 * columns m…m+15 and m+16…m+31; returns the first column left.
 */
__attribute__((target("avx2")))
static size_t bits_to_plane_avx2(const uint8_t *rows, size_t cols, size_t m, uint8_t *plane) {
  for (; m + 32 <= cols; m += 32) {
    __m256i x[8], c[8];
    for (unsigned j = 0; j < 8; j++) x[j] = _mm256_loadu_si256((const __m256i *)(rows + j * cols + m));
    TRANSPOSE_LANES(__m256i, _mm256_srli_epi64, _mm256_slli_epi64, _mm256_xor_si256, _mm256_and_si256,
                    set1_avx2, x);
    INTERLEAVE8(__m256i, _mm256_unpacklo_epi8, _mm256_unpackhi_epi8, _mm256_unpacklo_epi16,
                _mm256_unpackhi_epi16, _mm256_unpacklo_epi32, _mm256_unpackhi_epi32, x, c);
    uint8_t *out = plane + 8 * m;
    for (unsigned k = 0; k < 8; k += 2) {
      _mm256_storeu_si256((__m256i *)(out + 16 * k), _mm256_permute2x128_si256(c[k], c[k + 1], 0x20));
      _mm256_storeu_si256((__m256i *)(out + 128 + 16 * k), _mm256_permute2x128_si256(c[k], c[k + 1], 0x31));
    }
  }
  return m;
}

#endif /* HAVE_X86_SIMD */

/* ---- dispatch ---------------------------------------------------------------------------------- */

static simd_level best_level(void) {
#ifdef HAVE_X86_SIMD
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2")) return SIMD_AVX2;
  if (__builtin_cpu_supports("sse2")) return SIMD_SSE2;
#endif
  return SIMD_SCALAR;
}

static int level_known = 0;
static simd_level best, level;

simd_level simd_best(void) {
  if (!level_known) {
    best = level = best_level();
    level_known = 1;
  }
  return best;
}

simd_level simd_use(simd_level wanted) {
  level = wanted < simd_best() ? wanted : best;
  return level;
}

simd_level simd_in_use(void) {
  simd_best();
  return level;
}

const char *simd_name(simd_level which) {
  switch (which) {
    case SIMD_AVX2: return "avx2";
    case SIMD_SSE2: return "sse2";
    default: return "scalar";
  }
}

/*
 * Each level takes the columns (elements) it has whole vectors for and leaves the rest to the
 * next: only a bitshuffle block's last, partial block has rows that are not a multiple of 32 bytes.
 */
static void bits_to_plane(const uint8_t *rows, size_t cols, uint8_t *plane) {
  size_t m = 0;
#ifdef HAVE_X86_SIMD
  const simd_level in_use = simd_in_use();
  if (in_use >= SIMD_AVX2) m = bits_to_plane_avx2(rows, cols, m, plane);
  if (in_use >= SIMD_SSE2) m = bits_to_plane_sse2(rows, cols, m, plane);
#endif
  bits_to_plane_scalar(rows, cols, m, plane);
}

static void planes_to_elements(const uint8_t *planes, size_t elements, size_t size, uint8_t *dst) {
  size_t e = 0;
#ifdef HAVE_X86_SIMD
  if (simd_in_use() >= SIMD_SSE2) e = planes_to_elements_sse2(planes, elements, size, dst);
#endif
  planes_to_elements_scalar(planes, elements, size, e, dst);
}

void unshuffle_block(const uint8_t *src, uint8_t *dst, uint8_t *planes, size_t elements, size_t size) {
  const size_t cols = elements / 8;
  if (size == 1) {
    bits_to_plane(src, cols, dst);
    return;
  }
  for (size_t b = 0; b < size; b++) bits_to_plane(src + 8 * b * cols, cols, planes + b * elements);
  planes_to_elements(planes, elements, size, dst);
}
