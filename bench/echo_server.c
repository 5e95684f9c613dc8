/*
 * Reference echo server: one thread, epoll, non-blocking sockets. Reads go
 * into one shared 256 KiB buffer and straight back out; only bytes the
 * kernel does not take at once are copied into a per-connection buffer,
 * and while they wait the connection stops reading (backpressure), as the
 * JavaScript servers do. An idle connection costs a few dozen bytes.
 *
 *   echo_server            listens on 127.0.0.1, a free port
 *   prints "ready PORT" on stdout; answers "count N" (the connections it
 *   holds) to a "count" line on stdin and "gc ok" to any other (the
 *   JavaScript servers' control protocol); exits when stdin closes.
 *
 * Built by bench/run.mjs with the machine's cc into bench/build/.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUF_SIZE (256 * 1024)
#define MAX_EVENTS 256

struct conn {
  int fd;
  size_t pending; /* bytes of `rest` not yet written back */
  size_t offset;  /* where they start */
  char *rest;     /* only while the kernel is behind */
};

static int epfd;
static char buf[BUF_SIZE];
static long held; /* connections accepted and not dropped */

static void watch(struct conn *c, int op, unsigned events) {
  struct epoll_event ev = {.events = events, .data.ptr = c};
  epoll_ctl(epfd, op, c->fd, &ev);
}

static void drop(struct conn *c) {
  held--;
  close(c->fd);
  free(c->rest);
  free(c);
}

/* Writes `len` bytes of `data`; returns how many the kernel took, or -1 on error. */
static ssize_t write_some(int fd, const char *data, size_t len) {
  size_t done = 0;
  while (done < len) {
    ssize_t n = write(fd, data + done, len - done);
    if (n < 0) return errno == EAGAIN ? (ssize_t)done : -1;
    done += (size_t)n;
  }
  return (ssize_t)done;
}

static void on_event(struct conn *c, unsigned events) {
  if (c->pending > 0) {
    ssize_t n = write_some(c->fd, c->rest + c->offset, c->pending);
    if (n < 0) return drop(c);
    c->offset += (size_t)n;
    c->pending -= (size_t)n;
    if (c->pending > 0) return;
    free(c->rest);
    c->rest = NULL;
    watch(c, EPOLL_CTL_MOD, EPOLLIN); /* drained: read again */
  }
  if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR))) return;
  for (;;) {
    ssize_t n = read(c->fd, buf, BUF_SIZE);
    if (n == 0) return drop(c);
    if (n < 0) {
      if (errno == EAGAIN) return;
      return drop(c);
    }
    ssize_t w = write_some(c->fd, buf, (size_t)n);
    if (w < 0) return drop(c);
    if (w < n) {
      c->pending = (size_t)(n - w);
      c->offset = 0;
      c->rest = malloc(c->pending);
      memcpy(c->rest, buf + w, c->pending);
      return watch(c, EPOLL_CTL_MOD, EPOLLOUT);
    }
    if (n < BUF_SIZE) return; /* the kernel had no more */
  }
}

int main(void) {
  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  int one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = 0};
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  if (bind(lfd, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(lfd, 4096) < 0) {
    perror("listen");
    return 1;
  }
  socklen_t len = sizeof addr;
  getsockname(lfd, (struct sockaddr *)&addr, &len);
  printf("ready %d\n", ntohs(addr.sin_port));
  fflush(stdout);

  epfd = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
  epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &ev);
  ev.data.ptr = &epfd; /* marks stdin */
  epoll_ctl(epfd, EPOLL_CTL_ADD, 0, &ev);

  struct epoll_event events[MAX_EVENTS];
  for (;;) {
    int n = epoll_wait(epfd, events, MAX_EVENTS, -1);
    if (n < 0 && errno == EINTR) continue;
    for (int i = 0; i < n; i++) {
      void *p = events[i].data.ptr;
      if (p == &epfd) {
        /* The control pipe: EOF stops; "count" gets the count; "gc" (a JavaScript server's cue) "gc ok". */
        char line[64];
        if (read(0, line, sizeof line) <= 0) return 0;
        if (!strncmp(line, "count", 5)) printf("count %ld\n", held);
        else printf("gc ok\n");
        fflush(stdout);
        continue;
      }
      if (p != NULL) {
        on_event(p, events[i].events);
        continue;
      }
      for (;;) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
        if (fd < 0) break;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct conn *c = calloc(1, sizeof *c);
        c->fd = fd;
        held++;
        watch(c, EPOLL_CTL_ADD, EPOLLIN);
      }
    }
  }
}
