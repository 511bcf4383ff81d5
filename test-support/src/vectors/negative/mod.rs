//! `negative.json`: invalid inputs, the side that receives each, and the
//! error and alert it must fail with. The cases are built on the other
//! five files' vectors (a case's `base`); each `*_cases` module adds one
//! group, [`tamper`] holds the edits they are made with.

use lwsec::{AlertCode, Connection, Rejection, Time};

use super::FIXED_TIME;
use super::connections::{decide, strike_register, take_output};
use super::early_data::{early_data_client, early_data_server};
use super::encoding::{error_name, hx, unhex};
use super::frames::split_frames;
use super::handshake::{handshake_client, handshake_server};
use super::model::{NegativeCase, NegativeFile, VectorFiles};
use super::records::stream_connections;
use super::resumption::{second_client, second_server};
use super::retry::{retry_client, retry_server};

mod early_data_and_cookie_cases;
mod handshake_cases;
mod record_cases;
mod resumption_cases;
mod tamper;
mod two_rule_cases;

/// The entry of `items` named `name`.
pub(super) fn find<'a, T>(items: &'a [T], name: &str, get: impl Fn(&T) -> &str) -> &'a T {
    items
        .iter()
        .find(|v| get(v) == name)
        .unwrap_or_else(|| panic!("no vector named {name}"))
}

/// Builds the receiver of a negative case from its base vector. A client
/// receiver has already sent its (first) ClientHello, which is checked.
fn negative_receiver(
    files: &VectorFiles,
    base: &str,
    receiver: &str,
    peer_address: Option<&str>,
) -> Connection {
    let (file, name) = base.split_once('#').unwrap();
    assert!(
        peer_address.is_none() || (file, receiver) == ("retry.json", "server"),
        "a peer address applies to retry.json servers only"
    );
    match (file, receiver) {
        // `server-rejecting` rejects every client at the decision
        // (compute_negative).
        ("handshake.json", "server" | "server-rejecting") => {
            handshake_server(find(&files.handshake.vectors, name, |v| &v.name))
        }
        ("handshake.json", "client") => {
            let v = find(&files.handshake.vectors, name, |v| &v.name);
            let mut client = handshake_client(v);
            assert_eq!(hx(&take_output(&mut client)), v.client_hello);
            client
        }
        ("retry.json", "server") => {
            let v = find(&files.retry.vectors, name, |v| &v.name);
            retry_server(v, peer_address)
        }
        ("retry.json", "client") => {
            let v = find(&files.retry.vectors, name, |v| &v.name);
            let mut client = retry_client(v);
            assert_eq!(hx(&take_output(&mut client)), v.client_hello_1);
            client
        }
        ("early_data.json", "server") => {
            let v = find(&files.early_data.vectors, name, |v| &v.name);
            early_data_server(v, &v.server_ephemeral_private)
        }
        ("early_data.json", "client") => {
            let v = find(&files.early_data.vectors, name, |v| &v.name);
            let mut client = early_data_client(v);
            assert_eq!(hx(&take_output(&mut client)), v.client_hello);
            client
        }
        ("resumption.json", "server") => {
            second_server(find(&files.resumption.vectors, name, |v| &v.name))
        }
        ("resumption.json", "client") => {
            second_client(find(&files.resumption.vectors, name, |v| &v.name))
        }
        ("records.json", "server") => {
            let s = find(&files.records.streams, name, |s| &s.name);
            stream_connections(s).1
        }
        other => panic!("unsupported base/receiver {other:?}"),
    }
}

/// Runs a negative case (its base, receiver and input) and fills in the
/// error, the alert and the receiver's output.
pub fn compute_negative(files: &VectorFiles, c: &NegativeCase) -> NegativeCase {
    let mut conn = negative_receiver(
        files,
        &c.base,
        &c.receiver,
        c.receiver_peer_address.as_deref(),
    );
    let now = c.receiver_time.map_or(FIXED_TIME, Time::from_millis);
    let input = unhex(&c.input);
    let mut rest = &input[..];
    // A server receiver decides on a client whose first flight it read:
    // `server-rejecting` refuses it, others let it in (a fresh guard
    // judges any early data), then the rest of the input is fed.
    let err = loop {
        match conn.handle_input(rest, now) {
            Err(e) => break e,
            Ok(n) => rest = &rest[n..],
        }
        if conn.client_hello().is_none() {
            panic!("{}: input accepted ({} bytes left)", c.name, rest.len());
        }
        if c.receiver == "server-rejecting" {
            break conn.reject_client(Rejection::NotAuthorized);
        }
        decide(&mut conn, Some(&strike_register()), now);
    };
    assert_eq!(conn.error(), Some(&err));
    let output = take_output(&mut conn);
    let alert = split_frames(&output).last().and_then(|_| err.alert());
    let mut out = c.clone();
    out.error = error_name(&err);
    out.alert = alert.map(AlertCode::to_u8);
    out.alert_name = alert.map(|a| a.to_string().split(' ').next().unwrap().to_string());
    out.output = hx(&output);
    out
}

/// The negative cases collected so far, their outputs not computed.
pub(super) struct Cases {
    cases: Vec<NegativeCase>,
}

impl Cases {
    /// Adds the case `input` to `receiver` set up by `base`.
    pub(super) fn add(
        &mut self,
        base: &str,
        receiver: &str,
        place: &str,
        description: &str,
        input: Vec<u8>,
    ) {
        let short = base.split_once('#').unwrap().1;
        self.cases.push(NegativeCase {
            name: format!("{short}/{place}"),
            place: place.to_string(),
            description: description.to_string(),
            base: base.to_string(),
            receiver: receiver.to_string(),
            input: hx(&input),
            ..NegativeCase::default()
        });
    }

    /// The case added last, to set its receiver options.
    pub(super) fn last(&mut self) -> &mut NegativeCase {
        self.cases.last_mut().unwrap()
    }
}

/// `negative.json`, from the other five files.
pub(super) fn generate(files: &VectorFiles) -> NegativeFile {
    let mut cases = Cases { cases: Vec::new() };
    handshake_cases::add(files, &mut cases);
    two_rule_cases::add(files, &mut cases);
    early_data_and_cookie_cases::add(files, &mut cases);
    record_cases::add(files, &mut cases);
    resumption_cases::add(files, &mut cases);
    NegativeFile {
        description: "lwsec v1 negative cases: tampered or invalid input, the side that \
                      receives it, the error it must fail with and the alert it sends. See \
                      spec/VECTORS.md."
            .to_string(),
        cases: cases
            .cases
            .iter()
            .map(|c| compute_negative(files, c))
            .collect(),
    }
}
