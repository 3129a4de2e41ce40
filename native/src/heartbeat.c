/*
 * The heartbeat thread of src/core/liveness/heartbeat.ts, as a plain thread: it beats while user
 * code keeps the event loop busy, like the worker thread it replaces, without a JavaScript heap of
 * its own (that thread's isolate cost each part about 9 MB of its resident memory).
 *
 * The TypeScript side prepares every byte it sends (RESP commands: the greeting, the HSET up to its
 * value, the goodbye HDEL) and owns the two numbers it reads: when the event loop last ticked
 * (Float64Array, ms since the epoch) and the event user code works on (Int32Array, -1 for none).
 * The thread writes "<instance> <count> <busy ms> <event>" as that HSET's value every interval, and
 * at once when an event stays in user code for more than a watch period, over a non-blocking TCP
 * socket; replies are read and dropped. A beat that cannot be written whole now waits for the next.
 * Redis going away and coming back is handed to a JavaScript callback, latest state only.
 *
 * The watch runs only while user code works: after idle_watches watches in a row found no event in
 * user code, the thread sleeps until the next beat and says so in a third shared number (1:
 * sleeping), and the main thread, starting an event, wakes it (heartbeatWake) when it finds that
 * number set. An idle part's thread thus wakes once a beat rather than every watch period, and a
 * busy one is woken at most once per idle_watches periods.
 */
#define _GNU_SOURCE /* pipe2, SOCK_NONBLOCK */
#include <node_api.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "heartbeat.h"

#define REASON_BYTES 256
/* a beat is a few dozen bytes; more than this unsent means Redis does not read */
#define PENDING_BYTES 4096
/* how long a stop waits for Redis to take the goodbye */
#define BYE_MS 500

typedef struct {
  char *data;
  size_t length;
} chunk;

typedef struct heartbeat {
  /* set once by start, read by the thread */
  char host[256];
  char port[16];
  chunk hello, prefix, bye;
  char instance[128];
  int interval_ms;
  int watch_ms;
  int idle_watches;
  const double *tick;
  const int32_t *processing;
  int32_t *sleeping;
  napi_ref tick_ref, processing_ref, sleeping_ref;
  napi_threadsafe_function on_redis;
  pthread_t thread;
  int wake[2]; /* a pipe: stop and heartbeatWake write to it, the thread polls it */
  int stopping; /* set before stop writes to the pipe */
  /* the thread's own */
  int fd;
  int connected;
  char pending[PENDING_BYTES];
  size_t pending_length;
  long count;
  /* Redis state for JavaScript: written by the thread, read on the main thread */
  pthread_mutex_t lock;
  int down;          /* as the thread sees it now */
  int reported_down; /* as JavaScript was last told (main thread only) */
  char reason[REASON_BYTES];
  int stopped;
  int farewell; /* stop sends the goodbye (not when the process just ends) */
} heartbeat;

static double now_ms(clockid_t clock) {
  struct timespec t;
  clock_gettime(clock, &t);
  return (double)t.tv_sec * 1000.0 + (double)t.tv_nsec / 1e6;
}

/* the thread: Redis became unreachable (1) or reachable again (0); JavaScript hears the latest */
static void set_down(heartbeat *beat, int down, const char *reason) {
  pthread_mutex_lock(&beat->lock);
  int changed = beat->down != down;
  beat->down = down;
  if (changed) snprintf(beat->reason, sizeof beat->reason, "%s", reason);
  pthread_mutex_unlock(&beat->lock);
  if (changed) napi_call_threadsafe_function(beat->on_redis, NULL, napi_tsfn_nonblocking);
}

static void disconnect(heartbeat *beat, const char *reason) {
  if (beat->fd >= 0) close(beat->fd);
  beat->fd = -1;
  beat->connected = 0;
  beat->pending_length = 0;
  set_down(beat, 1, reason);
}

/* writes what is pending; 0 when the connection failed */
static int flush(heartbeat *beat) {
  while (beat->pending_length > 0) {
    ssize_t sent = send(beat->fd, beat->pending, beat->pending_length, MSG_NOSIGNAL);
    if (sent < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return 1;
      if (errno == EINTR) continue;
      disconnect(beat, strerror(errno));
      return 0;
    }
    memmove(beat->pending, beat->pending + sent, beat->pending_length - (size_t)sent);
    beat->pending_length -= (size_t)sent;
  }
  return 1;
}

/* queues bytes to send; refused (the beat is skipped) while earlier ones are still unsent */
static void send_bytes(heartbeat *beat, const char *data, size_t length) {
  if (!beat->connected || beat->pending_length > 0 || length > sizeof beat->pending) return;
  memcpy(beat->pending, data, length);
  beat->pending_length = length;
  flush(beat);
}

static void send_beat(heartbeat *beat) {
  if (!beat->connected || beat->pending_length > 0) return;
  beat->count += 1;
  double tick;
  __atomic_load(beat->tick, &tick, __ATOMIC_RELAXED);
  double busy = now_ms(CLOCK_REALTIME) - tick;
  if (busy < 0) busy = 0;
  int32_t event = __atomic_load_n(beat->processing, __ATOMIC_RELAXED);
  char value[192];
  int value_length = snprintf(value, sizeof value, "%s %ld %.0f %d", beat->instance, beat->count, busy, event);
  char command[PENDING_BYTES];
  if (beat->prefix.length + (size_t)value_length + 32 > sizeof command) return;
  memcpy(command, beat->prefix.data, beat->prefix.length);
  int tail = snprintf(command + beat->prefix.length, sizeof command - beat->prefix.length, "$%d\r\n%s\r\n", value_length, value);
  send_bytes(beat, command, beat->prefix.length + (size_t)tail);
}

/* starts a non-blocking connect; the thread's poll sees it complete */
static void connect_start(heartbeat *beat) {
  struct addrinfo hints = {0}, *found = NULL;
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  int status = getaddrinfo(beat->host, beat->port, &hints, &found);
  if (status != 0) {
    set_down(beat, 1, gai_strerror(status));
    return;
  }
  int fd = socket(found->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    set_down(beat, 1, strerror(errno));
    freeaddrinfo(found);
    return;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (connect(fd, found->ai_addr, found->ai_addrlen) < 0 && errno != EINPROGRESS) {
    set_down(beat, 1, strerror(errno));
    close(fd);
    freeaddrinfo(found);
    return;
  }
  freeaddrinfo(found);
  beat->fd = fd;
  beat->connected = 0;
}

static void connected(heartbeat *beat) {
  int error = 0;
  socklen_t length = sizeof error;
  getsockopt(beat->fd, SOL_SOCKET, SO_ERROR, &error, &length);
  if (error != 0) {
    disconnect(beat, strerror(error));
    return;
  }
  beat->connected = 1;
  set_down(beat, 0, "reconnected");
  if (beat->hello.length) send_bytes(beat, beat->hello.data, beat->hello.length);
  send_beat(beat);
}

/*
 * with no event in user code, whether the thread may sleep until the next beat: it says it sleeps,
 * then looks again, so that an event started meanwhile either is seen here or finds the flag set
 * (both sides store, then load, sequentially consistent)
 */
static int may_sleep(heartbeat *beat) {
  __atomic_store_n(beat->sleeping, 1, __ATOMIC_SEQ_CST);
  if (__atomic_load_n(beat->processing, __ATOMIC_SEQ_CST) < 0) return 1;
  __atomic_store_n(beat->sleeping, 0, __ATOMIC_SEQ_CST);
  return 0;
}

static void *run(void *argument) {
  heartbeat *beat = argument;
  double next_beat = now_ms(CLOCK_MONOTONIC);
  int32_t seen = -1, announced = -1;
  int idle = 0; /* watches in a row that found no event in user code */
  double next_watch = next_beat + beat->watch_ms;
  for (;;) {
    double now = now_ms(CLOCK_MONOTONIC);
    if (now >= next_beat) {
      if (beat->fd < 0) connect_start(beat);
      else send_beat(beat);
      next_beat = now + beat->interval_ms;
    }
    if (now >= next_watch) {
      /* an event that stays in user code is announced at once, not at the next beat: a worker
         that dies on it then says which */
      int32_t event = __atomic_load_n(beat->processing, __ATOMIC_RELAXED);
      if (event >= 0 && event == seen && event != announced) {
        announced = event;
        send_beat(beat);
      }
      seen = event;
      idle = event < 0 ? idle + 1 : 0;
      next_watch = now + beat->watch_ms;
    }
    int sleeping = idle >= beat->idle_watches && may_sleep(beat);
    struct pollfd polled[2] = {{beat->wake[0], POLLIN, 0}, {beat->fd, 0, 0}};
    if (beat->fd >= 0) polled[1].events = (short)(POLLIN | (!beat->connected || beat->pending_length ? POLLOUT : 0));
    double until = sleeping || next_beat < next_watch ? next_beat : next_watch;
    int timeout = (int)(until - now_ms(CLOCK_MONOTONIC)) + 1;
    if (poll(polled, beat->fd >= 0 ? 2 : 1, timeout < 0 ? 0 : timeout) < 0 && errno != EINTR) break;
    if (polled[0].revents) {
      char bytes[64];
      while (read(beat->wake[0], bytes, sizeof bytes) > 0) continue;
      if (__atomic_load_n(&beat->stopping, __ATOMIC_SEQ_CST)) break;
      /* an event started: watch it from now */
      next_watch = now_ms(CLOCK_MONOTONIC);
      idle = 0;
    }
    if (beat->fd < 0 || !polled[1].revents) continue;
    if (!beat->connected) {
      connected(beat);
      continue;
    }
    if (polled[1].revents & (POLLIN | POLLHUP | POLLERR)) {
      char replies[512];
      ssize_t got = recv(beat->fd, replies, sizeof replies, 0);
      if (got == 0) disconnect(beat, "connection closed");
      else if (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) disconnect(beat, strerror(errno));
    }
    if (beat->fd >= 0 && (polled[1].revents & POLLOUT)) flush(beat);
  }
  /* a clean stop says so at once, instead of letting the controller wait for silence */
  if (beat->farewell && beat->connected) {
    beat->pending_length = 0;
    send_bytes(beat, beat->bye.data, beat->bye.length);
    /* closing with replies unread would reset the connection and could drop the goodbye: let
       Redis answer everything and close its side first (or give up after a while) */
    if (beat->fd >= 0 && beat->pending_length == 0 && shutdown(beat->fd, SHUT_WR) == 0) {
      double until = now_ms(CLOCK_MONOTONIC) + BYE_MS;
      char replies[512];
      for (;;) {
        struct pollfd polled = {beat->fd, POLLIN, 0};
        int left = (int)(until - now_ms(CLOCK_MONOTONIC));
        if (left <= 0 || poll(&polled, 1, left) <= 0) break;
        ssize_t got = recv(beat->fd, replies, sizeof replies, 0);
        if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR)) break;
      }
    }
  }
  if (beat->fd >= 0) close(beat->fd);
  beat->fd = -1;
  return NULL;
}

/* on the main thread: tells JavaScript the latest Redis state, if it changed since it was last told */
static void call_on_redis(napi_env env, napi_value callback, void *context, void *data) {
  (void)data;
  heartbeat *beat = context;
  if (env == NULL) return;
  pthread_mutex_lock(&beat->lock);
  int down = beat->down;
  char reason[REASON_BYTES];
  memcpy(reason, beat->reason, sizeof reason);
  pthread_mutex_unlock(&beat->lock);
  if (down == beat->reported_down) return;
  beat->reported_down = down;
  napi_value args[2], global;
  napi_get_boolean(env, down, &args[0]);
  napi_create_string_utf8(env, reason, NAPI_AUTO_LENGTH, &args[1]);
  napi_get_global(env, &global);
  napi_call_function(env, global, callback, 2, args, NULL);
}

static void free_chunk(chunk *c) {
  free(c->data);
  c->data = NULL;
}

/*
 * stops the thread (with the goodbye when `farewell`) and frees what start took; the second call
 * does nothing
 */
/* rings the thread's doorbell (a full pipe already rings) */
static void ring(heartbeat *beat) {
  char byte = 1;
  ssize_t written;
  do written = write(beat->wake[1], &byte, 1); while (written < 0 && errno == EINTR);
}

static void stop(napi_env env, heartbeat *beat, int farewell) {
  if (beat->stopped) return;
  beat->stopped = 1;
  beat->farewell = farewell;
  __atomic_store_n(&beat->stopping, 1, __ATOMIC_SEQ_CST);
  ring(beat);
  pthread_join(beat->thread, NULL);
  close(beat->wake[0]);
  close(beat->wake[1]);
  napi_release_threadsafe_function(beat->on_redis, napi_tsfn_release);
  if (env != NULL) {
    napi_delete_reference(env, beat->tick_ref);
    napi_delete_reference(env, beat->processing_ref);
    napi_delete_reference(env, beat->sleeping_ref);
  }
  free_chunk(&beat->hello);
  free_chunk(&beat->prefix);
  free_chunk(&beat->bye);
}

/*
 * the environment ends (the process exits, a worker thread stops) before stop was called: no
 * goodbye, as with a process that dies (an exit after a crash is not a clean leave)
 */
static void cleanup(void *argument) {
  heartbeat *beat = argument;
  stop(NULL, beat, 0);
}

static void finalize(napi_env env, void *data, void *hint) {
  (void)hint;
  heartbeat *beat = data;
  if (!beat->stopped) {
    napi_remove_env_cleanup_hook(env, cleanup, beat);
    stop(env, beat, 0);
  }
  pthread_mutex_destroy(&beat->lock);
  free(beat);
}

static int property(napi_env env, napi_value object, const char *name, napi_value *out) {
  return napi_get_named_property(env, object, name, out) == napi_ok;
}

static int string_property(napi_env env, napi_value object, const char *name, char *out, size_t size) {
  napi_value value;
  size_t length;
  if (!property(env, object, name, &value) || napi_get_value_string_utf8(env, value, out, size, &length) != napi_ok || length + 1 >= size) {
    char message[96];
    snprintf(message, sizeof message, "%s must be a string shorter than %zu bytes", name, size - 1);
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", message);
    return 0;
  }
  return 1;
}

static int chunk_property(napi_env env, napi_value object, const char *name, chunk *out) {
  napi_value value;
  bool is_buffer = false;
  void *data;
  size_t length;
  if (!property(env, object, name, &value) || napi_is_buffer(env, value, &is_buffer) != napi_ok || !is_buffer
      || napi_get_buffer_info(env, value, &data, &length) != napi_ok || length > PENDING_BYTES / 2) {
    char message[96];
    snprintf(message, sizeof message, "%s must be a Buffer of at most %d bytes", name, PENDING_BYTES / 2);
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", message);
    return 0;
  }
  out->data = malloc(length ? length : 1);
  if (out->data == NULL) return 0;
  memcpy(out->data, data, length);
  out->length = length;
  return 1;
}

/* the typed array's memory, kept alive by a reference */
static int shared_number(napi_env env, napi_value object, const char *name, napi_typedarray_type type, void **data, napi_ref *ref) {
  napi_value value;
  bool typed = false;
  napi_typedarray_type actual;
  size_t length;
  if (!property(env, object, name, &value) || napi_is_typedarray(env, value, &typed) != napi_ok || !typed
      || napi_get_typedarray_info(env, value, &actual, &length, data, NULL, NULL) != napi_ok || actual != type || length < 1) {
    char message[96];
    snprintf(message, sizeof message, "%s must be a %s of one element", name, type == napi_float64_array ? "Float64Array" : "Int32Array");
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", message);
    return 0;
  }
  return napi_create_reference(env, value, 1, ref) == napi_ok;
}

/* undoes a start that failed part way (the thread never ran): what it took so far, and the heartbeat */
static void discard(napi_env env, heartbeat *beat) {
  free_chunk(&beat->hello);
  free_chunk(&beat->prefix);
  free_chunk(&beat->bye);
  if (beat->tick_ref) napi_delete_reference(env, beat->tick_ref);
  if (beat->processing_ref) napi_delete_reference(env, beat->processing_ref);
  if (beat->sleeping_ref) napi_delete_reference(env, beat->sleeping_ref);
  if (beat->on_redis) napi_release_threadsafe_function(beat->on_redis, napi_tsfn_abort);
  if (beat->wake[0] >= 0) {
    close(beat->wake[0]);
    close(beat->wake[1]);
  }
  pthread_mutex_destroy(&beat->lock);
  free(beat);
}

/*
 * heartbeatStart({ host, port, hello, prefix, bye, instance, intervalMs, watchMs, idleWatches, tick, processing, sleeping, onRedis }):
 * starts the thread; returns its handle for heartbeatStop.
 */
napi_value heartbeat_start_js(napi_env env, napi_callback_info info) {
  size_t count = 1;
  napi_value options, on_redis, handle, name, interval, watch, idle, port;
  double interval_ms, watch_ms, idle_watches, port_number;
  if (napi_get_cb_info(env, info, &count, &options, NULL, NULL) != napi_ok || count < 1) {
    napi_throw_type_error(env, "ERR_MISSING_ARGS", "expected the heartbeat's options");
    return NULL;
  }
  heartbeat *beat = calloc(1, sizeof *beat);
  if (beat == NULL) {
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  beat->fd = -1;
  beat->wake[0] = beat->wake[1] = -1;
  pthread_mutex_init(&beat->lock, NULL);
  if (!string_property(env, options, "host", beat->host, sizeof beat->host)
      || !string_property(env, options, "instance", beat->instance, sizeof beat->instance)
      || !property(env, options, "port", &port) || napi_get_value_double(env, port, &port_number) != napi_ok
      || !property(env, options, "intervalMs", &interval) || napi_get_value_double(env, interval, &interval_ms) != napi_ok
      || !property(env, options, "watchMs", &watch) || napi_get_value_double(env, watch, &watch_ms) != napi_ok
      || !property(env, options, "idleWatches", &idle) || napi_get_value_double(env, idle, &idle_watches) != napi_ok
      || !(port_number >= 1 && port_number <= 65535) || !(interval_ms >= 1 && interval_ms <= 3600000)
      || !(watch_ms >= 1 && watch_ms <= 3600000) || !(idle_watches >= 1 && idle_watches <= 3600000)) {
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (!pending) napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "port must be 1-65535, intervalMs, watchMs and idleWatches 1-3600000");
    discard(env, beat);
    return NULL;
  }
  snprintf(beat->port, sizeof beat->port, "%d", (int)port_number);
  beat->interval_ms = (int)interval_ms;
  beat->watch_ms = (int)watch_ms;
  beat->idle_watches = (int)idle_watches;
  void *tick, *processing, *sleeping;
  if (!chunk_property(env, options, "hello", &beat->hello) || !chunk_property(env, options, "prefix", &beat->prefix)
      || !chunk_property(env, options, "bye", &beat->bye)
      || !shared_number(env, options, "tick", napi_float64_array, &tick, &beat->tick_ref)
      || !shared_number(env, options, "processing", napi_int32_array, &processing, &beat->processing_ref)
      || !shared_number(env, options, "sleeping", napi_int32_array, &sleeping, &beat->sleeping_ref)
      || !property(env, options, "onRedis", &on_redis)) {
    discard(env, beat);
    return NULL;
  }
  beat->tick = tick;
  beat->processing = processing;
  beat->sleeping = sleeping;
  napi_create_string_utf8(env, "dranspose heartbeat", NAPI_AUTO_LENGTH, &name);
  if (pipe2(beat->wake, O_CLOEXEC | O_NONBLOCK) != 0
      || napi_create_threadsafe_function(env, on_redis, NULL, name, 0, 1, NULL, NULL, beat, call_on_redis, &beat->on_redis) != napi_ok) {
    napi_throw_error(env, NULL, "the heartbeat thread could not be set up");
    discard(env, beat);
    return NULL;
  }
  /* the heartbeat does not keep the process alive */
  napi_unref_threadsafe_function(env, beat->on_redis);
  if (pthread_create(&beat->thread, NULL, run, beat) != 0) {
    napi_throw_error(env, NULL, "the heartbeat thread could not be started");
    discard(env, beat);
    return NULL;
  }
  napi_add_env_cleanup_hook(env, cleanup, beat);
  napi_create_external(env, beat, finalize, NULL, &handle);
  return handle;
}

/* the heartbeat of a call's one argument; NULL with a TypeError thrown when it is not a handle */
static heartbeat *handle_arg(napi_env env, napi_callback_info info) {
  size_t count = 1;
  napi_value handle;
  void *data;
  if (napi_get_cb_info(env, info, &count, &handle, NULL, NULL) != napi_ok || count < 1
      || napi_get_value_external(env, handle, &data) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "expected a heartbeat handle");
    return NULL;
  }
  return data;
}

/* heartbeatStop(handle): sends the goodbye if connected and ends the thread */
napi_value heartbeat_stop_js(napi_env env, napi_callback_info info) {
  heartbeat *beat = handle_arg(env, info);
  if (!beat) return NULL;
  if (!beat->stopped) {
    napi_remove_env_cleanup_hook(env, cleanup, beat);
    stop(env, beat, 1);
  }
  return NULL;
}

/* heartbeatWake(handle): an event started while the thread sleeps; the caller cleared `sleeping` */
napi_value heartbeat_wake_js(napi_env env, napi_callback_info info) {
  heartbeat *beat = handle_arg(env, info);
  if (!beat) return NULL;
  if (!beat->stopped) ring(beat);
  return NULL;
}
