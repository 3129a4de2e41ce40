/*
 * N-API bindings of the native decoders (see src/core/compression/native.ts for the TypeScript
 * side), of the heartbeat thread (heartbeat.c), of the C allocator's settings (keepFreedMemory,
 * releaseFreeMemory) and of the shared memory that carries frames to Python payload hosts
 * (src/python/shared-frames.ts). Arguments are checked here; data errors throw an Error with code ERR_DRANSPOSE_CORRUPT, misuse a TypeError or
 * RangeError. Nothing is copied: the decoders read and write the typed arrays' own memory.
 */
#include <errno.h>
#include <node_api.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "decode.h"
#include "heartbeat.h"
#include "shared_memory.h"
#include "unshuffle.h"

#define CORRUPT "ERR_DRANSPOSE_CORRUPT"
#define MAX_ARGS 7
/* the largest integer a JavaScript number holds exactly */
#define MAX_SAFE_INTEGER 9007199254740991.0

typedef struct {
  uint8_t *data;
  size_t length;
} bytes;

static int type_error(napi_env env, const char *name, const char *expected) {
  char message[128];
  snprintf(message, sizeof message, "%s must be %s", name, expected);
  napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", message);
  return 0;
}

static int range_error(napi_env env, const char *message) {
  napi_throw_range_error(env, "ERR_OUT_OF_RANGE", message);
  return 0;
}

static int get_args(napi_env env, napi_callback_info info, size_t expected, napi_value *args) {
  size_t count = MAX_ARGS;
  if (napi_get_cb_info(env, info, &count, args, NULL, NULL) != napi_ok) return 0;
  if (count < expected) {
    char message[64];
    snprintf(message, sizeof message, "expected %zu arguments, got %zu", expected, count);
    napi_throw_type_error(env, "ERR_MISSING_ARGS", message);
    return 0;
  }
  return 1;
}

static int get_bytes(napi_env env, napi_value value, const char *name, bytes *out) {
  bool typed = false;
  napi_typedarray_type type;
  void *data = NULL;
  if (napi_is_typedarray(env, value, &typed) != napi_ok || !typed
      || napi_get_typedarray_info(env, value, &type, &out->length, &data, NULL, NULL) != napi_ok
      || type != napi_uint8_array) {
    return type_error(env, name, "a Uint8Array");
  }
  /* an empty array may have no memory at all; pointer arithmetic wants some address */
  static uint8_t no_bytes[1];
  out->data = data != NULL ? data : no_bytes;
  return 1;
}

static int get_size(napi_env env, napi_value value, const char *name, size_t *out) {
  double number;
  if (napi_get_value_double(env, value, &number) != napi_ok) return type_error(env, name, "a number");
  if (!(number >= 0 && number <= MAX_SAFE_INTEGER) || number != (double)(uint64_t)number) {
    return type_error(env, name, "a non-negative safe integer");
  }
  *out = (size_t)number;
  return 1;
}

static napi_value throw_corrupt(napi_env env, const decode_error *error) {
  napi_throw_error(env, CORRUPT, error->text);
  return NULL;
}

static napi_value number(napi_env env, size_t value) {
  napi_value result;
  napi_create_double(env, (double)value, &result);
  return result;
}

/* lz4DecodeBlock(src, dst, dstStart, dstEnd): decodes into dst[dstStart, dstEnd), returns the end index. */
static napi_value lz4_decode_block_js(napi_env env, napi_callback_info info) {
  napi_value args[MAX_ARGS];
  bytes src, dst;
  size_t start, end, written;
  if (!get_args(env, info, 4, args) || !get_bytes(env, args[0], "src", &src) || !get_bytes(env, args[1], "dst", &dst)
      || !get_size(env, args[2], "dstStart", &start) || !get_size(env, args[3], "dstEnd", &end)) {
    return NULL;
  }
  if (start > end || end > dst.length) {
    range_error(env, "dstStart and dstEnd must satisfy 0 <= dstStart <= dstEnd <= dst.length");
    return NULL;
  }
  decode_error error;
  if (!lz4_decode_block(src.data, src.length, dst.data + start, end - start, &written, &error)) {
    return throw_corrupt(env, &error);
  }
  return number(env, start + written);
}

/*
 * bslz4DecodeBlocks(blob, start, out, elementSize, blockElements, totalElements, completeOnly):
 * returns [blocks decoded, blob bytes consumed, output bytes written].
 */
static napi_value bslz4_decode_blocks_js(napi_env env, napi_callback_info info) {
  napi_value args[MAX_ARGS];
  bytes blob, out;
  size_t start, element_size, block_elements, total_elements;
  bool complete_only;
  if (!get_args(env, info, 7, args) || !get_bytes(env, args[0], "blob", &blob)
      || !get_size(env, args[1], "start", &start) || !get_bytes(env, args[2], "out", &out)
      || !get_size(env, args[3], "elementSize", &element_size)
      || !get_size(env, args[4], "blockElements", &block_elements)
      || !get_size(env, args[5], "totalElements", &total_elements)) {
    return NULL;
  }
  if (napi_get_value_bool(env, args[6], &complete_only) != napi_ok) {
    type_error(env, "completeOnly", "a boolean");
    return NULL;
  }
  bslz4_progress progress;
  decode_error error;
  if (!bslz4_decode_blocks(blob.data, blob.length, start, out.data, out.length, element_size, block_elements,
                           total_elements, complete_only, &progress, &error)) {
    return throw_corrupt(env, &error);
  }
  napi_value result;
  napi_create_array_with_length(env, 3, &result);
  napi_set_element(env, result, 0, number(env, progress.blocks));
  napi_set_element(env, result, 1, number(env, progress.consumed));
  napi_set_element(env, result, 2, number(env, progress.written));
  return result;
}

/* bitUnshuffle(src, dst, elementSize, blockElements): dst as long as src. */
static napi_value bit_unshuffle_js(napi_env env, napi_callback_info info) {
  napi_value args[MAX_ARGS];
  bytes src, dst;
  size_t element_size, block_elements;
  if (!get_args(env, info, 4, args) || !get_bytes(env, args[0], "src", &src) || !get_bytes(env, args[1], "dst", &dst)
      || !get_size(env, args[2], "elementSize", &element_size)
      || !get_size(env, args[3], "blockElements", &block_elements)) {
    return NULL;
  }
  if (dst.length != src.length) {
    range_error(env, "dst must be as long as src");
    return NULL;
  }
  decode_error error;
  if (!bit_unshuffle(src.data, dst.data, src.length, element_size, block_elements, &error)) {
    return throw_corrupt(env, &error);
  }
  return NULL;
}

static napi_value string(napi_env env, const char *text) {
  napi_value result;
  napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &result);
  return result;
}

/* simdInUse(): "avx2", "sse2" or "scalar". */
static napi_value simd_in_use_js(napi_env env, napi_callback_info info) {
  (void)info;
  return string(env, simd_name(simd_in_use()));
}

/* useSimd(level): caps the unshuffle at `level` (or what the CPU has); returns the level in force. */
static napi_value use_simd_js(napi_env env, napi_callback_info info) {
  napi_value args[MAX_ARGS];
  char name[16];
  size_t length;
  if (!get_args(env, info, 1, args)) return NULL;
  if (napi_get_value_string_utf8(env, args[0], name, sizeof name, &length) != napi_ok) {
    type_error(env, "level", "a string");
    return NULL;
  }
  simd_level wanted;
  if (strcmp(name, "avx2") == 0) wanted = SIMD_AVX2;
  else if (strcmp(name, "sse2") == 0) wanted = SIMD_SSE2;
  else if (strcmp(name, "scalar") == 0) wanted = SIMD_SCALAR;
  else {
    range_error(env, "level must be \"avx2\", \"sse2\" or \"scalar\"");
    return NULL;
  }
  return string(env, simd_name(simd_use(wanted)));
}

/*
 * releaseFreeMemory(): gives the memory the C allocator holds free back to the system (glibc's
 * malloc_trim, which also releases free pages inside its arenas); false where there is no such call.
 */
static napi_value release_free_memory_js(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result;
#ifdef __GLIBC__
  malloc_trim(0);
  napi_get_boolean(env, true, &result);
#else
  napi_get_boolean(env, false, &result);
#endif
  return result;
}

/*
 * keepFreedMemory(mapAbove, trimAbove): glibc's malloc gives blocks of mapAbove bytes or more a
 * mapping of their own, and gives the top of its heap back to the system once trimAbove bytes are
 * free there. Fixed values replace glibc's moving ones; true if glibc took both, false where there
 * is no glibc.
 */
static napi_value keep_freed_memory_js(napi_env env, napi_callback_info info) {
  napi_value args[MAX_ARGS], result;
  size_t map_above, trim_above;
  if (!get_args(env, info, 2, args) || !get_size(env, args[0], "mapAbove", &map_above)
      || !get_size(env, args[1], "trimAbove", &trim_above)) {
    return NULL;
  }
  if (map_above > INT32_MAX || trim_above > INT32_MAX) {
    range_error(env, "mapAbove and trimAbove must be below 2 GiB");
    return NULL;
  }
#ifdef __GLIBC__
  bool taken = mallopt(M_MMAP_THRESHOLD, (int)map_above) == 1 && mallopt(M_TRIM_THRESHOLD, (int)trim_above) == 1;
#else
  bool taken = false;
#endif
  napi_get_boolean(env, taken, &result);
  return result;
}

static void unmap_shared_memory(napi_env env, void *memory, void *length) {
  (void)env;
  shared_memory_unmap(memory, (size_t)(uintptr_t)length);
}

/*
 * createSharedMemory(length): [fd, ArrayBuffer] of a new memory file mapped shared; the mapping is
 * undone when the ArrayBuffer is collected, the descriptor is the caller's to close.
 */
static napi_value create_shared_memory_js(napi_env env, napi_callback_info info) {
  napi_value args[MAX_ARGS];
  size_t length;
  if (!get_args(env, info, 1, args) || !get_size(env, args[0], "length", &length)) return NULL;
  if (length == 0) {
    range_error(env, "length must be positive");
    return NULL;
  }
  int fd;
  const char *failed;
  void *memory = shared_memory_create(length, &fd, &failed);
  if (memory == NULL) {
    char message[128];
    snprintf(message, sizeof message, "%s: %s", failed, strerror(errno));
    napi_throw_error(env, "ERR_DRANSPOSE_SHARED_MEMORY", message);
    return NULL;
  }
  napi_value buffer, result;
  if (napi_create_external_arraybuffer(env, memory, length, unmap_shared_memory, (void *)(uintptr_t)length, &buffer) != napi_ok) {
    shared_memory_unmap(memory, length);
    close(fd);
    napi_throw_error(env, "ERR_DRANSPOSE_SHARED_MEMORY", "cannot wrap the shared memory in an ArrayBuffer");
    return NULL;
  }
  napi_create_array_with_length(env, 2, &result);
  napi_set_element(env, result, 0, number(env, (size_t)fd));
  napi_set_element(env, result, 1, buffer);
  return result;
}

NAPI_MODULE_INIT() {
  const napi_property_descriptor functions[] = {
    {"lz4DecodeBlock", NULL, lz4_decode_block_js, NULL, NULL, NULL, napi_enumerable, NULL},
    {"bslz4DecodeBlocks", NULL, bslz4_decode_blocks_js, NULL, NULL, NULL, napi_enumerable, NULL},
    {"bitUnshuffle", NULL, bit_unshuffle_js, NULL, NULL, NULL, napi_enumerable, NULL},
    {"simdInUse", NULL, simd_in_use_js, NULL, NULL, NULL, napi_enumerable, NULL},
    {"useSimd", NULL, use_simd_js, NULL, NULL, NULL, napi_enumerable, NULL},
    {"heartbeatStart", NULL, heartbeat_start_js, NULL, NULL, NULL, napi_enumerable, NULL},
    {"heartbeatStop", NULL, heartbeat_stop_js, NULL, NULL, NULL, napi_enumerable, NULL},
    {"heartbeatWake", NULL, heartbeat_wake_js, NULL, NULL, NULL, napi_enumerable, NULL},
    {"releaseFreeMemory", NULL, release_free_memory_js, NULL, NULL, NULL, napi_enumerable, NULL},
    {"keepFreedMemory", NULL, keep_freed_memory_js, NULL, NULL, NULL, napi_enumerable, NULL},
    {"createSharedMemory", NULL, create_shared_memory_js, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  simd_best();
  if (napi_define_properties(env, exports, sizeof functions / sizeof functions[0], functions) != napi_ok) return NULL;
  return exports;
}
