/*
 * Session resumption through the C API, in memory (no sockets): a full IK
 * handshake gives the client a ticket; the ticket, stored in the client
 * configuration, resumes the next connection with the identity the server
 * gave first; a rotated keyring still opens a ticket sealed before the
 * rotation; a server whose keyring lacks the ticket's key makes the client
 * fall back to a full handshake on the same connection. Built with
 * -Wall -Wextra -Werror and run (also under valgrind) by tests/c_api.rs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lwsec.h"

/* A fixed wall-clock instant (milliseconds since the UNIX epoch). */
#define T0 1800000000000ULL

#define CHECK(call)                                                                  \
  do {                                                                               \
    lwsec_result r_ = (call);                                                        \
    if (r_ != LWSEC_OK) {                                                            \
      fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #call,                  \
              lwsec_result_str(r_));                                                 \
      exit(1);                                                                       \
    }                                                                                \
  } while (0)

#define EXPECT(cond)                                                                 \
  do {                                                                               \
    if (!(cond)) {                                                                   \
      fprintf(stderr, "%s:%d: expected %s\n", __FILE__, __LINE__, #cond);            \
      exit(1);                                                                       \
    }                                                                                \
  } while (0)

static const uint8_t IDENTITY[] = "alice/phone";
#define IDENTITY_LEN (sizeof IDENTITY - 1)

/* Moves all pending output of `from` into `to`. */
static void pump(lwsec_conn *from, lwsec_conn *to, uint64_t now) {
  for (;;) {
    const uint8_t *data = NULL;
    size_t len = 0, consumed = 0;
    CHECK(lwsec_conn_pending_output(from, &data, &len));
    if (len == 0) {
      return;
    }
    CHECK(lwsec_conn_handle_input(to, data, len, now, &consumed));
    CHECK(lwsec_conn_consume_output(from, consumed));
  }
}

/* What one connection did. */
struct outcome {
  bool resumed;
  bool got_ticket;
};

/* Connects a client made from `ccfg` to a server made from `scfg` at
 * `now`, exchanges one message, and stores a received ticket in
 * `ticket` / `*ticket_len`. A resumed client must show `full_at`, the time
 * of the full handshake behind its ticket. */
static struct outcome connect_once(lwsec_client_config *ccfg, lwsec_server_config *scfg,
                                   uint64_t now, uint64_t full_at, uint8_t *ticket,
                                   size_t *ticket_len) {
  struct outcome result = {false, false};
  lwsec_conn *client = NULL, *server = NULL;
  CHECK(lwsec_conn_new_client(ccfg, now, &client));
  CHECK(lwsec_conn_new_server(scfg, now, &server));
  /* ClientHello (possibly refused, then a full one), ServerHello, key
   * confirmation, ticket: a few rounds. */
  for (int round = 0; round < 4; round++) {
    pump(client, server, now);
    lwsec_handshake_state state;
    CHECK(lwsec_conn_handshake_state(server, &state));
    if (state == LWSEC_STATE_AWAITING_DECISION) {
      lwsec_client_hello_info info;
      CHECK(lwsec_conn_client_hello(server, &info));
      EXPECT(info.pattern == LWSEC_PATTERN_IK && info.has_client_key);
      if (info.resumed) {
        /* The ticket carries the identity given at the full handshake;
         * accepting without one keeps it. */
        uint8_t id[256];
        size_t n = 0;
        EXPECT(info.resumption_has_identity && info.resumption_identity_len == IDENTITY_LEN);
        EXPECT(info.resumption_authenticated_at_ms == full_at);
        CHECK(lwsec_conn_client_hello_ticket_identity(server, id, sizeof id, &n));
        EXPECT(n == IDENTITY_LEN && memcmp(id, IDENTITY, n) == 0);
        CHECK(lwsec_conn_accept_client(server, NULL, 0, false, now));
      } else {
        CHECK(lwsec_conn_accept_client(server, IDENTITY, IDENTITY_LEN, false, now));
      }
    }
    pump(server, client, now);
  }
  for (;;) {
    lwsec_event event;
    CHECK(lwsec_conn_poll_event(client, &event));
    if (event == LWSEC_EVENT_NONE) {
      break;
    }
    if (event == LWSEC_EVENT_RESUMPTION_TICKET) {
      /* Too small a buffer: an error, and the ticket is kept. */
      size_t n = 12345;
      EXPECT(lwsec_conn_take_ticket(client, ticket, 8, &n) == LWSEC_BUFFER_TOO_SMALL);
      EXPECT(n == 12345);
      CHECK(lwsec_conn_take_ticket(client, ticket, LWSEC_RESUMPTION_TICKET_MAX_LEN, ticket_len));
      EXPECT(lwsec_conn_take_ticket(client, ticket, LWSEC_RESUMPTION_TICKET_MAX_LEN, &n) ==
             LWSEC_NOT_AVAILABLE);
      result.got_ticket = true;
    }
  }
  bool client_resumed = false, server_resumed = true;
  CHECK(lwsec_conn_is_resumed(client, &client_resumed));
  CHECK(lwsec_conn_is_resumed(server, &server_resumed));
  EXPECT(client_resumed == server_resumed);
  result.resumed = client_resumed;

  /* The server knows who it talks to, resumed or not. */
  uint8_t id[256];
  size_t n = 0;
  CHECK(lwsec_conn_peer_identity(server, id, sizeof id, &n));
  EXPECT(n == IDENTITY_LEN && memcmp(id, IDENTITY, n) == 0);
  static const uint8_t hello[] = "hello";
  uint8_t got[16];
  CHECK(lwsec_conn_send_message(client, hello, sizeof hello));
  pump(client, server, now);
  CHECK(lwsec_conn_recv_message(server, got, sizeof got, &n));
  EXPECT(n == sizeof hello && memcmp(got, hello, n) == 0);
  lwsec_conn_free(client);
  lwsec_conn_free(server);
  return result;
}

int main(void) {
  lwsec_key_pair *server_key = NULL, *device_key = NULL;
  CHECK(lwsec_key_pair_generate(&server_key));
  CHECK(lwsec_key_pair_generate(&device_key));
  uint8_t server_public[LWSEC_KEY_LEN];
  size_t n = 0;
  CHECK(lwsec_key_pair_public_key(server_key, server_public, sizeof server_public, &n));

  /* The fleet's ticket secret (in real life: from a secret store). */
  uint8_t secret[LWSEC_TICKET_SECRET_LEN];
  memset(secret, 0x41, sizeof secret);
  lwsec_ticket_keyring *ring = NULL;
  CHECK(lwsec_ticket_keyring_new(secret, sizeof secret, NULL, 0, &ring));
  lwsec_server_config *scfg = NULL;
  CHECK(lwsec_server_config_new(server_key, &scfg));
  CHECK(lwsec_server_config_enable_resumption(scfg, ring));
  CHECK(lwsec_server_config_set_ticket_lifetime(scfg, 3600));

  lwsec_client_config *ccfg = NULL;
  CHECK(lwsec_client_config_new_ik(server_public, sizeof server_public, device_key, &ccfg));

  uint8_t ticket[LWSEC_RESUMPTION_TICKET_MAX_LEN];
  size_t ticket_len = 0;

  /* 1. A full handshake brings a ticket. */
  struct outcome o = connect_once(ccfg, scfg, T0, 0, ticket, &ticket_len);
  EXPECT(!o.resumed && o.got_ticket);

  /* 2. The ticket resumes the next connection, which brings a new one. The
   * configuration copies the secret bytes: wipe ours. */
  CHECK(lwsec_client_config_set_ticket(ccfg, ticket, ticket_len));
  memset(ticket, 0, sizeof ticket);
  o = connect_once(ccfg, scfg, T0 + 60000, T0, ticket, &ticket_len);
  EXPECT(o.resumed && o.got_ticket);

  /* The ticket was for that connection only: the next one is full. */
  o = connect_once(ccfg, scfg, T0 + 61000, 0, ticket, &ticket_len);
  EXPECT(!o.resumed && o.got_ticket);

  /* 3. Live rotation: the ticket was sealed with the old secret, which
   * the keyring keeps as a previous one. */
  memset(secret, 0x42, sizeof secret);
  CHECK(lwsec_ticket_keyring_rotate(ring, secret, sizeof secret));
  CHECK(lwsec_client_config_set_ticket(ccfg, ticket, ticket_len));
  o = connect_once(ccfg, scfg, T0 + 62000, T0 + 61000, ticket, &ticket_len);
  EXPECT(o.resumed && o.got_ticket);

  /* 4. A server whose keyring lacks the ticket's key: a full handshake on
   * the same connection. */
  memset(secret, 0x43, sizeof secret);
  lwsec_ticket_keyring *other_ring = NULL;
  CHECK(lwsec_ticket_keyring_new(secret, sizeof secret, NULL, 0, &other_ring));
  lwsec_server_config *other = NULL;
  CHECK(lwsec_server_config_new(server_key, &other));
  CHECK(lwsec_server_config_enable_resumption(other, other_ring));
  lwsec_ticket_keyring_free(other_ring); /* the configuration keeps its own reference */
  CHECK(lwsec_client_config_set_ticket(ccfg, ticket, ticket_len));
  o = connect_once(ccfg, other, T0 + 63000, 0, ticket, &ticket_len);
  EXPECT(!o.resumed && o.got_ticket);
  memset(ticket, 0, sizeof ticket);

  /* Junk is not a ticket. */
  EXPECT(lwsec_client_config_set_ticket(ccfg, (const uint8_t *)"junk", 4) ==
         LWSEC_INVALID_PARAMETER);

  lwsec_client_config_free(ccfg);
  lwsec_server_config_free(scfg);
  lwsec_server_config_free(other);
  lwsec_ticket_keyring_free(ring);
  lwsec_key_pair_free(server_key);
  lwsec_key_pair_free(device_key);
  printf("c_resumption: OK: 5 connections, 2 resumed, 1 fallback\n");
  return 0;
}
