// writeFileAtomic: the whole durable replace of a file in one trip to libuv's thread pool, instead of one trip (and one
// event-loop turn) per system call. Part of the syncvisor_fs addon (fslock.c registers it). On the pool thread:
//   open(dir, O_DIRECTORY)                        the directory, once: every later name is relative to it
//   openat(tmp, O_CREAT|O_EXCL|O_NOFOLLOW)        a new file; on EEXIST whatever is there is unlinked (a symlink is
//                                                 removed, its target untouched) and the open retried once
//   write(whole buffer)                           repeated only for a short write or EINTR
//   fsync(tmp), close(tmp)
//   renameat(name → backup)                       only when a backup name is given; a missing file is fine
//   renameat(tmp → name)
//   fsync(dir), close(dir)
// A failure rejects with an Error shaped like Node's fs errors: message "CODE: description, syscall 'path'" and
// code, errno (negative), syscall and path properties. The temp file is removed when the failure comes before the
// final rename. The data buffer is referenced until the work completes. No state, no threads of our own.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <node_api.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "atomicWrite.h"

typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  napi_ref data_ref;
  const uint8_t *data;
  size_t length;
  int mode;
  char *dir;
  char *tmp;
  char *name;
  char *backup; // NULL: no rotation
  // Result: 0, else the errno and what failed.
  int err;
  const char *syscall;
  const char *failed_name; // NULL: the directory itself
} atomic_write_t;

// 0 or the errno. Linux releases the descriptor even when close reports EINTR: never retry it.
static int close_once(int fd) {
  return (close(fd) == 0 || errno == EINTR) ? 0 : errno;
}

static void fail(atomic_write_t *w, int err, const char *syscall, const char *name) {
  w->err = err;
  w->syscall = syscall;
  w->failed_name = name;
}

static void execute(napi_env env, void *arg) {
  (void)env;
  atomic_write_t *w = arg;
  int dfd = open(w->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) {
    fail(w, errno, "open", NULL);
    return;
  }
  const int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
  int fd;
  do {
    fd = openat(dfd, w->tmp, flags, w->mode);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0 && errno == EEXIST) {
    if (unlinkat(dfd, w->tmp, 0) != 0 && errno != ENOENT) {
      fail(w, errno, "unlink", w->tmp);
      close(dfd);
      return;
    }
    do {
      fd = openat(dfd, w->tmp, flags, w->mode);
    } while (fd < 0 && errno == EINTR);
  }
  if (fd < 0) {
    fail(w, errno, "open", w->tmp);
    close(dfd);
    return;
  }
  size_t off = 0;
  while (off < w->length) {
    ssize_t n = write(fd, w->data + off, w->length - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail(w, errno, "write", w->tmp);
      break;
    }
    off += (size_t)n;
  }
  if (w->err == 0 && fsync(fd) != 0) fail(w, errno, "fsync", w->tmp);
  int close_err = close_once(fd);
  if (w->err == 0 && close_err != 0) fail(w, close_err, "close", w->tmp);
  if (w->err == 0 && w->backup != NULL && renameat(dfd, w->name, dfd, w->backup) != 0 && errno != ENOENT)
    fail(w, errno, "rename", w->name);
  if (w->err != 0) {
    unlinkat(dfd, w->tmp, 0);
    close(dfd);
    return;
  }
  if (renameat(dfd, w->tmp, dfd, w->name) != 0) {
    fail(w, errno, "rename", w->tmp);
    close(dfd);
    return;
  }
  if (fsync(dfd) != 0) fail(w, errno, "fsync", NULL);
  close_err = close_once(dfd);
  if (w->err == 0 && close_err != 0) fail(w, close_err, "close", NULL);
}

static napi_value make_error(napi_env env, atomic_write_t *w) {
  const int uverr = -w->err;
  const char *code = uv_err_name(uverr);
  const char *desc = uv_strerror(uverr);
  size_t dir_len = strlen(w->dir);
  size_t name_len = w->failed_name ? strlen(w->failed_name) + 1 : 0;
  char *path = malloc(dir_len + name_len + 1);
  if (path == NULL) return NULL;
  memcpy(path, w->dir, dir_len);
  if (w->failed_name) {
    path[dir_len] = '/';
    memcpy(path + dir_len + 1, w->failed_name, name_len - 1);
  }
  path[dir_len + name_len] = '\0';
  size_t msg_len = strlen(code) + strlen(desc) + strlen(w->syscall) + strlen(path) + 16;
  char *msg = malloc(msg_len);
  napi_value err = NULL;
  if (msg != NULL) {
    snprintf(msg, msg_len, "%s: %s, %s '%s'", code, desc, w->syscall, path);
    napi_value code_v, msg_v, errno_v, syscall_v, path_v;
    if (napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &code_v) == napi_ok &&
        napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &msg_v) == napi_ok &&
        napi_create_error(env, code_v, msg_v, &err) == napi_ok &&
        napi_create_int32(env, uverr, &errno_v) == napi_ok &&
        napi_create_string_utf8(env, w->syscall, NAPI_AUTO_LENGTH, &syscall_v) == napi_ok &&
        napi_create_string_utf8(env, path, NAPI_AUTO_LENGTH, &path_v) == napi_ok) {
      napi_set_named_property(env, err, "errno", errno_v);
      napi_set_named_property(env, err, "syscall", syscall_v);
      napi_set_named_property(env, err, "path", path_v);
    }
    free(msg);
  }
  free(path);
  return err;
}

static void free_write(napi_env env, atomic_write_t *w) {
  if (w->data_ref) napi_delete_reference(env, w->data_ref);
  if (w->work) napi_delete_async_work(env, w->work);
  free(w->dir);
  free(w->tmp);
  free(w->name);
  free(w->backup);
  free(w);
}

static void complete(napi_env env, napi_status status, void *arg) {
  atomic_write_t *w = arg;
  napi_value undefined;
  napi_get_undefined(env, &undefined);
  if (status != napi_ok) {
    napi_value msg, err;
    napi_create_string_utf8(env, "writeFileAtomic: the work was cancelled", NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, NULL, msg, &err);
    napi_reject_deferred(env, w->deferred, err);
  } else if (w->err == 0) {
    napi_resolve_deferred(env, w->deferred, undefined);
  } else {
    napi_value err = make_error(env, w);
    if (err == NULL) {
      napi_value msg;
      napi_create_string_utf8(env, "writeFileAtomic failed (out of memory describing the error)", NAPI_AUTO_LENGTH,
                              &msg);
      napi_create_error(env, NULL, msg, &err);
    }
    napi_reject_deferred(env, w->deferred, err);
  }
  free_write(env, w);
}

// A string argument copied into a new heap string; NULL (with a pending TypeError) when it is not a string or holds
// a NUL byte (a path must not be cut short silently).
static char *string_arg(napi_env env, napi_value v, const char *what) {
  size_t len = 0;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) {
    napi_throw_type_error(env, NULL, what);
    return NULL;
  }
  char *out = malloc(len + 1);
  if (out == NULL) {
    napi_throw_error(env, NULL, "writeFileAtomic: out of memory");
    return NULL;
  }
  napi_get_value_string_utf8(env, v, out, len + 1, &len);
  if (len == 0 || strlen(out) != len) {
    free(out);
    napi_throw_type_error(env, NULL, what);
    return NULL;
  }
  return out;
}

// writeFileAtomic(dir, tmpName, name, backupName | null, data: Uint8Array, mode) → Promise<void>
static napi_value js_write_file_atomic(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (argc < 6) {
    napi_throw_type_error(env, NULL, "writeFileAtomic(dir, tmpName, name, backupName, data, mode)");
    return NULL;
  }
  atomic_write_t *w = calloc(1, sizeof(*w));
  if (w == NULL) {
    napi_throw_error(env, NULL, "writeFileAtomic: out of memory");
    return NULL;
  }
  napi_valuetype backup_type;
  bool is_typedarray = false;
  int32_t mode = 0;
  if (!(w->dir = string_arg(env, argv[0], "writeFileAtomic: dir must be a non-empty string without NUL")) ||
      !(w->tmp = string_arg(env, argv[1], "writeFileAtomic: tmpName must be a non-empty string without NUL")) ||
      !(w->name = string_arg(env, argv[2], "writeFileAtomic: name must be a non-empty string without NUL")))
    goto bad;
  if (napi_typeof(env, argv[3], &backup_type) != napi_ok) goto bad;
  if (backup_type != napi_null && backup_type != napi_undefined &&
      !(w->backup = string_arg(env, argv[3], "writeFileAtomic: backupName must be a string or null")))
    goto bad;
  if (strchr(w->tmp, '/') || strchr(w->name, '/') || (w->backup && strchr(w->backup, '/'))) {
    napi_throw_type_error(env, NULL, "writeFileAtomic: names are file names inside dir (no '/')");
    goto bad;
  }
  if (napi_is_typedarray(env, argv[4], &is_typedarray) != napi_ok || !is_typedarray) {
    napi_throw_type_error(env, NULL, "writeFileAtomic: data must be a Uint8Array");
    goto bad;
  }
  napi_typedarray_type ta_type;
  size_t ta_length;
  void *ta_data;
  if (napi_get_typedarray_info(env, argv[4], &ta_type, &ta_length, &ta_data, NULL, NULL) != napi_ok ||
      ta_type != napi_uint8_array) {
    napi_throw_type_error(env, NULL, "writeFileAtomic: data must be a Uint8Array");
    goto bad;
  }
  if (napi_get_value_int32(env, argv[5], &mode) != napi_ok || mode < 0 || mode > 07777) {
    napi_throw_type_error(env, NULL, "writeFileAtomic: mode must be an integer 0..0o7777");
    goto bad;
  }
  w->data = ta_data;
  w->length = ta_length;
  w->mode = mode;
  napi_value promise, resource_name;
  if (napi_create_reference(env, argv[4], 1, &w->data_ref) != napi_ok ||
      napi_create_string_utf8(env, "syncvisor.writeFileAtomic", NAPI_AUTO_LENGTH, &resource_name) != napi_ok ||
      napi_create_async_work(env, NULL, resource_name, execute, complete, w, &w->work) != napi_ok ||
      napi_create_promise(env, &w->deferred, &promise) != napi_ok)
    goto bad;
  if (napi_queue_async_work(env, w->work) != napi_ok) {
    // The promise exists but will never settle: reject it now and free everything.
    napi_value msg, err;
    napi_create_string_utf8(env, "writeFileAtomic: could not queue the work", NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, NULL, msg, &err);
    napi_reject_deferred(env, w->deferred, err);
    free_write(env, w);
  }
  return promise;
bad:
  free_write(env, w);
  return NULL;
}

napi_status register_atomic_write(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"writeFileAtomic", NULL, js_write_file_atomic, NULL, NULL, NULL, napi_default, NULL},
  };
  return napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
}
