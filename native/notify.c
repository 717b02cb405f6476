// syncvisor_notify: sd_notify(3) for Node, which has no AF_UNIX datagram sockets. One call sends one datagram to
// the socket named by $NOTIFY_SOCKET (a path, or "@name" for the abstract namespace) and closes it again. The call is
// synchronous and cannot block: the socket is non-blocking, so a full receive queue answers EAGAIN (thrown, and the
// caller counts it) instead of stalling the event loop.
#define _GNU_SOURCE
#include <errno.h>
#include <node_api.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define MAX_MESSAGE 4096

static void throw_errno(napi_env env, const char *what, int err) {
  char msg[256];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  napi_value code, message, error;
  const char *name = err == ENOENT ? "ENOENT"
                     : err == ECONNREFUSED ? "ECONNREFUSED"
                     : err == EAGAIN ? "EAGAIN"
                     : err == EACCES ? "EACCES"
                     : err == EPERM ? "EPERM"
                     : "ERR_NOTIFY";
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &message);
  napi_create_error(env, code, message, &error);
  napi_throw(env, error);
}

// send(socketPath: string, message: string): void
static napi_value Send(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 2) {
    napi_throw_type_error(env, NULL, "send(socketPath, message) takes two strings");
    return NULL;
  }
  struct sockaddr_un addr;
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  size_t plen = 0;
  char path[sizeof addr.sun_path + 1];
  if (napi_get_value_string_utf8(env, argv[0], path, sizeof path, &plen) != napi_ok) {
    napi_throw_type_error(env, NULL, "send: socketPath must be a string");
    return NULL;
  }
  if (plen == 0 || plen >= sizeof addr.sun_path || (path[0] != '/' && path[0] != '@')) {
    napi_throw_range_error(env, NULL, "send: socketPath must be an absolute path or @abstract, shorter than 108 bytes");
    return NULL;
  }
  memcpy(addr.sun_path, path, plen);
  if (path[0] == '@') addr.sun_path[0] = '\0';
  socklen_t alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen + (path[0] == '@' ? 0 : 1));

  static char msg[MAX_MESSAGE + 1];
  size_t mlen = 0;
  if (napi_get_value_string_utf8(env, argv[1], msg, sizeof msg, &mlen) != napi_ok) {
    napi_throw_type_error(env, NULL, "send: message must be a string");
    return NULL;
  }
  if (mlen == 0 || mlen >= MAX_MESSAGE) {
    napi_throw_range_error(env, NULL, "send: message must be 1..4095 bytes");
    return NULL;
  }

  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    throw_errno(env, "socket(AF_UNIX, SOCK_DGRAM)", errno);
    return NULL;
  }
  ssize_t n = sendto(fd, msg, mlen, MSG_NOSIGNAL, (struct sockaddr *)&addr, alen);
  int err = errno;
  close(fd);
  if (n < 0) {
    throw_errno(env, "sendto $NOTIFY_SOCKET", err);
    return NULL;
  }
  return NULL;
}

static napi_value Init(napi_env env, napi_value exports) {
  napi_value fn;
  if (napi_create_function(env, "send", NAPI_AUTO_LENGTH, Send, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "send", fn) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
