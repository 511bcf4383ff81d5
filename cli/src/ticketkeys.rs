//! `lwsec ticketkeys`: the fleet's resumption ticket keys, in a file every
//! server of the fleet loads (`lwsec serve --ticket-keys FILE`).

use std::path::{Path, PathBuf};

use clap::Args;
use lwsec::TicketKeys;
use lwsec::rng::OsRandom;

use crate::common::{CliError, print_stdout};

#[derive(Args)]
#[command(group(clap::ArgGroup::new("action").required(true).args(["out", "rotate"])))]
pub(crate) struct TicketKeysArgs {
    /// Write a new ticket-key file holding one fresh secret (mode 0600).
    /// Copy it to every server of the fleet: servers sharing it accept each
    /// other's resumption tickets.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Rotate the ticket-key file FILE in place (atomically): a fresh
    /// current secret, the old current one becomes the first previous one,
    /// at most 3 previous are kept. Then send SIGHUP to the servers.
    #[arg(long, value_name = "FILE")]
    rotate: Option<PathBuf>,
    /// With --out: replace FILE if it exists (its keys are lost, and the
    /// tickets they sealed are refused).
    #[arg(long, requires = "out")]
    force: bool,
}

/// A key id in hex (not secret).
pub(crate) fn id_hex(id: [u8; 4]) -> String {
    id.iter().map(|b| format!("{b:02x}")).collect()
}

fn fresh_secret() -> Result<[u8; 32], CliError> {
    use lwsec::rng::SecureRandom;
    let mut secret = zeroize::Zeroizing::new([0u8; 32]);
    OsRandom
        .fill(secret.as_mut())
        .map_err(|e| CliError::runtime(format!("cannot generate a ticket key: {e}")))?;
    Ok(*secret)
}

fn write_error(path: &Path, err: &std::io::Error) -> CliError {
    if err.kind() == std::io::ErrorKind::AlreadyExists {
        return CliError::file(format!(
            "{} already exists; keep it, rotate it with `lwsec ticketkeys --rotate {}`, \
             or pass --force to replace it",
            path.display(),
            path.display()
        ));
    }
    CliError::file(err.to_string())
}

pub(crate) fn run(args: TicketKeysArgs) -> Result<(), CliError> {
    if let Some(path) = args.out {
        let keys = TicketKeys::new(fresh_secret()?);
        let saved = if args.force {
            keys.save(&path)
        } else {
            keys.save_new(&path)
        };
        saved.map_err(|e| write_error(&path, &e))?;
        eprintln!(
            "lwsec ticketkeys: wrote {} (secret, mode 0600): give the same file to every \
             server of the fleet (`lwsec serve --ticket-keys {}`)",
            path.display(),
            path.display()
        );
        print_stdout(&format!("{}\n", id_hex(keys.current_id())));
        return Ok(());
    }
    let Some(path) = args.rotate else {
        return Err(CliError::usage("give --out FILE or --rotate FILE"));
    };
    let keys = TicketKeys::load(&path).map_err(|e| CliError::file(e.to_string()))?;
    let rotated = keys.rotated(fresh_secret()?);
    rotated.save(&path).map_err(|e| write_error(&path, &e))?;
    let ids: Vec<String> = rotated.ids().into_iter().map(id_hex).collect();
    eprintln!(
        "lwsec ticketkeys: rotated {}: current key {}, previous {}; copy it to every server \
         and send them SIGHUP",
        path.display(),
        ids.first().map_or("?", String::as_str),
        ids.get(1..).map_or(String::new(), |p| p.join(" "))
    );
    print_stdout(&format!("{}\n", ids.first().map_or("?", String::as_str)));
    Ok(())
}
