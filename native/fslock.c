// syncvisor_fs: the two system calls Node does not offer. flock(2) on an open descriptor (the lock files that say
// which instance owns a socket path) and raising RLIMIT_NOFILE's soft limit to its hard limit (so the descriptors the
// connection caps reserve are really there). Plain node_api.h, NAPI_VERSION 8, no threads, no state. The same addon
// carries writeFileAtomic (atomicWrite.c): a durable file replace in one thread-pool trip.
#define _GNU_SOURCE
#include <errno.h>
#include <node_api.h>
#include <stdbool.h>
#include <sys/file.h>
#include <sys/resource.h>

#include "atomicWrite.h"

#define CHECK(call)                                                                                                    \
  do {                                                                                                                 \
    if ((call) != napi_ok) return NULL;                                                                                \
  } while (0)

static napi_value make_int(napi_env env, int64_t v) {
  napi_value out;
  if (napi_create_int64(env, v, &out) != napi_ok) return NULL;
  return out;
}

// flock(fd, exclusive, nonblocking) → 0 on success, else errno (EWOULDBLOCK when another holder has it). Never throws
// for a system error: the caller names the path in its message.
static napi_value js_flock(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1) {
    napi_throw_type_error(env, NULL, "flock(fd, exclusive?, nonblocking?)");
    return NULL;
  }
  int32_t fd = -1;
  if (napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0) {
    napi_throw_type_error(env, NULL, "flock: fd must be a non-negative integer");
    return NULL;
  }
  bool exclusive = true, nonblocking = true;
  if (argc > 1) napi_get_value_bool(env, argv[1], &exclusive);
  if (argc > 2) napi_get_value_bool(env, argv[2], &nonblocking);
  int op = (exclusive ? LOCK_EX : LOCK_SH) | (nonblocking ? LOCK_NB : 0);
  int rc;
  do {
    rc = flock(fd, op);
  } while (rc != 0 && errno == EINTR);
  return make_int(env, rc == 0 ? 0 : errno);
}

// raiseNoFileLimit() → { soft, hard } after setting soft = hard (when allowed; unchanged otherwise).
static napi_value js_raise_nofile(napi_env env, napi_callback_info info) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
    napi_throw_error(env, NULL, "getrlimit(RLIMIT_NOFILE) failed");
    return NULL;
  }
  if (rl.rlim_cur < rl.rlim_max) {
    struct rlimit want = {rl.rlim_max, rl.rlim_max};
    if (setrlimit(RLIMIT_NOFILE, &want) == 0) rl = want;
  }
  napi_value out;
  CHECK(napi_create_object(env, &out));
  napi_value soft = make_int(env, rl.rlim_cur == RLIM_INFINITY ? -1 : (int64_t)rl.rlim_cur);
  napi_value hard = make_int(env, rl.rlim_max == RLIM_INFINITY ? -1 : (int64_t)rl.rlim_max);
  CHECK(napi_set_named_property(env, out, "soft", soft));
  CHECK(napi_set_named_property(env, out, "hard", hard));
  return out;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"flock", NULL, js_flock, NULL, NULL, NULL, napi_default, NULL},
      {"raiseNoFileLimit", NULL, js_raise_nofile, NULL, NULL, NULL, napi_default, NULL},
  };
  CHECK(napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props));
  CHECK(register_atomic_write(env, exports));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
