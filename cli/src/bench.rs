//! `lwsec bench`: the cipher suites, crypto providers and handshakes
//! measured on this machine, like `openssl speed`.
//!
//! Records: one message at a time through an established client/server
//! `Connection` pair in memory (the client seals, the server opens), for
//! each provider, suite and message size. Handshakes: full NK and IK
//! handshakes in memory, timing both sides together and the server's calls
//! alone. Wall-clock time (`Instant`), one thread.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Args, ValueEnum};
use lwsec::crypto::CryptoProvider;
use lwsec::rng::OsRandom;
use lwsec::{
    Acceptance, ClientConfig, Connection, Error, Pattern, ServerConfig, StaticKeyPair, Suite, Time,
};
use serde::Serialize;

use crate::common::{CliError, ProviderArg, SuiteArg, parse_seconds, print_stdout};

/// Message sizes measured by default: 64 B to 16 KiB.
const DEFAULT_SIZES: [usize; 5] = [64, 256, 1024, 4096, 16384];

#[derive(Args)]
pub(crate) struct BenchArgs {
    /// Seconds per case (each provider, suite and size; each handshake).
    #[arg(long, value_name = "SECS", value_parser = parse_seconds, default_value = "1")]
    seconds: Duration,
    /// Print JSON on stdout instead of the tables.
    #[arg(long)]
    json: bool,
    /// Cipher suites to measure (default: both).
    #[arg(long, value_enum, value_delimiter = ',', value_name = "SUITES")]
    suites: Option<Vec<SuiteArg>>,
    /// Providers to measure (default: every one built in).
    #[arg(long, value_enum, value_delimiter = ',', value_name = "PROVIDERS")]
    providers: Option<Vec<ProviderArg>>,
    /// Message sizes in bytes (default 64,256,1024,4096,16384).
    #[arg(long, value_delimiter = ',', value_name = "BYTES")]
    sizes: Option<Vec<usize>>,
    /// Measure only records or only handshakes.
    #[arg(long, value_enum)]
    only: Option<Only>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Only {
    Records,
    Handshakes,
}

/// The whole report (also the `--json` output).
#[derive(Serialize)]
struct Report {
    lwsec_version: &'static str,
    cpu: Cpu,
    seconds_per_case: f64,
    records: Vec<RecordResult>,
    handshakes: Vec<HandshakeResult>,
    recommendation: Recommendation,
}

#[derive(Serialize)]
struct Cpu {
    arch: &'static str,
    aes_instructions: bool,
}

#[derive(Serialize)]
struct RecordResult {
    provider: &'static str,
    suite: String,
    message_bytes: usize,
    messages_per_second: f64,
    mib_per_second: f64,
    /// Mean time to seal and open one message.
    microseconds_per_message: f64,
}

#[derive(Serialize)]
struct HandshakeResult {
    provider: &'static str,
    pattern: String,
    suite: String,
    /// Full handshakes per second, both sides on this one core.
    handshakes_per_second: f64,
    /// Handshakes per second counting the server's work only.
    server_handshakes_per_second: f64,
    server_microseconds: f64,
}

#[derive(Serialize)]
struct Recommendation {
    suite: String,
    provider: &'static str,
    reason: String,
}

/// Whether the CPU has AES and carry-less multiply instructions (what
/// AES-GCM needs to be fast and constant time).
fn aes_instructions() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("aes")
            && std::arch::is_x86_feature_detected!("pclmulqdq")
    }
    #[cfg(target_arch = "aarch64")]
    {
        std::arch::is_aarch64_feature_detected!("aes")
            && std::arch::is_aarch64_feature_detected!("pmull")
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        false
    }
}

fn chosen_providers(args: &BenchArgs) -> Result<Vec<&'static CryptoProvider>, CliError> {
    match &args.providers {
        None => Ok(lwsec::crypto::providers().to_vec()),
        Some(list) => list
            .iter()
            .map(|p| crate::common::provider(Some(*p)))
            .collect(),
    }
}

pub(crate) fn run(args: BenchArgs) -> Result<(), CliError> {
    if args.seconds.is_zero() {
        return Err(CliError::usage("--seconds must be more than 0"));
    }
    let providers = chosen_providers(&args)?;
    let suites: Vec<Suite> = match &args.suites {
        None => Suite::ALL.to_vec(),
        Some(s) => s.iter().map(|s| s.suite()).collect(),
    };
    let sizes = args.sizes.clone().unwrap_or(DEFAULT_SIZES.to_vec());
    if let Some(bad) = sizes
        .iter()
        .find(|s| **s == 0 || **s > lwsec::DEFAULT_MAX_MESSAGE_SIZE)
    {
        return Err(CliError::usage(format!(
            "--sizes: {bad} is not a message size from 1 to {} bytes",
            lwsec::DEFAULT_MAX_MESSAGE_SIZE
        )));
    }
    let records = args.only != Some(Only::Handshakes);
    let handshakes = args.only != Some(Only::Records);
    let cases = providers.len()
        * (usize::from(records) * suites.len() * sizes.len()
            + usize::from(handshakes) * 2 * suites.len());
    eprintln!(
        "lwsec bench: {cases} cases of {:.2} s each (about {:.0} s)",
        args.seconds.as_secs_f64(),
        args.seconds.as_secs_f64() * cases as f64
    );

    let fail = |e: Error| CliError::runtime(format!("benchmark failed: {e}"));
    let mut report = Report {
        lwsec_version: env!("CARGO_PKG_VERSION"),
        cpu: Cpu {
            arch: std::env::consts::ARCH,
            aes_instructions: aes_instructions(),
        },
        seconds_per_case: args.seconds.as_secs_f64(),
        records: Vec::new(),
        handshakes: Vec::new(),
        recommendation: recommend(aes_instructions()),
    };
    for provider in &providers {
        for suite in &suites {
            if records {
                for size in &sizes {
                    report.records.push(
                        measure_records(provider, *suite, *size, args.seconds).map_err(fail)?,
                    );
                }
            }
            if handshakes {
                for pattern in [Pattern::Nk, Pattern::Ik] {
                    report.handshakes.push(
                        measure_handshakes(provider, *suite, pattern, args.seconds)
                            .map_err(fail)?,
                    );
                }
            }
        }
    }
    if args.json {
        let json = serde_json::to_string_pretty(&report)
            .map_err(|e| CliError::runtime(format!("cannot write JSON: {e}")))?;
        print_stdout(&format!("{json}\n"));
    } else {
        print_stdout(&tables(&report));
    }
    Ok(())
}

/// The suite and provider to use here: AES-256-GCM with aws-lc on a CPU
/// with AES instructions, ChaCha20-Poly1305 otherwise.
fn recommend(aes: bool) -> Recommendation {
    let aws_lc = lwsec::crypto::providers()
        .iter()
        .find(|p| p.name == "aws-lc")
        .map(|p| p.name);
    match (aes, aws_lc) {
        (true, Some(aws_lc)) => Recommendation {
            suite: Suite::Aes256Gcm.to_string(),
            provider: aws_lc,
            reason: "this CPU has AES instructions, which aws-lc's AES-GCM uses".to_owned(),
        },
        (true, None) => Recommendation {
            suite: Suite::Aes256Gcm.to_string(),
            provider: "aws-lc",
            reason: "this CPU has AES instructions; build with the `aws-lc` feature \
                     (this lwsec has only the pure-Rust provider) to use them fully"
                .to_owned(),
        },
        (false, _) => Recommendation {
            suite: Suite::ChaCha20Poly1305.to_string(),
            provider: aws_lc.unwrap_or("rust-crypto"),
            reason: "this CPU has no AES instructions: ChaCha20-Poly1305 is faster \
                     in software and constant time"
                .to_owned(),
        },
    }
}

/// An established client/server pair in memory.
fn established(
    provider: &'static CryptoProvider,
    suite: Suite,
    pattern: Pattern,
    now: Time,
) -> Result<(Connection, Connection), Error> {
    let server_key = StaticKeyPair::generate_with(provider, &OsRandom)?;
    let (server_cfg, client_cfg) = configs(provider, suite, pattern, server_key)?;
    handshake(&client_cfg, &server_cfg, now, &mut Duration::default())
}

fn configs(
    provider: &'static CryptoProvider,
    suite: Suite,
    pattern: Pattern,
    server_key: StaticKeyPair,
) -> Result<(Arc<ServerConfig>, Arc<ClientConfig>), Error> {
    let mut client = match pattern {
        Pattern::Ik => ClientConfig::ik(
            server_key.public_key(),
            StaticKeyPair::generate_with(provider, &OsRandom)?,
        ),
        _ => ClientConfig::nk(server_key.public_key()),
    };
    client.suites = vec![suite];
    client.provider = provider;
    let mut server = ServerConfig::new(server_key);
    server.suites = vec![suite];
    server.patterns = vec![pattern];
    server.provider = provider;
    Ok((Arc::new(server), Arc::new(client)))
}

/// One full handshake; adds the time spent in the server's calls to
/// `server_time`.
fn handshake(
    client_cfg: &Arc<ClientConfig>,
    server_cfg: &Arc<ServerConfig>,
    now: Time,
    server_time: &mut Duration,
) -> Result<(Connection, Connection), Error> {
    let mut client = Connection::client(client_cfg.clone(), now)?;
    let start = Instant::now();
    let mut server = Connection::server(server_cfg.clone(), now)?;
    let n = server.handle_input(client.pending_output(), now)?;
    server.accept_client(Acceptance::new(), now)?;
    *server_time += start.elapsed();
    client.consume_output(n);
    let n = client.handle_input(server.pending_output(), now)?;
    server.consume_output(n);
    // The client's key confirmation.
    let start = Instant::now();
    let n = server.handle_input(client.pending_output(), now)?;
    *server_time += start.elapsed();
    client.consume_output(n);
    if !(client.is_established() && server.is_established()) {
        return Err(Error::Internal("the benchmark handshake did not complete"));
    }
    Ok((client, server))
}

/// Seals one message on the client and opens it on the server.
fn one_message(
    client: &mut Connection,
    server: &mut Connection,
    message: &[u8],
    now: Time,
) -> Result<(), Error> {
    client.send_message(message)?;
    while !client.pending_output().is_empty() {
        let n = server.handle_input(client.pending_output(), now)?;
        client.consume_output(n);
    }
    match server.recv_message() {
        Some(m) => {
            black_box(m);
            Ok(())
        }
        None => Err(Error::Internal("the benchmark message was not delivered")),
    }
}

fn measure_records(
    provider: &'static CryptoProvider,
    suite: Suite,
    size: usize,
    budget: Duration,
) -> Result<RecordResult, Error> {
    let now = Time::now();
    let (mut client, mut server) = established(provider, suite, Pattern::Nk, now)?;
    let message = vec![0x5a; size];
    // Warm up (caches, expanded keys), then measure in batches between
    // clock reads.
    let warm_up = Instant::now();
    while warm_up.elapsed() < budget / 10 {
        one_message(&mut client, &mut server, &message, now)?;
    }
    const BATCH: u64 = 16;
    let mut count = 0u64;
    let start = Instant::now();
    let elapsed = loop {
        for _ in 0..BATCH {
            one_message(&mut client, &mut server, black_box(&message), now)?;
        }
        count += BATCH;
        let elapsed = start.elapsed();
        if elapsed >= budget {
            break elapsed;
        }
    };
    let secs = elapsed.as_secs_f64();
    let per_second = count as f64 / secs;
    Ok(RecordResult {
        provider: provider.name,
        suite: suite.to_string(),
        message_bytes: size,
        messages_per_second: per_second,
        mib_per_second: per_second * size as f64 / (1024.0 * 1024.0),
        microseconds_per_message: secs * 1e6 / count as f64,
    })
}

fn measure_handshakes(
    provider: &'static CryptoProvider,
    suite: Suite,
    pattern: Pattern,
    budget: Duration,
) -> Result<HandshakeResult, Error> {
    let now = Time::now();
    let server_key = StaticKeyPair::generate_with(provider, &OsRandom)?;
    let (server_cfg, client_cfg) = configs(provider, suite, pattern, server_key)?;
    // Warm up: the server key's parsed form, caches.
    for _ in 0..3 {
        handshake(&client_cfg, &server_cfg, now, &mut Duration::default())?;
    }
    let mut server_time = Duration::ZERO;
    let mut count = 0u64;
    let start = Instant::now();
    let elapsed = loop {
        black_box(handshake(&client_cfg, &server_cfg, now, &mut server_time)?);
        count += 1;
        let elapsed = start.elapsed();
        if elapsed >= budget {
            break elapsed;
        }
    };
    let server_secs = server_time.as_secs_f64().max(1e-9);
    Ok(HandshakeResult {
        provider: provider.name,
        pattern: pattern.to_string(),
        suite: suite.to_string(),
        handshakes_per_second: count as f64 / elapsed.as_secs_f64(),
        server_handshakes_per_second: count as f64 / server_secs,
        server_microseconds: server_secs * 1e6 / count as f64,
    })
}

fn tables(report: &Report) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "lwsec {} on {} (AES instructions: {}), {:.2} s per case",
        report.lwsec_version,
        report.cpu.arch,
        if report.cpu.aes_instructions {
            "yes"
        } else {
            "no"
        },
        report.seconds_per_case
    );
    if !report.records.is_empty() {
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "Records: one message sealed and opened through a Connection pair"
        );
        let _ = writeln!(
            out,
            "{:<12} {:<18} {:>7} {:>12} {:>10} {:>9}",
            "provider", "suite", "bytes", "messages/s", "MiB/s", "us/msg"
        );
        for r in &report.records {
            let _ = writeln!(
                out,
                "{:<12} {:<18} {:>7} {:>12.0} {:>10.1} {:>9.3}",
                r.provider,
                r.suite,
                r.message_bytes,
                r.messages_per_second,
                r.mib_per_second,
                r.microseconds_per_message
            );
        }
    }
    if !report.handshakes.is_empty() {
        let _ = writeln!(out);
        let _ = writeln!(out, "Handshakes: full handshakes in memory");
        let _ = writeln!(
            out,
            "{:<12} {:<8} {:<18} {:>12} {:>14} {:>10}",
            "provider", "pattern", "suite", "both sides/s", "server side/s", "server us"
        );
        for h in &report.handshakes {
            let _ = writeln!(
                out,
                "{:<12} {:<8} {:<18} {:>12.0} {:>14.0} {:>10.1}",
                h.provider,
                h.pattern,
                h.suite,
                h.handshakes_per_second,
                h.server_handshakes_per_second,
                h.server_microseconds
            );
        }
    }
    let _ = writeln!(out);
    let r = &report.recommendation;
    let _ = writeln!(
        out,
        "Recommendation for this CPU: {} with the {} provider ({}).",
        r.suite, r.provider, r.reason
    );
    if let Some(best) = report
        .records
        .iter()
        .filter(|r| r.message_bytes == 1024)
        .max_by(|a, b| a.messages_per_second.total_cmp(&b.messages_per_second))
    {
        let _ = writeln!(
            out,
            "Fastest measured at 1 KiB: {} with {} ({:.1} MiB/s).",
            best.suite, best.provider, best.mib_per_second
        );
    }
    out
}
