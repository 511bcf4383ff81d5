//! Command line of the lwsec conformance tester. See `test-vectors/README.md`.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use lwsec_conformance::{client_mode, report, scenario::Mode, server_mode, wire};

#[derive(Parser)]
#[command(
    name = "lwsec-conformance",
    about = "Checks an lwsec implementation over TCP against spec/PROTOCOL.md, section by section"
)]
struct Args {
    /// List the scenarios (id, sections, title) and exit.
    #[arg(long, global = true)]
    list: bool,
    /// Run only the scenarios citing this section (`4.5` also matches
    /// `4.5.x`), with this id, or under this id prefix (`server.cookie`,
    /// `client`); repeatable.
    #[arg(long, global = true)]
    only: Vec<String>,
    /// Print the report as JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    /// Also write a JUnit XML report to FILE.
    #[arg(long, global = true, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Per-scenario deadline, in seconds.
    #[arg(long, global = true, default_value_t = 5.0)]
    timeout: f64,
    /// The peer's maximum message size (section 7).
    #[arg(long, global = true, default_value_t = 1 << 20)]
    max_message_size: usize,
    /// Print each scenario's result as it finishes (on stderr).
    #[arg(short, long, global = true)]
    verbose: bool,
    #[command(subcommand)]
    command: Option<Cmd>,
}

#[derive(Subcommand)]
enum Cmd {
    /// Test a server: the tester connects to it as a client.
    Server {
        /// The server under test, HOST:PORT.
        addr: String,
        /// The server's public key (`lwsec-public-v1:` file).
        #[arg(long, value_name = "FILE")]
        server_key: PathBuf,
        /// A device key the server accepts (`lwsec-secret-v1:` file), for IK.
        /// Without it the tester generates one.
        #[arg(long, value_name = "FILE")]
        client_key: Option<PathBuf>,
        /// A device key the server refuses (`client_rejected`), if any.
        #[arg(long, value_name = "FILE")]
        rejected_client_key: Option<PathBuf>,
    },
    /// Test a client: the tester listens and plays the server.
    Client {
        /// Address to listen on, HOST:PORT (port 0: any).
        #[arg(long)]
        listen: String,
        /// The tester's server key pair (`lwsec-secret-v1:` file).
        #[arg(long, value_name = "FILE")]
        server_key_pair: PathBuf,
        /// Command that runs the client under test once (run per scenario
        /// with `sh -c`); `{addr}`, `{host}`, `{port}`, `{key}` (a file
        /// holding the tester's public key) and `{ticket}` (the file the
        /// client keeps its resumption ticket in; without it the client is
        /// taken not to resume) are replaced. Without it the client must
        /// connect by itself, once per scenario.
        #[arg(long, value_name = "COMMAND")]
        client_cmd: Option<String>,
        /// Without --client-cmd: the client keeps the tickets the tester
        /// sends and resumes with them (section 4.11).
        #[arg(long)]
        client_resumes: bool,
        /// Append the client command's output to FILE.
        #[arg(long, value_name = "FILE")]
        client_log: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let args = Args::parse();
    if args.list {
        let show = |mode: Mode, id: &str, sections: &[&str], title: &str| {
            println!(
                "{:<6} {:<55} [{}] {}",
                mode.name(),
                id,
                sections.join(", "),
                title
            );
        };
        let (mut n, server, client) = (
            0,
            !matches!(args.command, Some(Cmd::Client { .. })),
            !matches!(args.command, Some(Cmd::Server { .. })),
        );
        if server {
            for s in server_mode::scenarios()
                .iter()
                .filter(|s| args.only.is_empty() || args.only.iter().any(|o| s.matches(o)))
            {
                show(Mode::Server, s.id, s.sections, s.title);
                n += 1;
            }
        }
        if client {
            for s in client_mode::scenarios()
                .iter()
                .filter(|s| args.only.is_empty() || args.only.iter().any(|o| s.matches(o)))
            {
                show(Mode::Client, s.id, s.sections, s.title);
                n += 1;
            }
        }
        println!("{n} scenarios");
        return ExitCode::SUCCESS;
    }
    let timeout = Duration::from_secs_f64(args.timeout);
    let verbose = args.verbose;
    let progress = |o: &lwsec_conformance::Outcome| {
        if verbose {
            eprintln!(
                "{} {} ({:.0} ms)",
                o.verdict.label(),
                o.id,
                o.elapsed.as_secs_f64() * 1000.0
            );
        }
    };
    let outcomes = match args.command {
        None => {
            eprintln!(
                "give `server HOST:PORT --server-key FILE` or `client --listen HOST:PORT --server-key-pair FILE` (or --list)"
            );
            return ExitCode::from(2);
        }
        Some(Cmd::Server {
            addr,
            server_key,
            client_key,
            rejected_client_key,
        }) => {
            let run = || -> Result<_, String> {
                let key = wire::read_key_file(&server_key, "lwsec-public-v1:")?;
                let mut t = server_mode::Target::new(&addr, key, timeout)?;
                if let Some(p) = client_key {
                    t.client_key = wire::read_key_file(&p, "lwsec-secret-v1:")?;
                    t.client_key_generated = false;
                }
                if let Some(p) = rejected_client_key {
                    t.rejected_key = Some(wire::read_key_file(&p, "lwsec-secret-v1:")?);
                }
                t.max_message = args.max_message_size;
                Ok(report::run(
                    Mode::Server,
                    &mut t,
                    &server_mode::scenarios(),
                    &args.only,
                    |_| {},
                    progress,
                ))
            };
            match run() {
                Ok(o) => o,
                Err(e) => {
                    eprintln!("{e}");
                    return ExitCode::from(2);
                }
            }
        }
        Some(Cmd::Client {
            listen,
            server_key_pair,
            client_cmd,
            client_resumes,
            client_log,
        }) => {
            let run = || -> Result<_, String> {
                let private = wire::read_key_file(&server_key_pair, "lwsec-secret-v1:")?;
                let listener = TcpListener::bind(&listen).map_err(|e| format!("{listen}: {e}"))?;
                let dir =
                    std::env::temp_dir().join(format!("lwsec-conformance-{}", std::process::id()));
                std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
                let launcher: Box<dyn client_mode::Launcher> = match client_cmd {
                    Some(template) => Box::new(client_mode::CommandLauncher {
                        template,
                        log: client_log,
                    }),
                    None => Box::new(client_mode::External {
                        resumes: client_resumes,
                    }),
                };
                let mut t = client_mode::Target::new(
                    listener,
                    private,
                    dir.join("server.pub"),
                    launcher,
                    timeout,
                )
                .map_err(|e| e.to_string())?;
                t.max_message = args.max_message_size;
                eprintln!(
                    "listening on {}; server key lwsec-public-v1:{}",
                    t.addr,
                    wire::hex(&t.server_public)
                );
                let out = report::run(
                    Mode::Client,
                    &mut t,
                    &client_mode::scenarios(),
                    &args.only,
                    |t| t.finish(),
                    progress,
                );
                let _ = std::fs::remove_dir_all(&dir);
                Ok(out)
            };
            match run() {
                Ok(o) => o,
                Err(e) => {
                    eprintln!("{e}");
                    return ExitCode::from(2);
                }
            }
        }
    };
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report::json(&outcomes)).unwrap_or_default()
        );
    } else {
        print!("{}", report::text(&outcomes));
    }
    if let Some(path) = args.junit {
        if let Err(e) = std::fs::write(&path, report::junit(&outcomes)) {
            eprintln!("{}: {e}", path.display());
            return ExitCode::from(2);
        }
    }
    let (_, failed, _) = report::counts(&outcomes);
    if failed > 0 || outcomes.is_empty() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
