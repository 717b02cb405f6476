// syncvisor_netlink: one AF_NETLINK/NETLINK_ROUTE socket subscribed to RTMGRP_LINK, read by a thread that hands
// datagrams to JS through a bounded queue and a napi_threadsafe_function. Closed through an eventfd.
//
// Why a bounded queue and not a direct tsfn call per datagram: a busy event loop must not grow memory without bound;
// when the queue is full we drop and report an overflow (like the kernel's ENOBUFS) so the caller re-dumps.
// Dump replies (nlmsg_pid == our port id) bypass the bound: the kernel produces them only as we read, their total is
// bounded by the number of links, and dropping one could lose the NLMSG_DONE the caller waits for.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <node_api.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#define RECV_BUF_SIZE (256 * 1024)
#define DEFAULT_RCVBUF (4 * 1024 * 1024)
#define DEFAULT_QUEUE_MAX 4096

enum item_kind { ITEM_DATA = 0, ITEM_OVERFLOW_KERNEL = 1, ITEM_OVERFLOW_QUEUE = 2 };

typedef struct item {
  struct item *next;
  enum item_kind kind;
  size_t len;
  uint8_t data[];
} item;

typedef struct {
  int fd;
  int efd;
  uint32_t portid;
  int rcvbuf;
  pthread_t thread;
  bool thread_started;
  bool closed;
  napi_env env;
  napi_threadsafe_function tsfn;
  napi_ref on_messages;
  napi_ref on_overflow;
  // Freed when both the JS wrapper and the tsfn are finalized (both run on the JS thread).
  int refs;
  pthread_mutex_t mu;
  item *head;
  item *tail;
  size_t data_count;  // bounded data items only
  size_t queue_max;
  bool notify_pending;
  bool queue_overflow_marked;  // a queue-overflow marker is queued and not yet delivered
} nl_handle;

// ---- helpers -------------------------------------------------------------------------------------------------------

#define NAPI_CALL(env, call)                                     \
  do {                                                           \
    napi_status status_ = (call);                                \
    if (status_ != napi_ok) {                                    \
      const napi_extended_error_info *info_ = NULL;              \
      napi_get_last_error_info((env), &info_);                   \
      bool pending_ = false;                                     \
      napi_is_exception_pending((env), &pending_);               \
      if (!pending_) {                                           \
        const char *msg_ = (info_ && info_->error_message)       \
                               ? info_->error_message            \
                               : "N-API call failed";            \
        napi_throw_error((env), NULL, msg_);                     \
      }                                                          \
      return NULL;                                               \
    }                                                            \
  } while (0)

static napi_value throw_errno(napi_env env, const char *what, int err) {
  char msg[256];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  napi_value code, text, error;
  napi_create_string_utf8(env, strerrorname_np(err) ? strerrorname_np(err) : "EUNKNOWN", NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &text);
  napi_create_error(env, code, text, &error);
  napi_throw(env, error);
  return NULL;
}

static void handle_unref(nl_handle *h) {
  if (--h->refs > 0) return;
  pthread_mutex_lock(&h->mu);
  item *it = h->head;
  h->head = h->tail = NULL;
  pthread_mutex_unlock(&h->mu);
  while (it) {
    item *next = it->next;
    free(it);
    it = next;
  }
  pthread_mutex_destroy(&h->mu);
  free(h);
}

// Called with h->mu held. Returns true when the JS side must be woken.
static bool enqueue_locked(nl_handle *h, item *it) {
  it->next = NULL;
  if (h->tail) h->tail->next = it; else h->head = it;
  h->tail = it;
  if (h->notify_pending) return false;
  h->notify_pending = true;
  return true;
}

static void wake_js(nl_handle *h) {
  // Non-blocking: the tsfn queue holds at most one call because of notify_pending. napi_closing after close is fine.
  napi_call_threadsafe_function(h->tsfn, NULL, napi_tsfn_nonblocking);
}

static void push_marker(nl_handle *h, enum item_kind kind) {
  pthread_mutex_lock(&h->mu);
  if (h->tail && h->tail->kind == kind) {  // back-to-back losses are one overflow for the caller
    pthread_mutex_unlock(&h->mu);
    return;
  }
  pthread_mutex_unlock(&h->mu);
  item *it = malloc(sizeof(item));
  if (!it) return;
  it->kind = kind;
  it->len = 0;
  pthread_mutex_lock(&h->mu);
  bool wake = enqueue_locked(h, it);
  pthread_mutex_unlock(&h->mu);
  if (wake) wake_js(h);
}

// ---- receive thread ------------------------------------------------------------------------------------------------

static void *recv_thread(void *arg) {
  nl_handle *h = arg;
  uint8_t *buf = malloc(RECV_BUF_SIZE);
  if (!buf) return NULL;
  struct pollfd fds[2] = {{.fd = h->fd, .events = POLLIN}, {.fd = h->efd, .events = POLLIN}};
  for (;;) {
    int n = poll(fds, 2, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[1].revents) break;  // close requested
    if (!(fds[0].revents & (POLLIN | POLLERR))) continue;
    bool wake = false;
    for (int batch = 0; batch < 1024; batch++) {
      struct sockaddr_nl from;
      struct iovec iov = {.iov_base = buf, .iov_len = RECV_BUF_SIZE};
      struct msghdr msg = {.msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &iov, .msg_iovlen = 1};
      ssize_t len = recvmsg(h->fd, &msg, MSG_DONTWAIT);
      if (len < 0) {
        if (errno == EINTR) continue;
        if (errno == ENOBUFS) {
          push_marker(h, ITEM_OVERFLOW_KERNEL);
          continue;
        }
        break;  // EAGAIN or an unexpected error: back to poll
      }
      if (len == 0) break;
      if (from.nl_pid != 0) continue;  // only the kernel talks to us
      if (msg.msg_flags & MSG_TRUNC) {
        push_marker(h, ITEM_OVERFLOW_KERNEL);  // lost data: the caller must re-dump
        continue;
      }
      bool is_reply = (size_t)len >= sizeof(struct nlmsghdr) && ((struct nlmsghdr *)buf)->nlmsg_pid == h->portid;
      pthread_mutex_lock(&h->mu);
      if (!is_reply && h->data_count >= h->queue_max) {
        if (!h->queue_overflow_marked) {
          item *m = malloc(sizeof(item));
          if (m) {
            m->kind = ITEM_OVERFLOW_QUEUE;
            m->len = 0;
            h->queue_overflow_marked = true;
            wake |= enqueue_locked(h, m);
          }
        }
        pthread_mutex_unlock(&h->mu);
        continue;
      }
      pthread_mutex_unlock(&h->mu);
      item *it = malloc(sizeof(item) + (size_t)len);
      if (!it) {
        push_marker(h, ITEM_OVERFLOW_QUEUE);
        continue;
      }
      it->kind = ITEM_DATA;
      it->len = (size_t)len;
      memcpy(it->data, buf, (size_t)len);
      pthread_mutex_lock(&h->mu);
      if (!is_reply) h->data_count++;
      wake |= enqueue_locked(h, it);
      pthread_mutex_unlock(&h->mu);
    }
    if (wake) wake_js(h);
  }
  free(buf);
  return NULL;
}

// ---- JS side of the tsfn -------------------------------------------------------------------------------------------

static void deliver_buffers(napi_env env, nl_handle *h, napi_value arr, uint32_t *count) {
  if (*count == 0) return;
  if (h->closed || !h->on_messages) {
    *count = 0;
    return;
  }
  napi_value cb, global, result;
  if (napi_get_reference_value(env, h->on_messages, &cb) == napi_ok && cb) {
    napi_get_global(env, &global);
    napi_value argv[1] = {arr};
    napi_call_function(env, global, cb, 1, argv, &result);
  }
  *count = 0;
}

static void rethrow_pending(napi_env env) {
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (pending) {
    napi_value exc;
    napi_get_and_clear_last_exception(env, &exc);
    napi_fatal_exception(env, exc);  // surfaces as 'uncaughtException', like a throw from any other callback
  }
}

static void call_js(napi_env env, napi_value js_cb, void *context, void *data) {
  (void)js_cb;
  (void)data;
  nl_handle *h = context;
  if (env == NULL) return;  // tsfn being torn down
  pthread_mutex_lock(&h->mu);
  item *it = h->head;
  h->head = h->tail = NULL;
  h->data_count = 0;
  h->notify_pending = false;
  h->queue_overflow_marked = false;
  pthread_mutex_unlock(&h->mu);
  if (h->closed) {
    while (it) {
      item *next = it->next;
      free(it);
      it = next;
    }
    return;
  }
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value arr = NULL;
  uint32_t count = 0;
  while (it) {
    item *next = it->next;
    if (it->kind == ITEM_DATA) {
      if (count == 0) napi_create_array(env, &arr);
      napi_value b;
      void *out;
      if (napi_create_buffer_copy(env, it->len, it->data, &out, &b) == napi_ok) napi_set_element(env, arr, count++, b);
    } else {
      deliver_buffers(env, h, arr, &count);
      rethrow_pending(env);
      napi_value cb, global, src, result;
      if (!h->closed && napi_get_reference_value(env, h->on_overflow, &cb) == napi_ok && cb) {
        napi_get_global(env, &global);
        napi_create_string_utf8(env, it->kind == ITEM_OVERFLOW_KERNEL ? "kernel" : "queue", NAPI_AUTO_LENGTH, &src);
        napi_call_function(env, global, cb, 1, &src, &result);
        rethrow_pending(env);
      }
    }
    free(it);
    it = next;
  }
  if (!h->closed) deliver_buffers(env, h, arr, &count);
  rethrow_pending(env);
  napi_close_handle_scope(env, scope);
}

static void tsfn_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  handle_unref(data);
}

// ---- close ---------------------------------------------------------------------------------------------------------

static void close_internal(nl_handle *h, napi_env env) {
  if (h->closed) return;
  h->closed = true;
  if (h->thread_started) {
    uint64_t one = 1;
    ssize_t w;
    do {
      w = write(h->efd, &one, sizeof one);
    } while (w < 0 && errno == EINTR);
    pthread_join(h->thread, NULL);
    h->thread_started = false;
  }
  if (h->fd >= 0) close(h->fd);
  if (h->efd >= 0) close(h->efd);
  h->fd = h->efd = -1;
  if (env) {
    if (h->on_messages) napi_delete_reference(env, h->on_messages);
    if (h->on_overflow) napi_delete_reference(env, h->on_overflow);
  }
  h->on_messages = h->on_overflow = NULL;
  if (h->tsfn) napi_release_threadsafe_function(h->tsfn, napi_tsfn_release);
  h->tsfn = NULL;
}

static void env_cleanup(void *arg) {
  nl_handle *h = arg;
  close_internal(h, NULL);
}

static napi_value js_close(napi_env env, napi_callback_info info) {
  nl_handle *h;
  NAPI_CALL(env, napi_get_cb_info(env, info, NULL, NULL, NULL, (void **)&h));
  if (!h->closed) {
    napi_remove_env_cleanup_hook(env, env_cleanup, h);
    close_internal(h, env);
  }
  return NULL;
}

static void wrapper_finalize(napi_env env, void *data, void *hint) {
  (void)hint;
  nl_handle *h = data;
  if (!h->closed) {
    napi_remove_env_cleanup_hook(env, env_cleanup, h);
    close_internal(h, env);
  }
  handle_unref(h);
}

// ---- dump ----------------------------------------------------------------------------------------------------------

// One ifinfomsg request (a link dump, or a setlink of ifindex changing the `change` flags to 0) sent on the socket;
// its answer arrives through the receive thread. `what` names the request in the thrown error.
static napi_value send_ifinfo(napi_env env, nl_handle *h, uint16_t type, uint16_t flags, uint32_t seq, int ifindex,
                              unsigned change, const char *what) {
  struct {
    struct nlmsghdr nh;
    struct ifinfomsg ifi;
  } req;
  memset(&req, 0, sizeof req);
  req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg));
  req.nh.nlmsg_type = type;
  req.nh.nlmsg_flags = flags;
  req.nh.nlmsg_seq = seq;
  req.nh.nlmsg_pid = h->portid;
  req.ifi.ifi_family = AF_UNSPEC;
  req.ifi.ifi_index = ifindex;
  req.ifi.ifi_flags = 0;
  req.ifi.ifi_change = change;
  struct sockaddr_nl to = {.nl_family = AF_NETLINK};
  ssize_t r;
  do {
    r = sendto(h->fd, &req, req.nh.nlmsg_len, 0, (struct sockaddr *)&to, sizeof to);
  } while (r < 0 && errno == EINTR);
  if (r < 0) return throw_errno(env, what, errno);
  return NULL;
}

static napi_value js_dump(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  nl_handle *h;
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, (void **)&h));
  if (h->closed) {
    napi_throw_error(env, "ERR_CLOSED", "netlink socket is closed");
    return NULL;
  }
  uint32_t seq = 0;
  if (argc < 1 || napi_get_value_uint32(env, argv[0], &seq) != napi_ok) {
    napi_throw_type_error(env, NULL, "dump(seq): seq must be a uint32");
    return NULL;
  }
  return send_ifinfo(env, h, RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, seq, 0, 0, "netlink dump request");
}

// ---- set a link admin down ----------------------------------------------------------------------------------------

// RTM_NEWLINK (setlink) for ifindex with IFF_UP cleared (ifi_change = IFF_UP, ifi_flags = 0), NLM_F_ACK: what
// `ip link set DEV down` sends. The kernel's ACK (NLMSG_ERROR with this seq, error 0 or -errno) arrives as a reply.
static napi_value js_set_link_down(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  nl_handle *h;
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, (void **)&h));
  if (h->closed) {
    napi_throw_error(env, "ERR_CLOSED", "netlink socket is closed");
    return NULL;
  }
  uint32_t ifindex = 0, seq = 0;
  if (argc < 2 || napi_get_value_uint32(env, argv[0], &ifindex) != napi_ok ||
      napi_get_value_uint32(env, argv[1], &seq) != napi_ok || ifindex == 0 || ifindex > INT32_MAX) {
    napi_throw_type_error(env, NULL, "setLinkDown(ifindex, seq): ifindex 1..2^31-1 and seq must be uint32");
    return NULL;
  }
  return send_ifinfo(env, h, RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, seq, (int)ifindex, IFF_UP,
                     "netlink setlink request");
}

// ---- open ----------------------------------------------------------------------------------------------------------

static bool get_named_int(napi_env env, napi_value obj, const char *name, int64_t *out) {
  bool has = false;
  if (napi_has_named_property(env, obj, name, &has) != napi_ok || !has) return false;
  napi_value v;
  napi_valuetype t;
  napi_get_named_property(env, obj, name, &v);
  napi_typeof(env, v, &t);
  if (t != napi_number) return false;
  return napi_get_value_int64(env, v, out) == napi_ok;
}

// Creates and binds the socket; when nspath is given, inside that network namespace (setns on this thread, back after).
static int make_socket(const char *nspath, int *err) {
  int orig = -1, target = -1, fd = -1;
  if (nspath) {
    orig = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (orig < 0) goto fail;
    target = open(nspath, O_RDONLY | O_CLOEXEC);
    if (target < 0) goto fail;
    if (setns(target, CLONE_NEWNET) < 0) goto fail;
  }
  fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
  int saved = errno;
  if (nspath) {
    if (setns(orig, CLONE_NEWNET) < 0) {
      // The JS thread would stay in the wrong namespace: nothing sane can follow.
      napi_fatal_error("syncvisor_netlink", NAPI_AUTO_LENGTH, "setns back to the original namespace failed",
                       NAPI_AUTO_LENGTH);
    }
    close(orig);
    close(target);
    orig = target = -1;
  }
  if (fd < 0) {
    errno = saved;
    goto fail;
  }
  struct sockaddr_nl addr = {.nl_family = AF_NETLINK, .nl_groups = RTMGRP_LINK};
  if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0) goto fail;
  return fd;
fail:
  *err = errno;
  if (fd >= 0) close(fd);
  if (orig >= 0) close(orig);
  if (target >= 0) close(target);
  return -1;
}

static napi_value js_open(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  napi_valuetype t = napi_undefined;
  if (argc >= 1) napi_typeof(env, argv[0], &t);
  if (t != napi_object) {
    napi_throw_type_error(env, NULL, "open(options): options must be an object");
    return NULL;
  }
  napi_value opts = argv[0];
  napi_value on_messages, on_overflow;
  napi_valuetype tm, to;
  NAPI_CALL(env, napi_get_named_property(env, opts, "onMessages", &on_messages));
  NAPI_CALL(env, napi_get_named_property(env, opts, "onOverflow", &on_overflow));
  napi_typeof(env, on_messages, &tm);
  napi_typeof(env, on_overflow, &to);
  if (tm != napi_function || to != napi_function) {
    napi_throw_type_error(env, NULL, "open(options): onMessages and onOverflow must be functions");
    return NULL;
  }
  int64_t rcvbuf = DEFAULT_RCVBUF, queue_max = DEFAULT_QUEUE_MAX;
  get_named_int(env, opts, "rcvbuf", &rcvbuf);
  get_named_int(env, opts, "queueMax", &queue_max);
  if (rcvbuf < 4096 || rcvbuf > (1 << 30) || queue_max < 1 || queue_max > (1 << 24)) {
    napi_throw_range_error(env, NULL, "open(options): rcvbuf must be 4096..1 GiB and queueMax 1..16M");
    return NULL;
  }
  char nspath[4096] = {0};
  bool has_ns = false;
  napi_has_named_property(env, opts, "netns", &has_ns);
  if (has_ns) {
    napi_value v;
    napi_valuetype tv;
    napi_get_named_property(env, opts, "netns", &v);
    napi_typeof(env, v, &tv);
    if (tv == napi_string) {
      size_t n = 0;
      napi_get_value_string_utf8(env, v, nspath, sizeof nspath, &n);
      if (n >= sizeof nspath - 1) {
        napi_throw_range_error(env, NULL, "open(options): netns path too long");
        return NULL;
      }
    } else if (tv != napi_undefined && tv != napi_null) {
      napi_throw_type_error(env, NULL, "open(options): netns must be a path string");
      return NULL;
    }
  }

  int err = 0;
  int fd = make_socket(nspath[0] ? nspath : NULL, &err);
  if (fd < 0) return throw_errno(env, nspath[0] ? "netlink socket in namespace" : "netlink socket", err);

  // Force the receive buffer past net.core.rmem_max (needs CAP_NET_ADMIN); fall back to the capped SO_RCVBUF.
  int want = (int)rcvbuf;
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &want, sizeof want) < 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &want, sizeof want);
  int eff = 0;
  socklen_t efflen = sizeof eff;
  getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &eff, &efflen);

  struct sockaddr_nl local;
  socklen_t locallen = sizeof local;
  if (getsockname(fd, (struct sockaddr *)&local, &locallen) < 0) {
    int e = errno;
    close(fd);
    return throw_errno(env, "netlink getsockname", e);
  }
  int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (efd < 0) {
    int e = errno;
    close(fd);
    return throw_errno(env, "eventfd", e);
  }

  nl_handle *h = calloc(1, sizeof *h);
  if (!h) {
    close(fd);
    close(efd);
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  h->fd = fd;
  h->efd = efd;
  h->portid = local.nl_pid;
  h->rcvbuf = eff;
  h->queue_max = (size_t)queue_max;
  h->env = env;
  h->refs = 1;  // the JS wrapper
  pthread_mutex_init(&h->mu, NULL);

  napi_value self, name, fn;
  napi_status st = napi_create_object(env, &self);
  if (st == napi_ok) st = napi_create_reference(env, on_messages, 1, &h->on_messages);
  if (st == napi_ok) st = napi_create_reference(env, on_overflow, 1, &h->on_overflow);
  if (st == napi_ok) st = napi_create_string_utf8(env, "syncvisor_netlink", NAPI_AUTO_LENGTH, &name);
  if (st == napi_ok) {
    st = napi_create_threadsafe_function(env, NULL, NULL, name, 0, 1, h, tsfn_finalize, h, call_js, &h->tsfn);
    if (st == napi_ok) h->refs++;
  }
  if (st == napi_ok) st = napi_wrap(env, self, h, wrapper_finalize, NULL, NULL);
  if (st != napi_ok) {
    close_internal(h, env);
    handle_unref(h);  // the wrapper's ref; a created tsfn drops its own in its finalizer
    napi_throw_error(env, NULL, "syncvisor_netlink: failed to set up the handle");
    return NULL;
  }
  if (pthread_create(&h->thread, NULL, recv_thread, h) != 0) {
    int e = errno;
    close_internal(h, env);  // the wrapper finalizer drops the last ref
    return throw_errno(env, "pthread_create", e ? e : EAGAIN);
  }
  h->thread_started = true;
  napi_add_env_cleanup_hook(env, env_cleanup, h);

  napi_value v;
  NAPI_CALL(env, napi_create_function(env, "dump", NAPI_AUTO_LENGTH, js_dump, h, &fn));
  NAPI_CALL(env, napi_set_named_property(env, self, "dump", fn));
  NAPI_CALL(env, napi_create_function(env, "setLinkDown", NAPI_AUTO_LENGTH, js_set_link_down, h, &fn));
  NAPI_CALL(env, napi_set_named_property(env, self, "setLinkDown", fn));
  NAPI_CALL(env, napi_create_function(env, "close", NAPI_AUTO_LENGTH, js_close, h, &fn));
  NAPI_CALL(env, napi_set_named_property(env, self, "close", fn));
  NAPI_CALL(env, napi_create_int32(env, eff, &v));
  NAPI_CALL(env, napi_set_named_property(env, self, "rcvbuf", v));
  NAPI_CALL(env, napi_create_uint32(env, h->portid, &v));
  NAPI_CALL(env, napi_set_named_property(env, self, "portId", v));
  return self;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn;
  NAPI_CALL(env, napi_create_function(env, "open", NAPI_AUTO_LENGTH, js_open, NULL, &fn));
  NAPI_CALL(env, napi_set_named_property(env, exports, "open", fn));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
