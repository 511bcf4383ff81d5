//! Seed inputs for the fuzz targets, built from real handshakes and records.

use std::sync::Arc;

use lwsec::{Connection, Padding, Pattern, ServerConfig, Suite};

use crate::common::{self, NOW};

/// One seed file: name and contents.
pub type Seed = (String, Vec<u8>);

/// All seeds, by target.
pub fn all() -> Vec<(&'static str, Vec<Seed>)> {
    vec![
        ("server_handshake", server_handshake()),
        ("client_response", client_response()),
        ("established_records", established_records()),
        ("message_reassembly", message_reassembly()),
        ("wire_parsers", wire_parsers()),
        ("honest_peers", honest_peers()),
    ]
}

/// A deterministic byte string for unstructured seeds.
fn noise_bytes(seed: usize, len: usize) -> Vec<u8> {
    let mut x = (seed as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// Runs a handshake with the targets' fixed configs; returns the client's
/// and the server's bytes (handshake then the honest stream of each).
fn transcript(pattern: Pattern, suites: &[Suite], server_suites: &[Suite]) -> (Vec<u8>, Vec<u8>) {
    let mut server_cfg = (*common::server_config(b"fuzz")).clone();
    server_cfg.suites = server_suites.to_vec();
    let server_cfg: Arc<ServerConfig> = Arc::new(server_cfg);
    let mut client =
        Connection::client(common::client_config(pattern, suites, b"fuzz"), NOW).unwrap();
    let mut server = Connection::server(server_cfg, NOW).unwrap();
    let (mut c_bytes, mut s_bytes) = (Vec::new(), Vec::new());
    while client.is_handshaking() || server.is_handshaking() {
        let out = client.pending_output().to_vec();
        c_bytes.extend_from_slice(&out);
        client.consume_output(out.len());
        server.handle_input(&out, NOW).unwrap();
        common::decide(&mut server).unwrap();
        let out = server.pending_output().to_vec();
        s_bytes.extend_from_slice(&out);
        server.consume_output(out.len());
        client.handle_input(&out, NOW).unwrap();
    }
    c_bytes.extend(common::honest_stream(&mut client));
    s_bytes.extend(common::honest_stream(&mut server));
    client.close().unwrap();
    server.close().unwrap();
    c_bytes.extend_from_slice(client.pending_output());
    s_bytes.extend_from_slice(server.pending_output());
    (c_bytes, s_bytes)
}

fn with_control(control: u8, bytes: &[u8]) -> Vec<u8> {
    let mut v = vec![control];
    v.extend_from_slice(bytes);
    v
}

const AES_FIRST: [Suite; 2] = [Suite::Aes256Gcm, Suite::ChaCha20Poly1305];
const CHACHA_FIRST: [Suite; 2] = [Suite::ChaCha20Poly1305, Suite::Aes256Gcm];

fn server_handshake() -> Vec<Seed> {
    let mut seeds = Vec::new();
    for (p, pattern) in [Pattern::Nk, Pattern::Ik].into_iter().enumerate() {
        for (s, suites) in [AES_FIRST, CHACHA_FIRST].iter().enumerate() {
            let (c, _) = transcript(pattern, suites, &Suite::ALL);
            let hello_len = 3 + usize::from(u16::from_be_bytes([c[1], c[2]]));
            seeds.push((format!("full-{p}{s}"), with_control(255, &c)));
            seeds.push((format!("hello-{p}{s}"), with_control(0, &c[..hello_len])));
            seeds.push((
                format!("hello-bytewise-{p}{s}"),
                with_control(0, &c[..hello_len + 40]),
            ));
            seeds.push((
                format!("truncated-{p}{s}"),
                with_control(7, &c[..hello_len - 5]),
            ));
        }
    }
    seeds.push(("alert".into(), vec![0, 0x15, 0, 1, 40]));
    seeds.push(("empty-hello".into(), vec![0, 0x01, 0, 0]));
    seeds
}

fn client_response() -> Vec<Seed> {
    let mut seeds = Vec::new();
    for (p, pattern) in [Pattern::Nk, Pattern::Ik].into_iter().enumerate() {
        for (s, suites) in [AES_FIRST, CHACHA_FIRST].iter().enumerate() {
            let control = (p as u8) | ((s as u8) << 1);
            let (_, srv) = transcript(pattern, suites, &Suite::ALL);
            let hello_len = 3 + usize::from(u16::from_be_bytes([srv[1], srv[2]]));
            seeds.push((format!("full-{p}{s}"), with_control(control | 0xfc, &srv)));
            seeds.push((
                format!("hello-{p}{s}"),
                with_control(control, &srv[..hello_len]),
            ));
            // A server that only accepts the client's second suite sends a Retry first.
            let only = [suites[1]];
            let (_, retry) = transcript(pattern, suites, &only);
            seeds.push((
                format!("retry-{p}{s}"),
                with_control(control | 0x40, &retry[..3000]),
            ));
        }
    }
    seeds.push(("alert".into(), vec![0, 0x15, 0, 1, 90]));
    seeds.push(("retry-body".into(), vec![0, 0x03, 0, 4, 2, 2, 7, 7]));
    seeds
}

fn established_records() -> Vec<Seed> {
    let mut seeds = Vec::new();
    for suite_bit in [0u8, 1] {
        for side_bit in [0u8, 2] {
            for (k, padding) in [
                Padding::None,
                Padding::MultipleOf(64),
                Padding::Buckets(vec![32, 256, 4096]),
            ]
            .into_iter()
            .enumerate()
            {
                let (client, server) =
                    common::split_pair(common::suite_from(suite_bit == 1), padding);
                // Side bit 0: the server receives the client's stream.
                let mut sender = if side_bit == 0 { client } else { server };
                let mut stream = common::honest_stream(&mut sender);
                sender.close().unwrap();
                stream.extend_from_slice(sender.pending_output());
                let control = suite_bit | side_bit | ((k as u8) << 2);
                if k == 0 {
                    seeds.push((
                        format!("stream-{suite_bit}{side_bit}"),
                        with_control(control, &stream),
                    ));
                }
                seeds.push((
                    format!("first-records-{suite_bit}{side_bit}{k}"),
                    with_control(control, &stream[..1500]),
                ));
            }
        }
    }
    seeds.push(("huge-length".into(), vec![0, 0x17, 0xff, 0xff]));
    seeds.push(("max-record-header".into(), vec![0, 0x17, 0x40, 0x11]));
    seeds
}

fn message_reassembly() -> Vec<Seed> {
    (0..16)
        .map(|i| (format!("random-{i:02}"), noise_bytes(i, 16 + i * 24)))
        .collect()
}

fn wire_parsers() -> Vec<Seed> {
    let key = common::server_key();
    let mut seeds = vec![
        (
            "public-key".to_string(),
            with_control(0, key.public_key().to_text().as_bytes()),
        ),
        (
            "secret-key".to_string(),
            with_control(0, key.to_text().as_bytes()),
        ),
        (
            "key-comment".to_string(),
            with_control(
                0,
                format!("# key\n{}\n", key.public_key().to_text()).as_bytes(),
            ),
        ),
        (
            "frames".to_string(),
            vec![2, 0x17, 3, 1, 2, 3, 0x15, 1, 0, 0x01, 2, b'l', b'w'],
        ),
        ("ext-empty".to_string(), vec![3]),
        (
            "ext-two".to_string(),
            vec![3, 0, 1, 0, 2, 7, 7, 0x12, 0x35, 0, 0],
        ),
        ("ext-critical".to_string(), vec![3, 0x80, 1, 0, 0]),
        ("ext-unordered".to_string(), vec![3, 0, 5, 0, 0, 0, 5, 0, 0]),
        ("retry".to_string(), vec![4, 3, 2, 2, 1, 9]),
    ];
    let (c, _) = transcript(Pattern::Ik, &AES_FIRST, &Suite::ALL);
    let hello_len = 3 + usize::from(u16::from_be_bytes([c[1], c[2]]));
    seeds.push((
        "client-hello-body".to_string(),
        with_control(1, &c[3..hello_len]),
    ));
    seeds
}

fn honest_peers() -> Vec<Seed> {
    (0..24)
        .map(|i| (format!("random-{i:02}"), noise_bytes(1000 + i, 32 + i * 40)))
        .collect()
}
