//! The whole life of an lwsec connection, driven by hand: no sockets, no
//! threads, no clock. Bytes move between a client and a server through two
//! `Vec<u8>` "wires", so every step is visible.
//!
//! Run: `cargo run --example sans_io`

use std::sync::Arc;

use lwsec::rng::OsRandom;
use lwsec::{ClientConfig, Connection, ServerConfig, StaticKeyPair, Time};

/// Moves everything `from` wants to send into `to`, and says how much moved.
fn deliver(label: &str, from: &mut Connection, to: &mut Connection, now: Time) -> usize {
    let bytes = from.pending_output().to_vec();
    let mut offset = 0;
    while offset < bytes.len() {
        match to.handle_input(&bytes[offset..], now) {
            Ok(0) => break,
            Ok(n) => offset += n,
            Err(e) => {
                println!("  {label}: receiver failed: {e}");
                break;
            }
        }
    }
    from.consume_output(offset);
    if offset > 0 {
        println!("  {label}: {offset} bytes");
    }
    offset
}

fn events(name: &str, conn: &mut Connection) {
    while let Some(event) = conn.poll_event() {
        println!("  {name} event: {event:?}");
    }
}

fn main() -> Result<(), lwsec::Error> {
    // Keys: the server's static key is pinned by the client; the client has a
    // device key (IK pattern: both sides authenticated).
    let server_key = StaticKeyPair::generate(&OsRandom)?;
    let device_key = StaticKeyPair::generate(&OsRandom)?;
    println!("server key {}", server_key.public_key().to_text());
    println!("device key {}", device_key.public_key().to_text());

    let server_config = ServerConfig::new(server_key.clone());
    let device = device_key.public_key();
    let client_config = ClientConfig::ik(server_key.public_key(), device_key);

    let mut now = Time::from_millis(0);
    let mut client = Connection::client(Arc::new(client_config), now)?;
    let mut server = Connection::server(Arc::new(server_config), now)?;

    println!("\n1. handshake (one round trip)");
    deliver(
        "client -> server ClientHello",
        &mut client,
        &mut server,
        now,
    );
    events("server", &mut server);
    // The decision point: nothing the first flight says is proven yet (it
    // could be a replay), but it names the device; the application decides.
    let hello = server
        .client_hello()
        .expect("the server waits for a decision");
    println!(
        "  server: client claims device key {:?}",
        hello.claimed_client_key().map(|k| k.to_text())
    );
    if hello.claimed_client_key() == Some(device) {
        let identity = lwsec::Identity::new(&b"device-1"[..])?;
        server.accept_client(lwsec::Acceptance::new().with_identity(identity), now)?;
    } else {
        return Err(server.reject_client(lwsec::Rejection::NotAuthorized));
    }
    deliver(
        "server -> client ServerHello",
        &mut server,
        &mut client,
        now,
    );
    events("client", &mut client);
    deliver(
        "client -> server key confirmation",
        &mut client,
        &mut server,
        now,
    );
    events("server", &mut server);
    println!(
        "  suite {:?}, pattern {:?}, server sees client key {:?} as {:?}",
        client.suite(),
        client.pattern(),
        server.peer_static_key().map(|k| k.to_text()),
        server.peer_identity()
    );
    assert_eq!(client.handshake_hash(), server.handshake_hash());

    println!("\n2. a message each way");
    client.send_message(b"hello from the client")?;
    deliver("client -> server record", &mut client, &mut server, now);
    let got = server.recv_message().unwrap_or_default();
    println!("  server got {:?}", String::from_utf8_lossy(&got));
    let big = vec![42u8; 50_000];
    server.send_message(&big)?;
    deliver("server -> client 4 records", &mut server, &mut client, now);
    let got = client.recv_message().unwrap_or_default();
    println!(
        "  client got a {}-byte message, intact: {}",
        got.len(),
        got[..] == big[..]
    );

    println!("\n3. key update (client asks the server to update too)");
    let before = client.dangerous_peek_secrets().map(|s| s.send.secret);
    client.update_keys(true)?;
    client.send_message(b"under new keys")?;
    deliver(
        "client -> server key_update + record",
        &mut client,
        &mut server,
        now,
    );
    deliver("server -> client key_update", &mut server, &mut client, now);
    events("server", &mut server);
    events("client", &mut client);
    let after = client.dangerous_peek_secrets().map(|s| s.send.secret);
    println!("  client sending secret changed: {}", before != after);
    println!(
        "  server got {:?}",
        server
            .recv_message()
            .map(|m| String::from_utf8_lossy(&m).into_owned())
    );

    println!("\n4. keep-alive ping");
    now = Time::from_millis(5_000);
    client.ping(b"ping")?;
    deliver("client -> server ping", &mut client, &mut server, now);
    deliver("server -> client pong", &mut server, &mut client, now);
    events("client", &mut client);

    println!("\n5. graceful close");
    client.close()?;
    deliver(
        "client -> server close_notify",
        &mut client,
        &mut server,
        now,
    );
    events("server", &mut server);
    server.close()?;
    deliver(
        "server -> client close_notify",
        &mut server,
        &mut client,
        now,
    );
    events("client", &mut client);
    println!(
        "  end of stream: client {:?}, server {:?}",
        client.handle_eof(),
        server.handle_eof()
    );
    Ok(())
}
