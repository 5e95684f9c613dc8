/*
 * The load generator of the echo benchmarks: one thread, epoll,
 * non-blocking sockets, connecting to 127.0.0.1 only.
 *
 *   loadgen MODE --port P [--server-pid PID] [--port Q [--server-pid PID2]]... [--conns N] [--size B]
 *           [--window WIN] [--slices K] [--seconds S] [--warmup W] [--tls]
 *
 *   throughput  N (8) connections stream B-byte (65536) writes and read the echo: MB/s (10^6 bytes);
 *               with --window WIN, a connection starts a new write only while at most WIN bytes, this write's
 *               included, are unechoed (WIN is rounded up to B): the server then sees B-byte writes arrive
 *               as an echo client would send them, not a send buffer's worth at once (default: no window,
 *               as much as the kernel takes)
 *   pingpong    N (100) connections, one B-byte (64) request in flight each: round trips/s, p50, p99
 *   connect     N (50) concurrent cycles of connect, send B (64) bytes, read them back, close: conn/s
 *   idle        one port: warms up with 200 connections, prints "warm", waits for a line on stdin;
 *               opens N (10000) connections that each echo B (64) bytes once, prints "holding N",
 *               waits for a line on stdin, then closes them
 *
 * With two to eight ports the load alternates between them in K rounds of
 * one slice each (default 3), in the order A B C, C B A, A B C ... so a slow
 * drift of the machine favours none: each slice loads one server for W seconds
 * unmeasured, then S seconds measured, then lets what is in flight finish
 * before the next server's slice. The connections to all of them stay open all
 * along (connect opens new ones, of course). Every slice prints one JSON
 * line; `loadgen_cpu`, `server_cpu` and `other_cpu` are the cores the load
 * generator, the loaded server and everything else on the machine used
 * during the measured window (getrusage, /proc/PID/stat, /proc/stat), which
 * shows which side is the bottleneck and how busy the machine was.
 *
 * --tls: every connection speaks TLS 1.3 (OpenSSL), offering only
 * TLS_AES_128_GCM_SHA256 and X25519 so that every server negotiates the
 * same, without verifying the server's certificate (the server is what is
 * measured) and without resumption (no session is ever kept: each connect
 * is a full handshake). Counts are of plaintext bytes.
 *
 * Built by bench/run.mjs with the machine's cc into bench/build/: loadgen
 * without OpenSSL, and loadgen_tls (-DLOADGEN_TLS, -lssl -lcrypto) with
 * --tls as well, so the plain scenarios never depend on OpenSSL.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#ifdef LOADGEN_TLS
/* The 1.1.1 API: the ENGINE calls below are deprecated since 3.0, and still the fast path (see tls_setup). */
#define OPENSSL_API_COMPAT 10101
#include <openssl/engine.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#endif

#define MAX_EVENTS 512
#define READ_SIZE (256 * 1024)
#define HIST_US 200000 /* latency histogram: 1 us buckets up to 200 ms, then one overflow bucket */
#define IDLE_CONCURRENCY 256
#define IDLE_WARMUP 200
#define DRAIN_SECONDS 10.0

enum mode { THROUGHPUT, PINGPONG, CONNECT, IDLE };
/* CONNECTED: the TCP connect is done; with --tls the handshake runs before the request goes. */
enum state { CONNECTING, CONNECTED, ECHOING, HOLDING, FREE };

struct target;

struct conn {
  int fd;
#ifdef LOADGEN_TLS
  SSL *ssl; /* with --tls */
#endif
  enum state state;
  struct target *target;
  uint64_t sent, received; /* throughput: bytes written, bytes echoed back */
  size_t offset;           /* throughput: bytes of the current write already sent */
  size_t got;              /* bytes of the current echo received */
  double started;          /* pingpong: when the request in flight was sent */
};

struct target {
  struct sockaddr_in addr;
  int server_pid;
  struct conn *conns;
  int active;        /* generating new load */
  uint64_t count;    /* bytes (throughput) or completed round trips / connections */
  uint64_t inflight; /* requests sent and not answered, connections in progress, or bytes not echoed */
};

static enum mode mode;
#define MAX_TARGETS 8
static struct target targets[MAX_TARGETS];
static int ntargets = 0;
static int nconns;
static int epfd;
static size_t size;
static uint64_t window; /* throughput: most bytes unechoed per connection; 0: no limit */
static char *out_buf, *in_buf;
static uint64_t errors;
static int last_errno;
static uint64_t hist[HIST_US + 1];

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double own_cpu(void) {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return (double)(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + (double)(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

/* utime + stime of a process, in seconds (0 when unknown). */
static double process_cpu(int pid) {
  if (pid <= 0) return 0;
  char path[64], text[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  FILE *f = fopen(path, "r");
  if (f == NULL) return 0;
  size_t n = fread(text, 1, sizeof text - 1, f);
  fclose(f);
  text[n] = 0;
  char *p = strrchr(text, ')'); /* the command name may hold spaces */
  if (p == NULL) return 0;
  unsigned long utime = 0, stime = 0;
  /* after ") ": state, then fields 4..13, then utime (14) and stime (15) */
  sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime);
  return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

/* CPU seconds the whole machine spent busy (steal included: the hypervisor gave the core away). */
static double machine_busy(void) {
  FILE *f = fopen("/proc/stat", "r");
  if (f == NULL) return 0;
  unsigned long long user = 0, nice = 0, sys = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
  int n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &user, &nice, &sys, &idle, &iowait, &irq, &softirq,
                 &steal);
  fclose(f);
  if (n < 8) return 0;
  return (double)(user + nice + sys + irq + softirq + steal) / (double)sysconf(_SC_CLK_TCK);
}

static void die(const char *what) {
  perror(what);
  exit(1);
}

static void watch(struct conn *c, int op, unsigned events) {
  struct epoll_event ev = {.events = events, .data.ptr = c};
  if (epoll_ctl(epfd, op, c->fd, &ev) < 0) die("epoll_ctl");
}

/*
 * A connection's I/O: read(2) and write(2), or with --tls SSL_read and
 * SSL_write mapped onto the same results (n > 0; 0 at the end; -1 with
 * errno, EAGAIN while the record layer waits for the socket), so the loops
 * below serve both. The epoll loops stay correct edge-triggered: they read
 * until EAGAIN, which SSL_read reports only once the socket had nothing
 * more, whatever OpenSSL buffered before; and every event retries both
 * directions, in case a read needed the socket writable or the reverse.
 */
#ifdef LOADGEN_TLS
static SSL_CTX *tls_ctx; /* with --tls */
static char tls_reason[160];

/* Exits with OpenSSL's reason, or the system's when OpenSSL has none (a socket timeout: no answer). */
static void die_tls(const char *what) {
  unsigned long error = ERR_peek_last_error();
  const char *reason = error != 0 ? ERR_reason_error_string(error) : NULL;
  if (reason == NULL) reason = errno == EAGAIN ? "no answer within 10 s" : strerror(errno);
  fprintf(stderr, "loadgen: %s: %s\n", what, reason);
  exit(1);
}

/* The certificate is not checked at all (the CertificateVerify signature still is: TLS 1.3 needs it). */
static int accept_any_certificate(X509_STORE_CTX *store, void *arg) {
  return 1;
}

#ifndef OPENSSL_NO_ENGINE
static int legacy_rsa(ENGINE *e, EVP_PKEY_METHOD **method, const int **nids, int nid) {
  static const int rsa[] = {EVP_PKEY_RSA};
  if (method == NULL) {
    *nids = rsa;
    return 1;
  }
  *method = nid == EVP_PKEY_RSA ? (EVP_PKEY_METHOD *)EVP_PKEY_meth_find(nid) : NULL;
  return *method != NULL;
}
#endif

/* TLS 1.3 only, one cipher suite and one group (see the top); no verification, no session cache. */
static void tls_setup(void) {
#ifndef OPENSSL_NO_ENGINE
  /*
   * OpenSSL 3.0 decodes the server certificate's RSA key through its
   * provider decoders, about 0.2 ms a handshake: as much as the JS servers'
   * whole side of some handshakes, which would make the load generator the
   * bottleneck. With an ENGINE offering the built-in RSA method it takes
   * 1.1.1's legacy path instead (20 us), and verifies the handshake's
   * signature through that method too.
   */
  ENGINE *engine = ENGINE_new();
  if (engine == NULL || !ENGINE_set_id(engine, "loadgen-legacy-rsa") || !ENGINE_set_name(engine, "legacy RSA") ||
      !ENGINE_set_pkey_meths(engine, legacy_rsa) || !ENGINE_register_pkey_meths(engine)) {
    die_tls("ENGINE");
  }
#endif
  tls_ctx = SSL_CTX_new(TLS_client_method());
  if (tls_ctx == NULL || !SSL_CTX_set_min_proto_version(tls_ctx, TLS1_3_VERSION) ||
      !SSL_CTX_set_ciphersuites(tls_ctx, "TLS_AES_128_GCM_SHA256") || !SSL_CTX_set1_groups_list(tls_ctx, "X25519")) {
    die_tls("TLS setup");
  }
  SSL_CTX_set_verify(tls_ctx, SSL_VERIFY_NONE, NULL);
  SSL_CTX_set_cert_verify_callback(tls_ctx, accept_any_certificate, NULL); /* not even the chain is built */
  SSL_CTX_set_session_cache_mode(tls_ctx, SSL_SESS_CACHE_OFF);
  /* A peer's FIN without close_notify reads as the end, as on plain TCP. */
  SSL_CTX_set_options(tls_ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
  /* SSL_write returns once a record is out (the stream loop retries the rest, as with write(2)). */
  SSL_CTX_set_mode(tls_ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  /* Several records per read(2) rather than a header and a body each; a 64 KiB buffer where data streams. */
  SSL_CTX_set_read_ahead(tls_ctx, 1);
  if (mode == THROUGHPUT) SSL_CTX_set_default_read_buffer_len(tls_ctx, 64 * 1024);
}

static int is_tls(const struct conn *c) {
  return c->ssl != NULL;
}

/* A new client on a connecting socket, with --tls; no session is ever set on it, so it runs a full handshake. */
static void tls_start(struct conn *c) {
  if (tls_ctx == NULL) return;
  c->ssl = SSL_new(tls_ctx);
  if (c->ssl == NULL || !SSL_set_fd(c->ssl, c->fd)) die_tls("SSL_new");
  SSL_set_connect_state(c->ssl);
}

/* What an SSL call's result means as a read(2)/write(2) result (errno set for -1). */
static ssize_t tls_result(struct conn *c, int n) {
  if (n > 0) return n;
  int error = SSL_get_error(c->ssl, n);
  if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) {
    errno = EAGAIN;
    return -1;
  }
  if (error == SSL_ERROR_ZERO_RETURN) return 0;
  if (error == SSL_ERROR_SSL) {
    ERR_error_string_n(ERR_peek_last_error(), tls_reason, sizeof tls_reason);
    errno = EPROTO;
  } else if (errno == 0 || errno == EAGAIN) {
    errno = ECONNRESET; /* SSL_ERROR_SYSCALL without a system error: the peer went away */
  }
  ERR_clear_error(); /* SSL_get_error reads the queue: it must be empty before the next call */
  return -1;
}

static ssize_t conn_read(struct conn *c, void *buffer, size_t n) {
  if (c->ssl == NULL) return read(c->fd, buffer, n);
  return tls_result(c, SSL_read(c->ssl, buffer, (int)n));
}

static ssize_t conn_write(struct conn *c, const void *buffer, size_t n) {
  if (c->ssl == NULL) return write(c->fd, buffer, n);
  return tls_result(c, SSL_write(c->ssl, buffer, (int)n));
}

/* Moves a connected socket's handshake along: 1 done (or plain TCP), 0 waiting for the socket, -1 failed. */
static int handshake(struct conn *c) {
  if (c->ssl == NULL) return 1;
  if (tls_result(c, SSL_do_handshake(c->ssl)) > 0) return 1;
  if (errno == EAGAIN) return 0;
  last_errno = errno;
  errors++;
  return -1;
}

/* The blocking handshake of a long-lived connection; a server silent for 10 s fails it (SO_RCVTIMEO). */
static void tls_connect_blocking(struct conn *c) {
  if (tls_ctx == NULL) return;
  struct timeval limit = {.tv_sec = 10};
  setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
  setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
  tls_start(c);
  if (SSL_connect(c->ssl) != 1) die_tls("TLS handshake");
}

/* Closes a connection: one that ended well says so first (close_notify), as TLS clients do. */
static void close_conn(struct conn *c, int clean) {
  if (c->ssl != NULL) {
    if (clean) SSL_shutdown(c->ssl);
    SSL_free(c->ssl);
    c->ssl = NULL;
    ERR_clear_error();
  }
  close(c->fd);
}

static const char *error_text(void) {
  return last_errno == EPROTO && tls_reason[0] ? tls_reason : strerror(last_errno);
}
#else
/* Plain TCP only: all of this compiles down to the system calls. */
static int is_tls(const struct conn *c) {
  return 0;
}
static void tls_start(struct conn *c) {}
static ssize_t conn_read(struct conn *c, void *buffer, size_t n) {
  return read(c->fd, buffer, n);
}
static ssize_t conn_write(struct conn *c, const void *buffer, size_t n) {
  return write(c->fd, buffer, n);
}
static int handshake(struct conn *c) {
  return 1;
}
static void tls_connect_blocking(struct conn *c) {}
static void close_conn(struct conn *c, int clean) {
  close(c->fd);
}
static const char *error_text(void) {
  return strerror(last_errno);
}
#endif

/*
 * Starts a non-blocking connect. The socket is watched once, edge-triggered,
 * for both directions: writable means connected (send the request), readable
 * means echo bytes. Few syscalls per cycle, since on loopback the kernel's
 * handshake work already runs on the load generator's core.
 */
static void open_conn(struct conn *c, struct target *t) {
  memset(c, 0, sizeof *c);
  c->target = t;
  c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (c->fd < 0) die("socket");
  if (connect(c->fd, (struct sockaddr *)&t->addr, sizeof t->addr) < 0 && errno != EINPROGRESS) {
    last_errno = errno;
    errors++;
  }
  tls_start(c);
  c->state = CONNECTING;
  watch(c, EPOLL_CTL_ADD, EPOLLIN | EPOLLOUT | EPOLLET);
}

/* Connects blocking (the long-lived connections of throughput and pingpong), then goes non-blocking. */
static void open_blocking(struct conn *c, struct target *t) {
  memset(c, 0, sizeof *c);
  c->target = t;
  c->fd = socket(AF_INET, SOCK_STREAM, 0);
  if (c->fd < 0) die("socket");
  int one = 1;
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (connect(c->fd, (struct sockaddr *)&t->addr, sizeof t->addr) < 0) die("connect");
  tls_connect_blocking(c);
  fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
}

/* Sends the whole small request (B bytes fit in any socket buffer); -1 on error. */
static int send_request(struct conn *c) {
  ssize_t n = conn_write(c, out_buf, size);
  if (n == (ssize_t)size) return 0;
  last_errno = n < 0 ? errno : EMSGSIZE;
  errors++;
  return -1;
}

/*
 * Reads what is there of the echo; returns 1 once all B bytes are in, 0 for
 * more to come, -1 on error/EOF. With one request in flight nothing follows
 * a complete echo, so it returns without a read that would only say EAGAIN.
 */
static int receive_echo(struct conn *c) {
  for (;;) {
    ssize_t n = conn_read(c, in_buf, size - c->got);
    if (n > 0) {
      c->got += (size_t)n;
      if (c->got == size) {
        c->got = 0;
        return 1;
      }
      continue;
    }
    if (n < 0 && errno == EAGAIN) return 0;
    last_errno = n == 0 ? ECONNRESET : errno;
    errors++;
    return -1;
  }
}

/*
 * Moves one short-lived or idle-to-be connection along: connect -> send ->
 * echo back. Returns 1 when its echo is complete, -1 when it failed
 * (closed), 0 while in progress.
 */
static int step(struct conn *c, unsigned events) {
  if (c->state == CONNECTING) {
    if (!(events & EPOLLOUT)) return 0;
    c->state = CONNECTED;
  }
  if (c->state == CONNECTED) {
    int r = handshake(c);
    if (r == 0) return 0;
    /* A failed connect makes this write (or the handshake's) fail (ECONNREFUSED ...): no SO_ERROR query needed. */
    if (r < 0 || send_request(c) < 0) {
      close_conn(c, 0);
      return -1;
    }
    c->state = ECHOING;
    /* OpenSSL may hold the records after its handshake already: read them now, not on an edge that came. */
    if (!(events & EPOLLIN) && !is_tls(c)) return 0;
  }
  if (!(events & (EPOLLIN | EPOLLERR | EPOLLHUP)) && !is_tls(c)) return 0;
  int r = receive_echo(c);
  if (r < 0) close_conn(c, 0);
  return r;
}

/* ---- throughput, pingpong, connect: one target's load switched on and off ---- */

/* Throughput: writes until the kernel takes no more, or the window is full (while the target is active). */
static void stream_out(struct conn *c) {
  struct target *t = c->target;
  while (t->active) {
    /* A full window waits for the echo: the read event that brings it calls this again. */
    if (window > 0 && c->offset == 0 && c->sent - c->received + size > window) return;
    ssize_t r = conn_write(c, out_buf + c->offset, size - c->offset);
    if (r < 0) {
      if (errno == EAGAIN) return;
      die("write");
    }
    c->offset += (size_t)r;
    c->sent += (uint64_t)r;
    t->inflight += (uint64_t)r;
    if (c->offset == size) c->offset = 0;
  }
}

/* Throughput: reads the echo until the kernel has nothing. */
static void stream_in(struct conn *c) {
  struct target *t = c->target;
  for (;;) {
    ssize_t r = conn_read(c, in_buf, READ_SIZE);
    if (r > 0) {
      c->received += (uint64_t)r;
      t->count += (uint64_t)r;
      t->inflight -= (uint64_t)r;
      continue;
    }
    if (r == 0 || errno != EAGAIN) {
      fprintf(stderr, "loadgen: the server closed a connection\n");
      exit(1);
    }
    return;
  }
}

static void on_event(struct conn *c, unsigned events, double t_now) {
  struct target *t = c->target;
  if (mode == THROUGHPUT) {
    stream_in(c);
    stream_out(c);
    return;
  }
  if (mode == PINGPONG) {
    int r = receive_echo(c);
    if (r < 0) die("pingpong: connection lost");
    if (r == 0) return;
    long us = (long)((t_now - c->started) * 1e6);
    hist[us < HIST_US ? us : HIST_US]++;
    t->count++;
    t->inflight--;
    if (!t->active) return;
    c->started = t_now;
    if (send_request(c) < 0) die("pingpong: send");
    t->inflight++;
    return;
  }
  /* CONNECT */
  int r = step(c, events);
  if (r == 0) return;
  if (r > 0) {
    t->count++;
    close_conn(c, 1);
  }
  c->state = FREE;
  t->inflight--;
  if (t->active) {
    open_conn(c, t);
    t->inflight++;
  }
}

/* Starts a target's load: every connection gets work. */
static void activate(struct target *t, double t_now) {
  t->active = 1;
  for (int i = 0; i < nconns; i++) {
    struct conn *c = &t->conns[i];
    if (mode == THROUGHPUT) stream_out(c);
    else if (mode == PINGPONG) {
      c->started = t_now;
      if (send_request(c) < 0) die("pingpong: send");
      t->inflight++;
    } else {
      open_conn(c, t);
      t->inflight++;
    }
  }
}

static void serve_events(int timeout_ms) {
  struct epoll_event events[MAX_EVENTS];
  int n = epoll_wait(epfd, events, MAX_EVENTS, timeout_ms);
  double t_now = now();
  for (int i = 0; i < n; i++) on_event(events[i].data.ptr, events[i].events, t_now);
}

static void run_until(double end) {
  for (double t = now(); t < end; t = now()) {
    int ms = (int)((end - t) * 1000) + 1;
    serve_events(ms);
  }
}

static double percentile(uint64_t total, double p) {
  uint64_t rank = (uint64_t)((double)total * p);
  uint64_t seen = 0;
  for (int i = 0; i <= HIST_US; i++) {
    seen += hist[i];
    if (seen > rank) return (double)i;
  }
  return HIST_US;
}

/* One slice: warm up, measure, then let the target's load run out. Prints its JSON line. */
static void slice(int index, int which, double warmup, double seconds) {
  struct target *t = &targets[which];
  activate(t, now());
  run_until(now() + warmup);
  uint64_t errors0 = errors;
  t->count = 0;
  memset(hist, 0, sizeof hist);
  double cpu0 = own_cpu(), server0 = process_cpu(t->server_pid), busy0 = machine_busy(), start = now();
  run_until(start + seconds);
  double elapsed = now() - start;
  uint64_t count = t->count;
  double loadgen_cpu = (own_cpu() - cpu0) / elapsed;
  double server_cpu = (process_cpu(t->server_pid) - server0) / elapsed;
  /* Everything else the machine did meanwhile: other people's work, the kernel's, stolen time. */
  double other_cpu = (machine_busy() - busy0) / elapsed - loadgen_cpu - server_cpu;
  double p50 = mode == PINGPONG ? percentile(count, 0.50) : 0, p99 = mode == PINGPONG ? percentile(count, 0.99) : 0;
  t->active = 0;
  double deadline = now() + DRAIN_SECONDS;
  while (t->inflight > 0) {
    if (now() > deadline) {
      fprintf(stderr, "loadgen: server %d (port %d) did not answer what was in flight within %g s (%llu left)\n", which,
              ntohs(t->addr.sin_port), DRAIN_SECONDS, (unsigned long long)t->inflight);
      exit(1);
    }
    serve_events(100);
  }
  printf("{\"slice\":%d,\"target\":%d,\"seconds\":%.3f", index, which, elapsed);
  if (mode == THROUGHPUT) printf(",\"mbps\":%.1f", (double)count / elapsed / 1e6);
  else if (mode == PINGPONG) {
    printf(",\"rtps\":%.0f,\"p50_us\":%.0f,\"p99_us\":%.0f", (double)count / elapsed, p50, p99);
  } else printf(",\"cps\":%.0f", (double)count / elapsed);
  printf(",\"loadgen_cpu\":%.3f,\"server_cpu\":%.3f,\"other_cpu\":%.3f,\"errors\":%llu,\"last_error\":\"%s\"}\n",
         loadgen_cpu, server_cpu, other_cpu, (unsigned long long)(errors - errors0),
         errors > errors0 && last_errno ? error_text() : "");
  fflush(stdout);
}

static void alternate(int slices, double warmup, double seconds) {
  for (int i = 0; i < ntargets; i++) {
    targets[i].conns = calloc((size_t)nconns, sizeof(struct conn));
    if (mode == CONNECT) continue;
    for (int j = 0; j < nconns; j++) {
      open_blocking(&targets[i].conns[j], &targets[i]);
      /* Throughput is edge-triggered (read and write until the kernel says EAGAIN). */
      watch(&targets[i].conns[j], EPOLL_CTL_ADD, mode == THROUGHPUT ? EPOLLIN | EPOLLOUT | EPOLLET : EPOLLIN);
    }
  }
  int index = 0;
  for (int round = 0; round < slices; round++) {
    for (int k = 0; k < ntargets; k++) {
      /* A B C, C B A, A B C ...: a drift of the machine favours no target. */
      int which = round % 2 == 0 ? k : ntargets - 1 - k;
      slice(index++, which, warmup, seconds);
    }
  }
}

/* ---- idle ---- */

/* Opens `count` connections, at most IDLE_CONCURRENCY in progress, each echoing once; they stay open. */
static void open_idle(struct conn *conns, int count) {
  int started = 0, held = 0, inflight = 0;
  struct epoll_event events[MAX_EVENTS];
  while (held < count) {
    while (inflight < IDLE_CONCURRENCY && started < count) {
      open_conn(&conns[started++], &targets[0]);
      inflight++;
    }
    int n = epoll_wait(epfd, events, MAX_EVENTS, 10000);
    if (n == 0) {
      fprintf(stderr, "loadgen: idle: no progress in 10 s (%d of %d held)\n", held, count);
      exit(1);
    }
    for (int i = 0; i < n; i++) {
      struct conn *c = events[i].data.ptr;
      int r = step(c, events[i].events);
      if (r == 0) continue;
      if (r < 0) {
        fprintf(stderr, "loadgen: idle: connection failed: %s\n", error_text());
        exit(1);
      }
      /* Echoed once: now idle. Stop watching it, so a held connection costs the loop nothing. */
      epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
      c->state = HOLDING;
      inflight--;
      held++;
    }
  }
}

static void wait_for_line(void) {
  char line[64];
  if (fgets(line, sizeof line, stdin) == NULL) exit(0);
}

static void idle(int count) {
  struct conn *conns = calloc((size_t)(count > IDLE_WARMUP ? count : IDLE_WARMUP), sizeof *conns);
  open_idle(conns, IDLE_WARMUP); /* the server's code paths warm, before the baseline */
  for (int i = 0; i < IDLE_WARMUP; i++) close_conn(&conns[i], 1);
  printf("warm\n");
  fflush(stdout);
  wait_for_line();
  double t = now();
  open_idle(conns, count);
  double took = now() - t;
  printf("holding %d\n", count);
  fflush(stdout);
  wait_for_line();
  for (int i = 0; i < count; i++) close_conn(&conns[i], 1);
  printf("{\"mode\":\"idle\",\"conns\":%d,\"open_seconds\":%.2f,\"errors\":%llu}\n", count, took,
         (unsigned long long)errors);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: loadgen throughput|pingpong|connect|idle --port P [--server-pid PID]... "
                    "[--conns N] [--size B] [--window WIN] [--slices K] [--seconds S] [--warmup W] [--tls]\n");
    return 2;
  }
  const char *name = argv[1];
  int ports[MAX_TARGETS] = {0}, pids[MAX_TARGETS] = {0}, nports = 0, npids = 0, slices = 3;
  long bytes = -1;
  double seconds = 1, warmup = 0.2;
  int use_tls = 0;
  nconns = -1;
  for (int i = 2; i < argc; i += 2) {
    if (!strcmp(argv[i], "--tls")) {
      use_tls = 1;
      i--; /* the one option without a value */
      continue;
    }
    const char *value = i + 1 < argc ? argv[i + 1] : "";
    if (!strcmp(argv[i], "--port") || !strcmp(argv[i], "--server-pid")) {
      int is_port = argv[i][2] == 'p';
      if ((is_port ? nports : npids) == MAX_TARGETS) {
        fprintf(stderr, "loadgen: at most %d servers\n", MAX_TARGETS);
        return 2;
      }
      if (is_port) ports[nports++] = atoi(value);
      else pids[npids++] = atoi(value);
    } else if (!strcmp(argv[i], "--conns")) nconns = atoi(value);
    else if (!strcmp(argv[i], "--size")) bytes = atol(value);
    else if (!strcmp(argv[i], "--window")) window = (uint64_t)atoll(value);
    else if (!strcmp(argv[i], "--slices")) slices = atoi(value);
    else if (!strcmp(argv[i], "--seconds")) seconds = atof(value);
    else if (!strcmp(argv[i], "--warmup")) warmup = atof(value);
    else {
      fprintf(stderr, "loadgen: unknown option %s\n", argv[i]);
      return 2;
    }
  }
  if (!strcmp(name, "throughput")) mode = THROUGHPUT;
  else if (!strcmp(name, "pingpong")) mode = PINGPONG;
  else if (!strcmp(name, "connect")) mode = CONNECT;
  else if (!strcmp(name, "idle")) mode = IDLE;
  else {
    fprintf(stderr, "loadgen: unknown mode %s\n", name);
    return 2;
  }
  int bad_port = nports == 0;
  for (int i = 0; i < nports; i++) bad_port |= ports[i] <= 0 || ports[i] > 65535;
  if (bad_port || (mode == IDLE && nports != 1)) {
    fprintf(stderr, "loadgen: --port is required (1 to 65535), one to eight times (idle: once)\n");
    return 2;
  }
  /* Bounded: every measured window at most 10 s, and at most 50 slices. */
  if (seconds <= 0 || seconds > 10 || warmup < 0 || warmup > 10 || slices < 1 || slices > 50) {
    fprintf(stderr, "loadgen: --seconds must be in (0, 10], --warmup in [0, 10], --slices in [1, 50]\n");
    return 2;
  }
  size = (size_t)(bytes > 0 ? bytes : mode == THROUGHPUT ? 65536 : 64);
  if (window > 0 && window < size) window = size; /* at least one write in flight */
  if (nconns <= 0) nconns = mode == THROUGHPUT ? 8 : mode == PINGPONG ? 100 : mode == CONNECT ? 50 : 10000;
  out_buf = malloc(size);
  in_buf = malloc(READ_SIZE);
  for (size_t i = 0; i < size; i++) out_buf[i] = (char)('a' + i % 26);

  /* 10,000 idle connections need more descriptors than the usual soft limit. */
  struct rlimit lim;
  getrlimit(RLIMIT_NOFILE, &lim);
  lim.rlim_cur = lim.rlim_max;
  setrlimit(RLIMIT_NOFILE, &lim);

  ntargets = nports;
  for (int i = 0; i < nports; i++) {
    targets[i].addr.sin_family = AF_INET;
    targets[i].addr.sin_port = htons((uint16_t)ports[i]);
    inet_pton(AF_INET, "127.0.0.1", &targets[i].addr.sin_addr);
    targets[i].server_pid = pids[i];
  }
  epfd = epoll_create1(0);
  if (use_tls) {
#ifdef LOADGEN_TLS
    tls_setup();
#else
    fprintf(stderr, "loadgen: built without OpenSSL: --tls needs loadgen_tls (cc -DLOADGEN_TLS ... -lssl -lcrypto)\n");
    return 2;
#endif
  }

  if (mode == IDLE) {
    if ((rlim_t)nconns + 64 > lim.rlim_max) {
      fprintf(stderr, "loadgen: idle: the descriptor limit (%lu) is too low\n", (unsigned long)lim.rlim_max);
      return 1;
    }
    idle(nconns);
  } else {
    alternate(slices, warmup, seconds);
  }
  fflush(stdout);
  return 0;
}
