/*
 * afpacket: the agent's two kernel datagram sockets, for Node-API, sharing one lifetime and dispatch core.
 *
 * Raw Ethernet frames for one ethertype on one interface (AF_PACKET, SOCK_RAW, bound to ETH_P_ALL with a
 * kernel BPF filter for the ethertype, so frames are heard even when the interface is a bridge/OVS port):
 *   const s = new PacketSocket('eth0', 0x88cc, [Buffer.from('0180c200000e', 'hex')])
 *   s.start(onFrame(frame: Buffer), onError(err: Error))   // frames include the 14-byte Ethernet header
 *   s.send(frame) -> bytes written                          // frame includes the Ethernet header
 *   s.stats() -> {ifindex, framesDelivered, framesOversize, kernelPackets, kernelDrops, ignoreOutgoing}
 *   s.close()                                               // idempotent; allowed inside onFrame/onError
 *
 * rtnetlink (AF_NETLINK, NETLINK_ROUTE), connected to the kernel, optionally joined to multicast groups:
 *   const n = new NetlinkSocket([RTNLGRP_LINK], rcvbufBytes)
 *   n.start(onDatagram(buf: Buffer), onError(err))         // one datagram: one or more nlmsghdr messages
 *   n.send(nlmsg) -> bytes written; n.close(); n.stats()
 * It exists because netlink@0.3.0 aborts the process on a receive-queue overrun: POLLERR makes it build an
 * exception with a NULL syscall name, a C++ throw out of a libuv callback, so std::terminate. Here an
 * overrun is reported as ENOBUFS through onError (the caller re-dumps) and the socket keeps listening.
 *
 * Lifetime. The C state (afp_socket) is owned jointly by the JS object and the libuv poll handle, and is
 * freed when both are gone: the JS object's finalizer has run, and the poll handle's close callback has
 * run (or it was never started). While started, the socket holds a strong reference to its own JS object,
 * so a listening socket is never garbage-collected behind its user's back; close() drops that reference.
 * JS references (callbacks, async context, self) are released in close(), except when close() is called
 * from inside a callback: then they are released when the dispatch loop returns, because the callback
 * and its async context are still on the stack. An environment cleanup hook closes sockets still open
 * when a worker thread or the process ends, so libuv never sees a live handle on a closing loop.
 *
 * Differences from the proof of concept of the stack survey (docs/net.md "The addon's history"; all faults
 * found on review):
 * - start() twice leaked a reference and an async context (created before the state check); now rejected
 *   before anything is allocated.
 * - socket() was created with the ethertype, which hooks it to every interface until bind(); now created
 *   with protocol 0 and only bound (interface + ethertype) in bind(), plus an ifindex check on receive.
 * - an interface name longer than 15 bytes was silently truncated (it could bind another interface).
 * - non-6-byte or unicast "multicast" entries were silently skipped; now a TypeError. They are also
 *   copied once validated: the PoC read the JS array twice, so a getter could swap in a short buffer.
 * - frames to another station's unicast MAC (seen when the port is promiscuous, e.g. a bridge member)
 *   were delivered; now dropped, like our own transmissions on kernels without PACKET_IGNORE_OUTGOING.
 * - POLLERR (e.g. ENETDOWN when the link goes down) made libuv stop the poll handle: the socket went
 *   deaf forever without telling anyone. Now the socket error is read, reported, and polling resumes.
 * - recv errors other than EAGAIN were swallowed; a flood could starve the event loop (no batch bound).
 * - close() inside the callback freed the async context that napi_make_callback was still using.
 * - an exception thrown by the callback left a pending exception that made every later N-API call fail.
 * - the GC finalizer leaked the callback reference; a started socket could be collected while listening.
 *
 * Cost to know about: close() of a bound packet socket waits in the kernel for an RCU grace period
 * (packet_release -> synchronize_net), ~15 ms on the 2-vCPU test VM, during which the event loop waits.
 * Sockets are opened and closed when uplinks change, not per frame, so it stays synchronous here.
 */
#ifndef NAPI_VERSION
#define NAPI_VERSION 8 /* binding.gyp sets it too */
#endif
#include <node_api.h>
#include <uv.h>

#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/netlink.h>
#include <net/if.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23 /* Linux >= 4.20 */
#endif

/* Frames read per poll wakeup; the rest wait for the next loop iteration so timers and I/O still run. */
#define RX_BATCH_MAX 64
/* Larger than any Ethernet frame we can meet (jumbo 9216); bigger frames are counted and dropped. */
#define RX_BUF_SIZE 65536
#define ETH_HEADER_LEN 14

typedef struct afp_socket {
  napi_env env;
  int family; /* AF_PACKET or AF_NETLINK */
  int fd;     /* -1 once closed */
  int ifindex;
  uint16_t ethertype;
  char ifname[IF_NAMESIZE]; /* "netlink" for netlink sockets, for messages */
  bool ignore_outgoing; /* the kernel drops our own transmissions for us */

  uv_poll_t poll;
  bool poll_started;       /* uv_poll_init done and uv_close not yet called */
  bool poll_closing;       /* uv_close called, on_poll_closed pending */
  bool js_collected;       /* the JS object's finalizer ran */
  bool dispatching;        /* inside on_readable, calling into JS */
  bool js_release_pending; /* close() was called during dispatch */
  bool cleanup_hook;       /* registered with napi_add_env_cleanup_hook */

  napi_ref self; /* strong while started */
  napi_ref on_frame;
  napi_ref on_error;
  napi_async_context async_ctx;

  uint64_t frames_delivered;
  uint64_t frames_oversize;
  uint64_t kernel_packets; /* PACKET_STATISTICS, accumulated (the kernel resets them on read) */
  uint64_t kernel_drops;

  unsigned char buf[RX_BUF_SIZE];
} afp_socket;

/* Guards against `this` being some other addon's wrapped object. */
static const napi_type_tag AFP_TYPE_TAG = {0x9c2b6f0e4d7a4e21ULL, 0xb1f35a9e07c84d63ULL};

/* Live counts, for leak tests: structs not yet freed, descriptors not yet closed. */
static atomic_int live_sockets = 0;
static atomic_int live_fds = 0;

/* ---------------------------------------------------------------------------------------------------- */
/* errors */

static napi_value make_errno_error(napi_env env, int err, const char *syscall, const char *ifname) {
  char code[32], text[96], msg[192];
  uv_err_name_r(-err, code, sizeof code);
  uv_strerror_r(-err, text, sizeof text);
  snprintf(msg, sizeof msg, "%s %s: %s", syscall, ifname, text);
  napi_value js_code, js_msg, error, value;
  if (napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &js_code) != napi_ok ||
      napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &js_msg) != napi_ok ||
      napi_create_error(env, js_code, js_msg, &error) != napi_ok)
    return NULL;
  if (napi_create_int32(env, err, &value) == napi_ok) napi_set_named_property(env, error, "errno", value);
  if (napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &value) == napi_ok)
    napi_set_named_property(env, error, "syscall", value);
  if (napi_create_string_utf8(env, ifname, NAPI_AUTO_LENGTH, &value) == napi_ok)
    napi_set_named_property(env, error, "ifname", value);
  return error;
}

static napi_value throw_errno(napi_env env, int err, const char *syscall, const char *ifname) {
  napi_value error = make_errno_error(env, err, syscall, ifname);
  if (error != NULL) napi_throw(env, error);
  else napi_throw_error(env, NULL, syscall);
  return NULL;
}

/* An N-API call failed: throw unless it already left an exception pending (e.g. a JS getter threw). */
static napi_value throw_napi_failure(napi_env env, const char *call) {
  const napi_extended_error_info *info = NULL;
  napi_get_last_error_info(env, &info);
  char msg[192];
  snprintf(msg, sizeof msg, "afpacket: %s failed: %s", call,
           info && info->error_message ? info->error_message : "unknown error");
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (!pending) napi_throw_error(env, "ERR_AFPACKET_NAPI", msg);
  return NULL;
}

#define NAPI_CALL(call)                                                                                    \
  do {                                                                                                     \
    if ((call) != napi_ok) return throw_napi_failure(env, #call);                                          \
  } while (0)

/* ---------------------------------------------------------------------------------------------------- */
/* lifetime */

static void free_socket(afp_socket *s) {
  atomic_fetch_sub(&live_sockets, 1);
  free(s);
}

static void on_poll_closed(uv_handle_t *handle) {
  afp_socket *s = handle->data;
  s->poll_closing = false;
  if (s->js_collected) free_socket(s);
}

/* Stop polling and close the descriptor. Idempotent; no JS involved. */
static void shutdown_io(afp_socket *s) {
  if (s->poll_started) {
    s->poll_started = false;
    s->poll_closing = true;
    uv_poll_stop(&s->poll); /* removes the fd from epoll before we close it */
    uv_close((uv_handle_t *)&s->poll, on_poll_closed);
  }
  if (s->fd >= 0) {
    close(s->fd);
    s->fd = -1;
    atomic_fetch_sub(&live_fds, 1);
  }
}

/* Drop every JS reference the socket holds; after this the object can be collected. */
static void release_js(napi_env env, afp_socket *s) {
  s->js_release_pending = false;
  if (s->on_frame) napi_delete_reference(env, s->on_frame), s->on_frame = NULL;
  if (s->on_error) napi_delete_reference(env, s->on_error), s->on_error = NULL;
  if (s->async_ctx) napi_async_destroy(env, s->async_ctx), s->async_ctx = NULL;
  if (s->self) napi_delete_reference(env, s->self), s->self = NULL;
}

static void close_socket(napi_env env, afp_socket *s) {
  shutdown_io(s);
  if (s->dispatching) s->js_release_pending = true; /* on_readable releases them when it unwinds */
  else release_js(env, s);
}

/* The environment is going away (worker exit, process teardown) with the socket still open. */
static void on_env_cleanup(void *arg) {
  afp_socket *s = arg;
  s->cleanup_hook = false;
  close_socket(s->env, s);
}

static void finalize_socket(napi_env env, void *data, void *hint) {
  (void)hint;
  afp_socket *s = data;
  s->js_collected = true;
  close_socket(env, s); /* normally a no-op: a started socket cannot be collected before close() */
  if (s->cleanup_hook) {
    s->cleanup_hook = false;
    napi_remove_env_cleanup_hook(env, on_env_cleanup, s);
  }
  if (!s->poll_closing) free_socket(s);
}

static napi_value unwrap_this(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv,
                              afp_socket **out) {
  napi_value self;
  NAPI_CALL(napi_get_cb_info(env, info, argc, argv, &self, NULL));
  bool tagged = false;
  if (napi_check_object_type_tag(env, self, &AFP_TYPE_TAG, &tagged) != napi_ok || !tagged) {
    napi_throw_type_error(env, "ERR_INVALID_THIS", "not a PacketSocket");
    return NULL;
  }
  NAPI_CALL(napi_unwrap(env, self, (void **)out));
  return self;
}

/* ---------------------------------------------------------------------------------------------------- */
/* receive */

/* Calls a JS callback; an exception it throws becomes an uncaught exception, as for any event listener,
 * instead of staying pending and failing every later N-API call. Returns false if it threw. */
static bool call_js(afp_socket *s, napi_ref fn_ref, napi_value arg) {
  napi_env env = s->env;
  napi_value self, fn, result;
  if (napi_get_reference_value(env, s->self, &self) != napi_ok || self == NULL) return false;
  if (napi_get_reference_value(env, fn_ref, &fn) != napi_ok || fn == NULL) return false;
  napi_status status = napi_make_callback(env, s->async_ctx, self, fn, 1, &arg, &result);
  if (status == napi_ok) return true;
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (pending) {
    napi_value exception;
    napi_get_and_clear_last_exception(env, &exception);
    napi_fatal_exception(env, exception);
  }
  return false;
}

static bool report_error(afp_socket *s, int err, const char *syscall) {
  if (s->on_error == NULL) return true;
  napi_handle_scope scope;
  if (napi_open_handle_scope(s->env, &scope) != napi_ok) return false;
  napi_value error = make_errno_error(s->env, err, syscall, s->ifname);
  bool ok = error != NULL && call_js(s, s->on_error, error);
  napi_close_handle_scope(s->env, scope);
  return ok;
}

static bool deliver_frame(afp_socket *s, size_t len) {
  napi_handle_scope scope;
  if (napi_open_handle_scope(s->env, &scope) != napi_ok) return false;
  napi_value frame;
  void *copy;
  bool ok = napi_create_buffer_copy(s->env, len, s->buf, &copy, &frame) == napi_ok;
  if (ok) {
    s->frames_delivered++;
    ok = call_js(s, s->on_frame, frame);
  }
  napi_close_handle_scope(s->env, scope);
  return ok;
}

/* Whether a received datagram is one we want, judged by where it came from. */
static bool wanted_source(const afp_socket *s, const struct sockaddr_storage *from) {
  if (s->family == AF_NETLINK) return ((const struct sockaddr_nl *)from)->nl_pid == 0; /* the kernel only */
  const struct sockaddr_ll *ll = (const struct sockaddr_ll *)from;
  if (ll->sll_pkttype == PACKET_OUTGOING) return false; /* kernels without PACKET_IGNORE_OUTGOING */
  /* unicast to another station: seen only because the port is promiscuous (e.g. a bridge member) */
  if (ll->sll_pkttype == PACKET_OTHERHOST) return false;
  return ll->sll_ifindex == s->ifindex;
}

static void drain_frames(afp_socket *s) {
  for (int i = 0; i < RX_BATCH_MAX && s->fd >= 0; i++) {
    struct sockaddr_storage from;
    socklen_t from_len = sizeof from;
    ssize_t n = recvfrom(s->fd, s->buf, sizeof s->buf, MSG_TRUNC, (struct sockaddr *)&from, &from_len);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      /* a pending socket error (ENETDOWN on a link going down, ENOBUFS on a netlink overrun): reading it
       * cleared it; tell JS and stop this batch */
      report_error(s, errno, "recvfrom");
      return;
    }
    if (!wanted_source(s, &from)) continue;
    if ((size_t)n > sizeof s->buf) {
      s->frames_oversize++;
      continue;
    }
    if (!deliver_frame(s, (size_t)n)) return;
  }
}

static void on_readable(uv_poll_t *handle, int status, int events) {
  (void)events;
  afp_socket *s = handle->data;
  napi_env env = s->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  s->dispatching = true;

  if (status < 0) {
    /* libuv has stopped the handle on POLLERR. The usual cause is a pending socket error (ENETDOWN when
     * the link goes down). Read and clear it, report it, and keep listening: the kernel rebinds the
     * socket when the link comes back up. Anything else is fatal for this socket. */
    int so_error = 0;
    socklen_t len = sizeof so_error;
    bool recoverable = s->fd >= 0 && getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &so_error, &len) == 0 && so_error;
    report_error(s, recoverable ? so_error : -status, recoverable ? "poll" : "uv_poll");
    if (s->poll_started) {
      int rc = recoverable ? uv_poll_start(&s->poll, UV_READABLE, on_readable) : status;
      if (rc < 0) {
        if (recoverable) report_error(s, -rc, "uv_poll_start");
        close_socket(env, s);
      }
    }
  } else {
    drain_frames(s);
  }

  s->dispatching = false;
  if (s->js_release_pending) release_js(env, s);
  napi_close_handle_scope(env, scope);
}

/* ---------------------------------------------------------------------------------------------------- */
/* methods */

static napi_value get_ifname_arg(napi_env env, napi_value value, char *out) {
  napi_valuetype type;
  NAPI_CALL(napi_typeof(env, value, &type));
  if (type != napi_string) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "ifname must be a string");
    return NULL;
  }
  size_t len = 0;
  NAPI_CALL(napi_get_value_string_utf8(env, value, NULL, 0, &len));
  if (len == 0 || len >= IF_NAMESIZE) {
    napi_throw_range_error(env, "ERR_INVALID_IFNAME", "ifname must be 1 to 15 bytes");
    return NULL;
  }
  NAPI_CALL(napi_get_value_string_utf8(env, value, out, IF_NAMESIZE, &len));
  if (strlen(out) != len) { /* embedded NUL */
    napi_throw_range_error(env, "ERR_INVALID_IFNAME", "ifname contains a NUL character");
    return NULL;
  }
  return value;
}

static napi_value get_ethertype_arg(napi_env env, napi_value value, uint16_t *out) {
  napi_valuetype type;
  NAPI_CALL(napi_typeof(env, value, &type));
  double d = -1;
  if (type == napi_number) NAPI_CALL(napi_get_value_double(env, value, &d));
  /* the range test comes first: it rejects NaN and makes the integer cast well defined */
  if (type != napi_number || !(d >= ETH_P_802_3_MIN && d <= 0xffff) || d != (double)(uint32_t)d) {
    napi_throw_range_error(env, "ERR_INVALID_ETHERTYPE", "ethertype must be an integer from 0x0600 to 0xffff");
    return NULL;
  }
  *out = (uint16_t)d;
  return value;
}

#define MAX_MULTICAST 16

/* Validates every multicast entry before any system call (6-byte buffers with the group bit set) and
 * copies them: JS (a getter, a Proxy) must not be able to change them between the check and the use. */
static napi_value get_multicast_arg(napi_env env, napi_value value, uint32_t *count,
                                    unsigned char macs[MAX_MULTICAST][ETH_ALEN]) {
  napi_valuetype type;
  NAPI_CALL(napi_typeof(env, value, &type));
  *count = 0;
  if (type == napi_undefined || type == napi_null) return value;
  bool is_array = false;
  NAPI_CALL(napi_is_array(env, value, &is_array));
  if (!is_array) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "multicast must be an array of 6-byte Buffers");
    return NULL;
  }
  NAPI_CALL(napi_get_array_length(env, value, count));
  if (*count > MAX_MULTICAST) {
    napi_throw_range_error(env, "ERR_INVALID_MULTICAST", "at most 16 multicast addresses");
    return NULL;
  }
  for (uint32_t i = 0; i < *count; i++) {
    napi_value element;
    bool is_buffer = false;
    void *data = NULL;
    size_t len = 0;
    NAPI_CALL(napi_get_element(env, value, i, &element));
    NAPI_CALL(napi_is_buffer(env, element, &is_buffer));
    if (is_buffer) NAPI_CALL(napi_get_buffer_info(env, element, &data, &len));
    if (!is_buffer || len != ETH_ALEN || !(((unsigned char *)data)[0] & 1)) {
      napi_throw_type_error(env, "ERR_INVALID_MULTICAST", "multicast entries must be 6-byte group MAC addresses");
      return NULL;
    }
    memcpy(macs[i], data, ETH_ALEN);
  }
  return value;
}

/* A constructor's system call failed: close the descriptor and throw (unless a JS exception is pending). */
static napi_value fail_construct(napi_env env, int fd, int err, const char *syscall, const char *name) {
  close(fd);
  atomic_fetch_sub(&live_fds, 1);
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  return pending ? NULL : throw_errno(env, err, syscall, name);
}

/* Allocates the state for an open descriptor and ties it to the JS object; NULL (and thrown) on failure. */
static afp_socket *wrap_socket(napi_env env, napi_value self, int fd, int family, const char *name) {
  afp_socket *s = calloc(1, sizeof *s);
  if (s == NULL) {
    fail_construct(env, fd, ENOMEM, "calloc", name);
    return NULL;
  }
  atomic_fetch_add(&live_sockets, 1);
  s->env = env;
  s->family = family;
  s->fd = fd;
  snprintf(s->ifname, sizeof s->ifname, "%s", name);
  s->poll.data = s;
  if (napi_wrap(env, self, s, finalize_socket, NULL, NULL) != napi_ok) {
    shutdown_io(s);
    free_socket(s);
    throw_napi_failure(env, "napi_wrap");
    return NULL;
  }
  /* from here on the finalizer owns s */
  if (napi_type_tag_object(env, self, &AFP_TYPE_TAG) != napi_ok) {
    throw_napi_failure(env, "napi_type_tag_object");
    return NULL;
  }
  if (napi_add_env_cleanup_hook(env, on_env_cleanup, s) == napi_ok) s->cleanup_hook = true;
  return s;
}

/*
 * The receive filter of a PacketSocket, in the kernel (classic BPF, as lldpd does it).
 *
 * Why the socket is bound to ETH_P_ALL and filters here instead of binding to the ethertype: on a port
 * enslaved to a Linux bridge (or to Open vSwitch's kernel datapath, or a macvlan/team lower device), the
 * master's rx_handler runs in __netif_receive_skb_core() *before* the per-protocol handlers (ptype_base)
 * and consumes the frame: the bridge takes 01:80:c2:00:00:00 for itself (STP off: it floods it), OVS takes
 * every frame. A socket bound to one ethertype then hears nothing from the switch. Taps on ETH_P_ALL
 * (ptype_all) run before rx_handler and see every frame of the port whatever it is enslaved to.
 *
 * Accepted: incoming frames (not PACKET_OUTGOING, for kernels without PACKET_IGNORE_OUTGOING) that carry
 * no 802.1Q tag (an LLDPDU or ECPDU on a VLAN is not for the nearest bridge of this port; tags are already
 * in skb metadata when taps run) whose ethertype is ours. Everything else is dropped before any copy.
 */
#define ETHERTYPE_FILTER_LEN 8
static void ethertype_filter(struct sock_filter code[ETHERTYPE_FILTER_LEN], uint16_t ethertype) {
  struct sock_filter prog[ETHERTYPE_FILTER_LEN] = {
      /* 0 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (uint32_t)(SKF_AD_OFF + SKF_AD_PKTTYPE)),
      /* 1 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PACKET_OUTGOING, 5, 0),
      /* 2 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (uint32_t)(SKF_AD_OFF + SKF_AD_VLAN_TAG_PRESENT)),
      /* 3 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 3),
      /* 4 */ BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 12), /* the ethertype */
      /* 5 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ethertype, 0, 1),
      /* 6 */ BPF_STMT(BPF_RET | BPF_K, RX_BUF_SIZE),
      /* 7 */ BPF_STMT(BPF_RET | BPF_K, 0),
  };
  memcpy(code, prog, sizeof prog);
}

/* new PacketSocket(ifname, ethertype, multicast?) */
static napi_value PacketSocket_construct(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3], self, new_target;
  NAPI_CALL(napi_get_cb_info(env, info, &argc, argv, &self, NULL));
  NAPI_CALL(napi_get_new_target(env, info, &new_target));
  if (new_target == NULL) {
    napi_throw_type_error(env, "ERR_CONSTRUCT_CALL_REQUIRED", "PacketSocket must be called with new");
    return NULL;
  }
  if (argc < 2) {
    napi_throw_type_error(env, "ERR_MISSING_ARGS", "PacketSocket(ifname, ethertype, multicast?)");
    return NULL;
  }
  napi_value undefined;
  NAPI_CALL(napi_get_undefined(env, &undefined));
  char ifname[IF_NAMESIZE] = {0};
  uint16_t ethertype = 0;
  uint32_t n_multicast = 0;
  unsigned char macs[MAX_MULTICAST][ETH_ALEN];
  napi_value multicast = argc > 2 ? argv[2] : undefined;
  if (!get_ifname_arg(env, argv[0], ifname) || !get_ethertype_arg(env, argv[1], &ethertype) ||
      !get_multicast_arg(env, multicast, &n_multicast, macs))
    return NULL;

  unsigned int ifindex = if_nametoindex(ifname);
  if (ifindex == 0) return throw_errno(env, errno, "if_nametoindex", ifname);

  /* Protocol 0 receives nothing; bind() then hooks the socket to this interface only. (A socket created
   * with a protocol would see it on every interface until bind.) The filter goes on before bind(), so no
   * unfiltered frame is ever queued. */
  int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, errno, "socket", ifname);
  atomic_fetch_add(&live_fds, 1);

  const char *failed = NULL;
  int err = 0;
  struct sock_filter code[ETHERTYPE_FILTER_LEN];
  struct sock_fprog prog = {.len = ETHERTYPE_FILTER_LEN, .filter = code};
  ethertype_filter(code, ethertype);
  if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) < 0) failed = "SO_ATTACH_FILTER", err = errno;
  /* ETH_P_ALL, not the ethertype: see ethertype_filter() for why */
  struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL), .sll_ifindex = (int)ifindex};
  if (!failed && bind(fd, (struct sockaddr *)&sll, sizeof sll) < 0) failed = "bind", err = errno;

  int one = 1;
  bool ignore_outgoing = !failed && setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one) == 0;

  for (uint32_t i = 0; !failed && i < n_multicast; i++) {
    struct packet_mreq mreq = {.mr_ifindex = (int)ifindex, .mr_type = PACKET_MR_MULTICAST, .mr_alen = ETH_ALEN};
    memcpy(mreq.mr_address, macs[i], ETH_ALEN);
    if (setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mreq, sizeof mreq) < 0)
      failed = "PACKET_ADD_MEMBERSHIP", err = errno;
  }

  if (failed) return fail_construct(env, fd, err, failed, ifname);
  afp_socket *s = wrap_socket(env, self, fd, AF_PACKET, ifname);
  if (s == NULL) return NULL;
  s->ifindex = (int)ifindex;
  s->ethertype = ethertype;
  s->ignore_outgoing = ignore_outgoing;
  return self;
}

/* new NetlinkSocket(groups: number[], rcvbuf?: number): NETLINK_ROUTE, connected to the kernel */
static napi_value NetlinkSocket_construct(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], self, new_target;
  NAPI_CALL(napi_get_cb_info(env, info, &argc, argv, &self, NULL));
  NAPI_CALL(napi_get_new_target(env, info, &new_target));
  if (new_target == NULL) {
    napi_throw_type_error(env, "ERR_CONSTRUCT_CALL_REQUIRED", "NetlinkSocket must be called with new");
    return NULL;
  }
  /* validate everything before any system call */
  uint32_t n_groups = 0, groups[32];
  bool is_array = false;
  if (argc > 0) NAPI_CALL(napi_is_array(env, argv[0], &is_array));
  if (is_array) NAPI_CALL(napi_get_array_length(env, argv[0], &n_groups));
  if (!is_array || n_groups > 32) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "groups must be an array of at most 32 group numbers");
    return NULL;
  }
  for (uint32_t i = 0; i < n_groups; i++) {
    napi_value element;
    double d = 0;
    napi_valuetype type;
    NAPI_CALL(napi_get_element(env, argv[0], i, &element));
    NAPI_CALL(napi_typeof(env, element, &type));
    if (type == napi_number) NAPI_CALL(napi_get_value_double(env, element, &d));
    if (type != napi_number || !(d >= 1 && d <= 1024) || d != (double)(uint32_t)d) {
      napi_throw_range_error(env, "ERR_INVALID_GROUP", "netlink groups are integers from 1 to 1024");
      return NULL;
    }
    groups[i] = (uint32_t)d;
  }
  double rcvbuf = 0;
  napi_valuetype rcv_type = napi_undefined;
  if (argc > 1) NAPI_CALL(napi_typeof(env, argv[1], &rcv_type));
  if (rcv_type == napi_number) NAPI_CALL(napi_get_value_double(env, argv[1], &rcvbuf));
  if ((rcv_type != napi_undefined && rcv_type != napi_number) || !(rcvbuf >= 0 && rcvbuf <= (1 << 30))) {
    napi_throw_range_error(env, "ERR_INVALID_RCVBUF", "rcvbuf must be a byte count up to 1 GiB");
    return NULL;
  }

  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) return throw_errno(env, errno, "socket", "netlink");
  atomic_fetch_add(&live_fds, 1);
  const char *failed = NULL;
  int err = 0;
  struct sockaddr_nl local = {.nl_family = AF_NETLINK}; /* the kernel picks our port id */
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  if (bind(fd, (struct sockaddr *)&local, sizeof local) < 0) failed = "bind", err = errno;
  /* connected to the kernel: send() needs no address, and unicasts from other processes are refused */
  if (!failed && connect(fd, (struct sockaddr *)&kernel, sizeof kernel) < 0) failed = "connect", err = errno;
  if (!failed && rcvbuf > 0) {
    int size = (int)rcvbuf;
    /* FORCE passes net.core.rmem_max with CAP_NET_ADMIN, which the agent has; plain SO_RCVBUF otherwise */
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) < 0 &&
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size) < 0)
      failed = "SO_RCVBUF", err = errno;
  }
  for (uint32_t i = 0; !failed && i < n_groups; i++) {
    if (setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &groups[i], sizeof groups[i]) < 0)
      failed = "NETLINK_ADD_MEMBERSHIP", err = errno;
  }
  if (failed) return fail_construct(env, fd, err, failed, "netlink");
  return wrap_socket(env, self, fd, AF_NETLINK, "netlink") ? self : NULL;
}

/* start(onFrame, onError?), shared by both classes */
static napi_value Socket_start(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  afp_socket *s;
  napi_value self = unwrap_this(env, info, &argc, argv, &s);
  if (self == NULL) return NULL;
  /* every check before any allocation, so a refused start leaks nothing */
  if (s->fd < 0) return throw_errno(env, EBADF, "start", s->ifname);
  if (s->poll_started || s->self != NULL) {
    napi_throw_error(env, "ERR_ALREADY_STARTED", "PacketSocket already started");
    return NULL;
  }
  napi_valuetype t_frame = napi_undefined, t_error = napi_undefined;
  if (argc > 0) NAPI_CALL(napi_typeof(env, argv[0], &t_frame));
  if (argc > 1) NAPI_CALL(napi_typeof(env, argv[1], &t_error));
  if (t_frame != napi_function || (t_error != napi_function && t_error != napi_undefined)) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "start(onFrame: function, onError?: function)");
    return NULL;
  }
  uv_loop_t *loop;
  NAPI_CALL(napi_get_uv_event_loop(env, &loop));
  napi_value name;
  NAPI_CALL(napi_create_string_utf8(env, "PacketSocket", NAPI_AUTO_LENGTH, &name));

  bool ok = napi_create_reference(env, argv[0], 1, &s->on_frame) == napi_ok &&
            (t_error != napi_function || napi_create_reference(env, argv[1], 1, &s->on_error) == napi_ok) &&
            napi_async_init(env, self, name, &s->async_ctx) == napi_ok &&
            napi_create_reference(env, self, 1, &s->self) == napi_ok;
  if (!ok) {
    release_js(env, s);
    return throw_napi_failure(env, "start");
  }
  int rc = uv_poll_init(loop, &s->poll, s->fd);
  if (rc == 0) {
    s->poll_started = true;
    rc = uv_poll_start(&s->poll, UV_READABLE, on_readable);
  }
  if (rc < 0) {
    close_socket(env, s);
    return throw_errno(env, -rc, "uv_poll_start", s->ifname);
  }
  return NULL;
}

/* send(frame) -> bytes written */
static napi_value Socket_send(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  afp_socket *s;
  if (unwrap_this(env, info, &argc, argv, &s) == NULL) return NULL;
  bool is_buffer = false;
  if (argc > 0) NAPI_CALL(napi_is_buffer(env, argv[0], &is_buffer));
  if (!is_buffer) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "send(frame: Buffer)");
    return NULL;
  }
  void *data;
  size_t len;
  NAPI_CALL(napi_get_buffer_info(env, argv[0], &data, &len));
  size_t min_len = s->family == AF_NETLINK ? NLMSG_HDRLEN : ETH_HEADER_LEN;
  if (len < min_len) {
    napi_throw_range_error(env, "ERR_FRAME_TOO_SHORT",
                           s->family == AF_NETLINK ? "a netlink message needs at least its 16-byte header"
                                                   : "a frame needs at least the 14-byte Ethernet header");
    return NULL;
  }
  if (s->fd < 0) return throw_errno(env, EBADF, "send", s->ifname);
  ssize_t n;
  if (s->family == AF_PACKET) {
    /* the socket is bound to ETH_P_ALL: name the frame's protocol (skb->protocol) explicitly */
    struct sockaddr_ll to = {.sll_family = AF_PACKET, .sll_ifindex = s->ifindex, .sll_protocol = htons(s->ethertype), .sll_halen = ETH_ALEN};
    memcpy(to.sll_addr, data, ETH_ALEN);
    do n = sendto(s->fd, data, len, MSG_DONTWAIT, (struct sockaddr *)&to, sizeof to);
    while (n < 0 && errno == EINTR);
  } else {
    do n = send(s->fd, data, len, MSG_DONTWAIT);
    while (n < 0 && errno == EINTR);
  }
  if (n < 0) return throw_errno(env, errno, "send", s->ifname);
  napi_value result;
  NAPI_CALL(napi_create_int64(env, n, &result));
  return result;
}

static napi_value Socket_close(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  afp_socket *s;
  if (unwrap_this(env, info, &argc, NULL, &s) == NULL) return NULL;
  close_socket(env, s);
  return NULL;
}

static napi_status set_number(napi_env env, napi_value obj, const char *key, double value) {
  napi_value v;
  napi_status st = napi_create_double(env, value, &v);
  return st == napi_ok ? napi_set_named_property(env, obj, key, v) : st;
}

static napi_value Socket_stats(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  afp_socket *s;
  if (unwrap_this(env, info, &argc, NULL, &s) == NULL) return NULL;
  if (s->fd >= 0 && s->family == AF_PACKET) {
    struct tpacket_stats st;
    socklen_t len = sizeof st;
    if (getsockopt(s->fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) == 0) {
      s->kernel_packets += st.tp_packets; /* includes the drops */
      s->kernel_drops += st.tp_drops;
    }
  }
  napi_value out, flag;
  NAPI_CALL(napi_create_object(env, &out));
  NAPI_CALL(set_number(env, out, "ifindex", s->ifindex));
  NAPI_CALL(set_number(env, out, "framesDelivered", (double)s->frames_delivered));
  NAPI_CALL(set_number(env, out, "framesOversize", (double)s->frames_oversize));
  NAPI_CALL(set_number(env, out, "kernelPackets", (double)s->kernel_packets));
  NAPI_CALL(set_number(env, out, "kernelDrops", (double)s->kernel_drops));
  NAPI_CALL(napi_get_boolean(env, s->ignore_outgoing, &flag));
  NAPI_CALL(napi_set_named_property(env, out, "ignoreOutgoing", flag));
  NAPI_CALL(napi_get_boolean(env, s->fd < 0, &flag));
  NAPI_CALL(napi_set_named_property(env, out, "closed", flag));
  return out;
}

/* liveCounts() -> {sockets, fds}: what this process still holds, for leak tests */
static napi_value live_counts(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  NAPI_CALL(napi_create_object(env, &out));
  NAPI_CALL(set_number(env, out, "sockets", atomic_load(&live_sockets)));
  NAPI_CALL(set_number(env, out, "fds", atomic_load(&live_fds)));
  return out;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor methods[] = {
      {"start", NULL, Socket_start, NULL, NULL, NULL, napi_default_method, NULL},
      {"send", NULL, Socket_send, NULL, NULL, NULL, napi_default_method, NULL},
      {"close", NULL, Socket_close, NULL, NULL, NULL, napi_default_method, NULL},
      {"stats", NULL, Socket_stats, NULL, NULL, NULL, napi_default_method, NULL},
  };
  size_t n_methods = sizeof methods / sizeof methods[0];
  napi_value packet_class, netlink_class, fn;
  if (napi_define_class(env, "PacketSocket", NAPI_AUTO_LENGTH, PacketSocket_construct, NULL, n_methods, methods,
                        &packet_class) != napi_ok ||
      napi_set_named_property(env, exports, "PacketSocket", packet_class) != napi_ok ||
      napi_define_class(env, "NetlinkSocket", NAPI_AUTO_LENGTH, NetlinkSocket_construct, NULL, n_methods, methods,
                        &netlink_class) != napi_ok ||
      napi_set_named_property(env, exports, "NetlinkSocket", netlink_class) != napi_ok ||
      napi_create_function(env, "liveCounts", NAPI_AUTO_LENGTH, live_counts, NULL, &fn) != napi_ok ||
      napi_set_named_property(env, exports, "liveCounts", fn) != napi_ok)
    return NULL;
  return exports;
}
