/*
 * echo_server: an lwsec echo server in C, on one thread with poll().
 *
 *   echo_server [-p PORT] [-k SECRET_KEY_FILE] [-n MAX_CONNECTIONS] [-r]
 *
 * Listens on 127.0.0.1:PORT (default 0: any free port), accepts NK and IK
 * clients and sends every message back. Without -k it generates a key
 * pair. It prints two lines on stdout, then serves:
 *
 *   public lwsec-public-v1:<64 hex>   (pin this in the client)
 *   port <n>
 *
 * -n exits after that many connections have ended (default: run forever);
 * -r rejects every IK client at the decision point.
 *
 * Every client is decided on explicitly: after its first flight is read,
 * lwsec pauses the connection (LWSEC_EVENT_CLIENT_HELLO) and this server
 * looks at what the flight claims, then accepts or rejects it. The client
 * counts as authenticated only once it confirmed the handshake
 * (LWSEC_EVENT_HANDSHAKE_COMPLETE).
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <unistd.h>

#include "common.h"

#define MAX_CLIENTS 16

struct auth_state {
  int reject_all;
  unsigned calls;
};

struct client {
  struct auth_state *auth;
  int fd;
  lwsec_conn *conn;
  int closing; /* we sent close_notify: drop once the output is flushed */
  struct inbuf in;
};

/* The decision on a client whose first flight was read: what the flight
 * claims (an IK device key, not yet proven present), then accept or reject.
 * A real server would look the device up here, possibly asynchronously:
 * the connection simply waits. */
static lwsec_result decide(lwsec_conn *conn, struct auth_state *auth) {
  lwsec_client_hello_info info;
  lwsec_result r = lwsec_conn_client_hello(conn, &info);
  if (r != LWSEC_OK) return r;
  if (info.has_client_key) {
    auth->calls++;
    fprintf(stderr, "echo_server: IK client key ");
    for (size_t i = 0; i < sizeof info.client_key; i++) fprintf(stderr, "%02x", info.client_key[i]);
    fprintf(stderr, auth->reject_all ? " rejected\n" : " accepted\n");
    if (auth->reject_all) return lwsec_conn_reject_client(conn, LWSEC_REJECT_NOT_AUTHORIZED);
  }
  return lwsec_conn_accept_client(conn, NULL, 0, false, now_ms());
}

static lwsec_key_pair *load_key(const char *path) {
  lwsec_key_pair *key = NULL;
  lwsec_result r;
  if (path == NULL) {
    r = lwsec_key_pair_generate(&key);
  } else {
    char text[4096];
    FILE *f = fopen(path, "r");
    if (f == NULL) {
      perror(path);
      return NULL;
    }
    size_t n = fread(text, 1, sizeof text, f);
    fclose(f);
    r = lwsec_key_pair_from_text((const uint8_t *)text, n, &key);
  }
  if (r != LWSEC_OK) {
    report("loading the server key", r, NULL);
    return NULL;
  }
  return key;
}

/* Handles everything the connection has to say after new input: events,
 * messages (echoed back), output. Returns 0 to keep the client, -1 to drop it. */
static int serve(struct client *c) {
  lwsec_result r;
  for (int again = 1; again;) {
    again = 0;
    r = feed(c->conn, &c->in);
    if (r != LWSEC_OK) {
      report("echo_server: connection failed", r, c->conn);
      flush_output(c->conn, c->fd); /* the alert, if any */
      return -1;
    }
    for (;;) {
      lwsec_event ev = LWSEC_EVENT_NONE;
      if (lwsec_conn_poll_event(c->conn, &ev) != LWSEC_OK || ev == LWSEC_EVENT_NONE) break;
      if (ev == LWSEC_EVENT_CLIENT_HELLO) {
        r = decide(c->conn, c->auth);
        if (r != LWSEC_OK) {
          report("echo_server: decision", r, c->conn);
          return -1;
        }
        again = 1; /* input waiting behind the decision can now be fed */
      } else if (ev == LWSEC_EVENT_HANDSHAKE_COMPLETE) {
        uint8_t suite = 0, pattern = 0;
        lwsec_conn_suite(c->conn, &suite);
        lwsec_conn_pattern(c->conn, &pattern);
        fprintf(stderr, "echo_server: handshake complete (pattern %s, suite %s)\n",
                pattern == LWSEC_PATTERN_IK ? "IK" : "NK",
                suite == LWSEC_SUITE_AES_256_GCM ? "AES-256-GCM" : "ChaCha20-Poly1305");
      } else if (ev == LWSEC_EVENT_PEER_CLOSED) {
        r = lwsec_conn_close(c->conn);
        if (r != LWSEC_OK) report("close", r, c->conn);
        c->closing = 1;
      }
    }
  }
  lwsec_handshake_state st = LWSEC_STATE_HANDSHAKING;
  if (lwsec_conn_handshake_state(c->conn, &st) == LWSEC_OK && st == LWSEC_STATE_FAILED) {
    report("echo_server: client refused", LWSEC_CLIENT_REJECTED, c->conn);
    flush_output(c->conn, c->fd); /* the alert */
    return -1;
  }
  for (;;) {
    uint8_t *msg = NULL;
    size_t len = 0;
    int got = next_message(c->conn, &msg, &len);
    if (got < 0) return -1;
    if (got == 0) break;
    if (!c->closing) {
      r = lwsec_conn_send_message(c->conn, msg, len);
      if (r != LWSEC_OK) report("send_message", r, c->conn);
    }
    free(msg);
    if (r != LWSEC_OK) return -1;
  }
  if (flush_output(c->conn, c->fd) < 0) return -1;
  if (c->closing && !wants_write(c->conn)) return -1; /* done: close the socket */
  return 0;
}

static void drop(struct client *c) {
  close(c->fd);
  lwsec_conn_free(c->conn);
  free(c);
}

int main(int argc, char **argv) {
  int port = 0, max_conns = 0, opt;
  const char *key_path = NULL;
  struct auth_state auth = {0, 0};
  while ((opt = getopt(argc, argv, "p:k:n:r")) != -1) {
    switch (opt) {
      case 'p': port = atoi(optarg); break;
      case 'k': key_path = optarg; break;
      case 'n': max_conns = atoi(optarg); break;
      case 'r': auth.reject_all = 1; break;
      default:
        fprintf(stderr, "usage: %s [-p PORT] [-k SECRET_KEY_FILE] [-n MAX_CONNECTIONS] [-r]\n",
                argv[0]);
        return 2;
    }
  }

  lwsec_key_pair *key = load_key(key_path);
  if (key == NULL) return 1;
  lwsec_server_config *config = NULL;
  lwsec_result r = lwsec_server_config_new(key, &config);
  char pub[LWSEC_KEY_TEXT_LEN];
  size_t pub_len = 0;
  if (r == LWSEC_OK) r = lwsec_key_pair_public_key_text(key, (uint8_t *)pub, sizeof pub, &pub_len);
  lwsec_key_pair_free(key); /* the configuration holds its own copy */
  if (r != LWSEC_OK) {
    report("server config", r, NULL);
    lwsec_server_config_free(config);
    return 1;
  }

  int lfd = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons((uint16_t)port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t alen = sizeof addr;
  if (lfd < 0 || bind(lfd, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(lfd, 16) < 0 ||
      getsockname(lfd, (struct sockaddr *)&addr, &alen) < 0) {
    perror("listen");
    lwsec_server_config_free(config);
    return 1;
  }
  printf("public %.*s\nport %d\n", (int)pub_len, pub, ntohs(addr.sin_port));
  fflush(stdout);

  struct client *clients[MAX_CLIENTS] = {0};
  int ended = 0;
  while (max_conns == 0 || ended < max_conns) {
    struct pollfd fds[MAX_CLIENTS + 1];
    fds[0].fd = lfd;
    fds[0].events = POLLIN;
    for (int i = 0; i < MAX_CLIENTS; i++) {
      struct client *c = clients[i];
      fds[i + 1].fd = c ? c->fd : -1;
      fds[i + 1].events = 0;
      if (c && c->in.end < sizeof c->in.data) fds[i + 1].events |= POLLIN;
      if (c && wants_write(c->conn)) fds[i + 1].events |= POLLOUT;
    }
    if (poll(fds, MAX_CLIENTS + 1, -1) < 0) {
      if (errno == EINTR) continue;
      perror("poll");
      break;
    }
    if (fds[0].revents & POLLIN) {
      int fd = accept(lfd, NULL, NULL);
      int slot = -1;
      for (int i = 0; i < MAX_CLIENTS && fd >= 0; i++)
        if (clients[i] == NULL) { slot = i; break; }
      struct client *c = slot >= 0 ? calloc(1, sizeof *c) : NULL;
      if (c == NULL) {
        if (fd >= 0) close(fd);
      } else {
        c->fd = fd;
        c->auth = &auth;
        r = lwsec_conn_new_server(config, now_ms(), &c->conn);
        if (r != LWSEC_OK) {
          report("new server connection", r, NULL);
          close(fd);
          free(c);
        } else {
          clients[slot] = c;
        }
      }
    }
    for (int i = 0; i < MAX_CLIENTS; i++) {
      struct client *c = clients[i];
      short re = fds[i + 1].revents;
      if (c == NULL || re == 0 || fds[i + 1].fd != c->fd) continue;
      int keep = 0;
      if (re & (POLLIN | POLLHUP | POLLERR)) {
        ssize_t n = recv(c->fd, c->in.data + c->in.end, sizeof c->in.data - c->in.end, 0);
        if (n > 0) {
          c->in.end += (size_t)n;
          keep = serve(c);
        } else if (n == 0) {
          r = lwsec_conn_handle_eof(c->conn);
          if (r != LWSEC_OK) report("echo_server: end of stream", r, c->conn);
          keep = -1;
        } else {
          perror("recv");
          keep = -1;
        }
      } else {
        keep = serve(c); /* POLLOUT: send, and offer input left over */
      }
      if (keep < 0) {
        drop(c);
        clients[i] = NULL;
        ended++;
      }
    }
  }
  for (int i = 0; i < MAX_CLIENTS; i++)
    if (clients[i]) drop(clients[i]);
  close(lfd);
  lwsec_server_config_free(config);
  fprintf(stderr, "echo_server: %d connection(s) ended, %u IK authorisation(s)\n", ended,
          auth.calls);
  return 0;
}
