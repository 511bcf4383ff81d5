/*
 * Helpers shared by the lwsec C examples: a millisecond clock, error
 * reporting, and the pump that moves bytes between a socket and an
 * lwsec_conn. Plain POSIX; no dependency but lwsec.h.
 */
#ifndef LWSEC_EXAMPLE_COMMON_H
#define LWSEC_EXAMPLE_COMMON_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>

#include "lwsec.h"

/* The time lwsec takes: wall-clock milliseconds since the UNIX epoch
 * (early-data timestamps and Retry cookies are compared across machines). */
static inline uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Prints what went wrong: the code's static message and, when a
 * connection is given, its detailed last error. */
static inline void report(const char *what, lwsec_result r, const lwsec_conn *conn) {
  char detail[256];
  size_t n = 0;
  if (conn != NULL &&
      lwsec_conn_last_error(conn, (uint8_t *)detail, sizeof detail, &n) == LWSEC_OK) {
    fprintf(stderr, "%s: %s (%u): %.*s\n", what, lwsec_result_str(r), (unsigned)r, (int)n,
            detail);
  } else {
    fprintf(stderr, "%s: %s (%u)\n", what, lwsec_result_str(r), (unsigned)r);
  }
}

/* Sends as much pending output as the socket takes without blocking, using
 * the zero-copy borrow API. Returns 0, or -1 when the socket failed. */
static inline int flush_output(lwsec_conn *conn, int fd) {
  for (;;) {
    const uint8_t *data = NULL;
    size_t len = 0;
    lwsec_result r = lwsec_conn_pending_output(conn, &data, &len);
    if (r != LWSEC_OK) {
      report("pending_output", r, conn);
      return -1;
    }
    if (len == 0) return 0;
    ssize_t sent = send(fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (sent < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return 0;
      perror("send");
      return -1;
    }
    /* `data` is invalid from here on: consume_output is a call on conn. */
    r = lwsec_conn_consume_output(conn, (size_t)sent);
    if (r != LWSEC_OK) {
      report("consume_output", r, conn);
      return -1;
    }
  }
}

/* Whether the connection has bytes waiting to be sent. */
static inline int wants_write(lwsec_conn *conn) {
  const uint8_t *data = NULL;
  size_t len = 0;
  return lwsec_conn_pending_output(conn, &data, &len) == LWSEC_OK && len > 0;
}

/* Received bytes not yet consumed by the connection. */
struct inbuf {
  uint8_t data[65536];
  size_t start, end;
};

/* Offers buffered input to the connection. Returns LWSEC_OK (possibly with
 * input left over: take messages and send output, then call again). */
static inline lwsec_result feed(lwsec_conn *conn, struct inbuf *in) {
  while (in->start < in->end) {
    size_t consumed = 0;
    lwsec_result r = lwsec_conn_handle_input(conn, in->data + in->start, in->end - in->start,
                                             now_ms(), &consumed);
    if (r != LWSEC_OK) return r;
    if (consumed == 0) break;
    in->start += consumed;
  }
  if (in->start == in->end) in->start = in->end = 0;
  return LWSEC_OK;
}

/* Takes the next complete message into a new malloc'ed buffer (freed by
 * the caller with free: it is the caller's memory, not lwsec's). Returns 1
 * with *out and *out_len set, 0 when no message is waiting, -1 on error. */
static inline int next_message(lwsec_conn *conn, uint8_t **out, size_t *out_len) {
  size_t len = 0;
  lwsec_result r = lwsec_conn_next_message_len(conn, &len);
  if (r == LWSEC_NOT_AVAILABLE) return 0;
  if (r != LWSEC_OK) {
    report("next_message_len", r, conn);
    return -1;
  }
  uint8_t *buf = malloc(len > 0 ? len : 1);
  if (buf == NULL) return -1;
  size_t written = 0;
  r = lwsec_conn_recv_message(conn, buf, len, &written);
  if (r != LWSEC_OK) {
    report("recv_message", r, conn);
    free(buf);
    return -1;
  }
  *out = buf;
  *out_len = written;
  return 1;
}

#endif
