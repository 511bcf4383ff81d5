//! The `tracing` feature: a capturing subscriber watches real TCP
//! connections through the tokio adapter and checks the spans and events
//! they produce, and that none carries a secret key or a payload.
#![cfg(all(feature = "tracing", feature = "tokio"))]

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use lwsec::{AlertCode, ClientConfig, PublicKey, ServerConfig, StaticKeyPair, Suite};
use tokio::net::{TcpListener, TcpStream};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

/// Fields by name, values as text (`Display` values as displayed).
type Fields = HashMap<String, String>;

struct Visitor<'a>(&'a mut Fields);

impl Visit for Visitor<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
}

#[derive(Default)]
struct Inner {
    next_id: AtomicU64,
    /// Span id -> (name, fields).
    spans: Mutex<HashMap<u64, (String, Fields)>>,
    /// Entered spans (the runtime is single-threaded).
    stack: Mutex<Vec<u64>>,
    /// Each event: its own fields, and its span's id.
    events: Mutex<Vec<(Fields, Option<u64>)>>,
}

/// A subscriber that keeps everything.
#[derive(Clone, Default)]
struct Capture(Arc<Inner>);

impl Subscriber for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }

    fn new_span(&self, attrs: &Attributes<'_>) -> Id {
        let id = self.0.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        let mut fields = Fields::new();
        attrs.record(&mut Visitor(&mut fields));
        self.0
            .spans
            .lock()
            .unwrap()
            .insert(id, (attrs.metadata().name().to_owned(), fields));
        Id::from_u64(id)
    }

    fn record(&self, span: &Id, values: &Record<'_>) {
        if let Some((_, fields)) = self.0.spans.lock().unwrap().get_mut(&span.into_u64()) {
            values.record(&mut Visitor(fields));
        }
    }

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut fields = Fields::new();
        event.record(&mut Visitor(&mut fields));
        let parent = match event.parent() {
            Some(id) => Some(id.into_u64()),
            None if event.is_contextual() => self.0.stack.lock().unwrap().last().copied(),
            None => None,
        };
        self.0.events.lock().unwrap().push((fields, parent));
    }

    fn enter(&self, span: &Id) {
        self.0.stack.lock().unwrap().push(span.into_u64());
    }

    fn exit(&self, span: &Id) {
        let mut stack = self.0.stack.lock().unwrap();
        if let Some(at) = stack.iter().rposition(|s| *s == span.into_u64()) {
            stack.remove(at);
        }
    }
}

/// One captured event with its connection span's fields.
#[derive(Debug)]
struct Seen {
    message: String,
    fields: Fields,
    span: Fields,
}

impl Capture {
    fn seen(&self) -> Vec<Seen> {
        let spans = self.0.spans.lock().unwrap();
        self.0
            .events
            .lock()
            .unwrap()
            .iter()
            .map(|(fields, parent)| Seen {
                message: fields.get("message").cloned().unwrap_or_default(),
                fields: fields.clone(),
                span: parent
                    .and_then(|p| spans.get(&p))
                    .filter(|(name, _)| name == "lwsec_connection")
                    .map(|(_, f)| f.clone())
                    .unwrap_or_default(),
            })
            .collect()
    }

    /// Every text any span or event carries.
    fn all_values(&self) -> Vec<String> {
        let spans = self.0.spans.lock().unwrap();
        let events = self.0.events.lock().unwrap();
        spans
            .values()
            .flat_map(|(_, f)| f.values().cloned())
            .chain(events.iter().flat_map(|(f, _)| f.values().cloned()))
            .collect()
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn find<'a>(seen: &'a [Seen], message: &str, side: &str) -> Vec<&'a Seen> {
    seen.iter()
        .filter(|s| s.message == message && s.span.get("side").map(String::as_str) == Some(side))
        .collect()
}

const PAYLOAD: &[u8] = b"payload-do-not-log-4f1c";

#[tokio::test]
async fn connections_report_spans_and_events_without_secrets() {
    let capture = Capture::default();
    let _default = tracing::subscriber::set_default(capture.clone());

    let server_key = StaticKeyPair::from_private_bytes([7; 32]);
    let secret_hex = hex(&*server_key.private_bytes());
    let server_key_id = hex(&server_key.public_key().key_id());
    let mut client_cfg = ClientConfig::nk(server_key.public_key());
    client_cfg.suites = vec![Suite::Aes256Gcm];
    let acceptor = lwsec::tokio::Acceptor::new(Arc::new(ServerConfig::new(server_key)));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();

    // One connection: handshake, a key update, a message echoed, closes.
    let server = {
        let acceptor = acceptor.clone();
        async move {
            let (tcp, peer) = listener.accept().await.unwrap();
            let mut stream = acceptor.accept(tcp, peer).await.unwrap();
            let message = stream.recv_message().await.unwrap().unwrap();
            stream.send_message(&message).await.unwrap();
            assert!(stream.recv_message().await.unwrap().is_none());
            stream.close().await.unwrap();
            // A second client pins a key this server does not hold.
            let (tcp, peer) = listener.accept().await.unwrap();
            let err = acceptor.accept(tcp, peer).await.unwrap_err();
            assert!(err.to_string().contains("key"), "{err}");
        }
    };
    let client = async {
        let tcp = TcpStream::connect(addr).await.unwrap();
        let client_addr = tcp.local_addr().unwrap();
        let mut stream = lwsec::tokio::connect(Arc::new(client_cfg), tcp)
            .await
            .unwrap();
        stream.conn_mut().update_keys(false).unwrap();
        stream.send_message(PAYLOAD).await.unwrap();
        assert_eq!(stream.recv_message().await.unwrap().unwrap(), PAYLOAD);
        stream.close().await.unwrap();
        assert!(stream.recv_message().await.unwrap().is_none());

        let stale = ClientConfig::nk(PublicKey::from_bytes([9; 32]));
        let tcp = TcpStream::connect(addr).await.unwrap();
        let err = lwsec::tokio::connect(Arc::new(stale), tcp)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::ConnectionAborted, "{err}");
        client_addr
    };
    let ((), client_addr) = tokio::join!(server, client);

    let seen = capture.seen();
    let dump = || format!("{seen:#?}");

    // Handshake completed, on both sides, with pattern, suite, key id.
    for side in ["server", "client"] {
        let done = find(&seen, "lwsec handshake completed", side);
        assert_eq!(done.len(), 1, "{side}: {}", dump());
        let done = done[0];
        assert_eq!(done.fields["pattern"], "NK", "{}", dump());
        assert_eq!(done.fields["suite"], "AES-256-GCM", "{}", dump());
        assert_eq!(done.fields["key_id"], server_key_id, "{}", dump());
        assert!(done.fields.contains_key("duration_ms"), "{}", dump());
        assert_eq!(done.span["pattern"], "NK", "{}", dump());
        assert_eq!(done.span["suite"], "AES-256-GCM", "{}", dump());
        assert_eq!(done.span["key_id"], server_key_id, "{}", dump());
    }
    let server_done = find(&seen, "lwsec handshake completed", "server")[0];
    assert_eq!(
        server_done.span["peer"],
        client_addr.to_string(),
        "{}",
        dump()
    );

    // The key update, the local close and the peer's close.
    assert_eq!(
        find(&seen, "lwsec key update received", "server").len(),
        1,
        "{}",
        dump()
    );
    for side in ["server", "client"] {
        let closing = find(&seen, "lwsec connection closing", side);
        assert_eq!(closing.len(), 1, "{side}: {}", dump());
        assert_eq!(closing[0].fields["reason"], "close_notify");
        let closed = find(&seen, "lwsec connection closed", side);
        assert_eq!(closed.len(), 1, "{side}: {}", dump());
        assert_eq!(closed[0].fields["reason"], "close_notify");
        assert_eq!(closed[0].fields["by"], "peer");
    }

    // The failed handshake: the server sent unknown_server_key, the client
    // received it in the clear.
    let code = AlertCode::UnknownServerKey;
    let failed = find(&seen, "lwsec handshake failed", "server");
    assert_eq!(failed.len(), 1, "{}", dump());
    assert_eq!(failed[0].fields["alert_code"], code.to_u8().to_string());
    assert_eq!(failed[0].fields["alert"], code.to_string());
    assert_eq!(failed[0].fields["alert_received"], "false");
    let failed = find(&seen, "lwsec handshake failed", "client");
    assert_eq!(failed.len(), 1, "{}", dump());
    assert_eq!(failed[0].fields["alert_code"], code.to_u8().to_string());
    assert_eq!(failed[0].fields["alert_received"], "true");
    assert_eq!(failed[0].fields["authenticated"], "false");
    assert!(failed[0].fields.contains_key("error"));

    // Never a secret, never a payload.
    let payload_text = String::from_utf8_lossy(PAYLOAD).into_owned();
    let payload_hex = hex(PAYLOAD);
    for value in capture.all_values() {
        let lower = value.to_lowercase();
        assert!(!lower.contains(&secret_hex), "secret key in {value:?}");
        assert!(!value.contains(&payload_text), "payload in {value:?}");
        assert!(!lower.contains(&payload_hex), "payload in {value:?}");
        assert!(
            !value.contains(&format!("{:?}", PAYLOAD)),
            "payload in {value:?}"
        );
    }
}

/// The blocking adapter reports the same spans and events (here IK, so the
/// server also names the client's key id).
#[test]
fn blocking_connections_report_spans_and_events() {
    use std::net::{TcpListener, TcpStream};

    let capture = Capture::default();
    let server_key = StaticKeyPair::from_private_bytes([8; 32]);
    let device = StaticKeyPair::from_private_bytes([3; 32]);
    let secrets = [
        hex(&*server_key.private_bytes()),
        hex(&*device.private_bytes()),
    ];
    let server_key_id = hex(&server_key.public_key().key_id());
    let device_key_id = hex(&device.public_key().key_id());
    let mut client_cfg = ClientConfig::ik(server_key.public_key(), device);
    client_cfg.suites = vec![Suite::ChaCha20Poly1305];
    let acceptor = lwsec::blocking::Acceptor::new(Arc::new(ServerConfig::new(server_key)));
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = {
        let capture = capture.clone();
        std::thread::spawn(move || {
            tracing::subscriber::with_default(capture, || {
                let (tcp, peer) = listener.accept().unwrap();
                let mut stream = acceptor.accept(tcp, peer).unwrap();
                let message = stream.recv_message().unwrap().unwrap();
                stream.send_message(&message).unwrap();
                assert!(stream.recv_message().unwrap().is_none());
                stream.close().unwrap();
            })
        })
    };
    tracing::subscriber::with_default(capture.clone(), || {
        let tcp = TcpStream::connect(addr).unwrap();
        let mut stream = lwsec::blocking::connect(Arc::new(client_cfg), tcp).unwrap();
        stream.send_message(PAYLOAD).unwrap();
        assert_eq!(&stream.recv_message().unwrap().unwrap()[..], PAYLOAD);
        stream.close().unwrap();
        assert!(stream.recv_message().unwrap().is_none());
    });
    server.join().unwrap();

    let seen = capture.seen();
    let dump = || format!("{seen:#?}");
    for side in ["server", "client"] {
        let done = find(&seen, "lwsec handshake completed", side);
        assert_eq!(done.len(), 1, "{side}: {}", dump());
        assert_eq!(done[0].fields["pattern"], "IK", "{}", dump());
        assert_eq!(done[0].fields["suite"], "ChaCha20-Poly1305", "{}", dump());
        assert_eq!(done[0].fields["key_id"], server_key_id, "{}", dump());
        assert_eq!(find(&seen, "lwsec connection closing", side).len(), 1);
        let closed = find(&seen, "lwsec connection closed", side);
        assert_eq!(closed.len(), 1, "{side}: {}", dump());
        assert_eq!(closed[0].fields["reason"], "close_notify");
    }
    let done = find(&seen, "lwsec handshake completed", "server")[0];
    assert_eq!(done.fields["client_key_id"], device_key_id, "{}", dump());
    assert_eq!(done.span["client_key_id"], device_key_id, "{}", dump());

    let payload_text = String::from_utf8_lossy(PAYLOAD).into_owned();
    for value in capture.all_values() {
        let lower = value.to_lowercase();
        for secret in &secrets {
            assert!(!lower.contains(secret.as_str()), "secret key in {value:?}");
        }
        assert!(!value.contains(&payload_text), "payload in {value:?}");
        assert!(!lower.contains(&hex(PAYLOAD)), "payload in {value:?}");
    }
}
