/*
 * echo_client: connects to an lwsec echo server, sends several messages
 * (one empty, one larger than a 16 KiB record), checks that every echo
 * comes back byte for byte, then closes gracefully.
 *
 *   echo_client HOST PORT SERVER_KEY PATTERN SUITE
 *
 * SERVER_KEY is the server's public key as text (lwsec-public-v1:...) or
 * the path of a file holding it; PATTERN is nk or ik (ik generates a
 * device key); SUITE is aes or chacha. Exit status: 0 when every echo
 * matched and the close was graceful, 3 on a mismatch, 1 on other errors.
 */
#define _POSIX_C_SOURCE 200809L

#include <netdb.h>
#include <poll.h>
#include <unistd.h>

#include "common.h"

#define N_MESSAGES 6
static const size_t SIZES[N_MESSAGES] = {5, 0, 1, 16385, 70000, 300};
#define TIMEOUT_MS 60000

static void fill(uint8_t *buf, size_t len, size_t which) {
  for (size_t i = 0; i < len; i++) buf[i] = (uint8_t)(i * 31u + which * 7u + (i >> 8));
}

static int read_server_key(const char *arg, uint8_t key[LWSEC_KEY_LEN]) {
  char text[4096];
  size_t n;
  if (strncmp(arg, "lwsec-public-v1:", 16) == 0) {
    n = strlen(arg);
    if (n > sizeof text) n = sizeof text;
    memcpy(text, arg, n);
  } else {
    FILE *f = fopen(arg, "r");
    if (f == NULL) {
      perror(arg);
      return -1;
    }
    n = fread(text, 1, sizeof text, f);
    fclose(f);
  }
  size_t written = 0;
  lwsec_result r = lwsec_public_key_from_text((const uint8_t *)text, n, key, LWSEC_KEY_LEN, &written);
  if (r != LWSEC_OK) {
    report("server key", r, NULL);
    return -1;
  }
  return 0;
}

static int connect_to(const char *host, const char *port) {
  struct addrinfo hints, *res = NULL;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  if (getaddrinfo(host, port, &hints, &res) != 0 || res == NULL) {
    fprintf(stderr, "cannot resolve %s:%s\n", host, port);
    return -1;
  }
  int fd = socket(res->ai_family, res->ai_socktype, res->ai_protocol);
  if (fd >= 0 && connect(fd, res->ai_addr, res->ai_addrlen) < 0) {
    perror("connect");
    close(fd);
    fd = -1;
  }
  freeaddrinfo(res);
  return fd;
}

static lwsec_client_config *make_config(const uint8_t server_key[LWSEC_KEY_LEN],
                                        const char *pattern, const char *suite) {
  lwsec_client_config *config = NULL;
  lwsec_result r;
  if (strcmp(pattern, "ik") == 0) {
    lwsec_key_pair *device = NULL;
    r = lwsec_key_pair_generate(&device);
    if (r == LWSEC_OK) r = lwsec_client_config_new_ik(server_key, LWSEC_KEY_LEN, device, &config);
    lwsec_key_pair_free(device); /* the configuration holds its own copy */
  } else if (strcmp(pattern, "nk") == 0) {
    r = lwsec_client_config_new_nk(server_key, LWSEC_KEY_LEN, &config);
  } else {
    fprintf(stderr, "pattern must be nk or ik\n");
    return NULL;
  }
  uint8_t code;
  if (strcmp(suite, "aes") == 0) {
    code = LWSEC_SUITE_AES_256_GCM;
  } else if (strcmp(suite, "chacha") == 0) {
    code = LWSEC_SUITE_CHACHA20_POLY1305;
  } else {
    fprintf(stderr, "suite must be aes or chacha\n");
    lwsec_client_config_free(config);
    return NULL;
  }
  if (r == LWSEC_OK) r = lwsec_client_config_set_suites(config, &code, 1);
  if (r != LWSEC_OK) {
    report("client config", r, NULL);
    lwsec_client_config_free(config);
    return NULL;
  }
  return config;
}

/* Checks the negotiated parameters once the handshake is complete. */
static int check_handshake(lwsec_conn *conn, const uint8_t server_key[LWSEC_KEY_LEN]) {
  uint8_t suite = 0, pattern = 0, peer[LWSEC_KEY_LEN], hash[32];
  size_t n = 0, hn = 0;
  if (lwsec_conn_suite(conn, &suite) != LWSEC_OK ||
      lwsec_conn_pattern(conn, &pattern) != LWSEC_OK ||
      lwsec_conn_peer_static_key(conn, peer, sizeof peer, &n) != LWSEC_OK ||
      lwsec_conn_handshake_hash(conn, hash, sizeof hash, &hn) != LWSEC_OK) {
    fprintf(stderr, "echo_client: handshake getters failed\n");
    return -1;
  }
  if (n != LWSEC_KEY_LEN || memcmp(peer, server_key, LWSEC_KEY_LEN) != 0) {
    fprintf(stderr, "echo_client: peer key is not the pinned key\n");
    return -1;
  }
  fprintf(stderr, "echo_client: handshake complete (pattern %s, suite %s), hash %02x%02x%02x%02x...\n",
          pattern == LWSEC_PATTERN_IK ? "IK" : "NK",
          suite == LWSEC_SUITE_AES_256_GCM ? "AES-256-GCM" : "ChaCha20-Poly1305", hash[0],
          hash[1], hash[2], hash[3]);
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 6) {
    fprintf(stderr, "usage: %s HOST PORT SERVER_KEY nk|ik aes|chacha\n", argv[0]);
    return 2;
  }
  uint8_t server_key[LWSEC_KEY_LEN];
  if (read_server_key(argv[3], server_key) < 0) return 1;
  lwsec_client_config *config = make_config(server_key, argv[4], argv[5]);
  if (config == NULL) return 1;
  int fd = connect_to(argv[1], argv[2]);
  lwsec_conn *conn = NULL;
  lwsec_result r = LWSEC_OK;
  if (fd >= 0) r = lwsec_conn_new_client(config, now_ms(), &conn);
  lwsec_client_config_free(config); /* the connection holds its own reference */
  if (fd < 0 || r != LWSEC_OK) {
    if (r != LWSEC_OK) report("new client connection", r, NULL);
    if (fd >= 0) close(fd);
    return 1;
  }

  struct inbuf *in = calloc(1, sizeof *in);
  int status = 1, sent = 0, echoed = 0, peer_closed = 0, eof = 0;
  size_t total = 0;
  uint64_t deadline = now_ms() + TIMEOUT_MS;
  while (in != NULL && !eof) {
    if (flush_output(conn, fd) < 0) goto out;
    struct pollfd p = {fd, 0, 0};
    if (in->end < sizeof in->data) p.events |= POLLIN;
    if (wants_write(conn)) p.events |= POLLOUT;
    uint64_t now = now_ms();
    if (now >= deadline) {
      fprintf(stderr, "echo_client: timed out\n");
      goto out;
    }
    if (poll(&p, 1, (int)(deadline - now)) < 0 && errno != EINTR) goto out;
    if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = recv(fd, in->data + in->end, sizeof in->data - in->end, 0);
      if (n < 0) {
        perror("recv");
        goto out;
      }
      if (n == 0) {
        /* OK only after the server's close_notify: otherwise a truncation. */
        r = lwsec_conn_handle_eof(conn);
        if (r != LWSEC_OK) {
          report("echo_client: end of stream", r, conn);
          goto out;
        }
        eof = 1;
      }
      in->end += (size_t)n;
    }
    r = feed(conn, in);
    if (r != LWSEC_OK) {
      report("echo_client: connection failed", r, conn);
      flush_output(conn, fd);
      goto out;
    }
    for (;;) {
      lwsec_event ev = LWSEC_EVENT_NONE;
      if (lwsec_conn_poll_event(conn, &ev) != LWSEC_OK || ev == LWSEC_EVENT_NONE) break;
      if (ev == LWSEC_EVENT_PEER_CLOSED) peer_closed = 1;
      if (ev == LWSEC_EVENT_HANDSHAKE_COMPLETE) {
        if (check_handshake(conn, server_key) < 0) goto out;
        /* Pipeline every message at once, with a key update in between. */
        for (; sent < N_MESSAGES; sent++) {
          uint8_t *msg = malloc(SIZES[sent] + 1);
          if (msg == NULL) goto out;
          fill(msg, SIZES[sent], (size_t)sent);
          r = lwsec_conn_send_message(conn, msg, SIZES[sent]);
          free(msg);
          if (r == LWSEC_OK && sent == 2) r = lwsec_conn_update_keys(conn, true);
          if (r != LWSEC_OK) {
            report("send_message", r, conn);
            goto out;
          }
        }
      }
    }
    for (;;) {
      uint8_t *msg = NULL;
      size_t len = 0;
      int got = next_message(conn, &msg, &len);
      if (got < 0) goto out;
      if (got == 0) break;
      uint8_t *want = malloc(SIZES[echoed % N_MESSAGES] + 1);
      int ok = want != NULL && echoed < N_MESSAGES && len == SIZES[echoed];
      if (ok) {
        fill(want, len, (size_t)echoed);
        ok = memcmp(want, msg, len) == 0;
      }
      free(want);
      free(msg);
      if (!ok) {
        fprintf(stderr, "echo_client: MISMATCH in echo %d (%zu bytes)\n", echoed, len);
        status = 3;
        goto out;
      }
      total += len;
      if (++echoed == N_MESSAGES) {
        r = lwsec_conn_close(conn); /* graceful: close_notify, then wait for the server's */
        if (r != LWSEC_OK) {
          report("close", r, conn);
          goto out;
        }
      }
    }
  }
  if (in != NULL && echoed == N_MESSAGES && peer_closed) {
    printf("echo_client: OK: %d messages (%zu bytes) echoed\n", echoed, total);
    status = 0;
  } else if (status != 3) {
    fprintf(stderr, "echo_client: ended after %d of %d echoes\n", echoed, N_MESSAGES);
  }
out:
  free(in);
  lwsec_conn_free(conn);
  close(fd);
  return status;
}
