//! The blocking adapter (no async runtime) against `echo_server`; start
//! the server first (see `examples/echo_server.rs`).
//!
//! ```text
//! cargo run --example blocking_client -- --connect 127.0.0.1:7878 --server-key server.pub hello
//! ```

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::sync::Arc;

use clap::Parser;
use lwsec::{ClientConfig, PublicKey};

#[derive(Parser)]
#[command(about = "lwsec blocking echo client")]
struct Args {
    /// Server address.
    #[arg(long, default_value = "127.0.0.1:7878")]
    connect: String,
    /// The server's public key file.
    #[arg(long, default_value = "server.pub")]
    server_key: PathBuf,
    /// Messages to send.
    #[arg(default_values_t = ["hello".to_string()])]
    messages: Vec<String>,
}

fn main() -> io::Result<()> {
    let args = Args::parse();
    let config = Arc::new(ClientConfig::nk(PublicKey::load(&args.server_key)?));
    let mut stream = lwsec::blocking::connect(config, TcpStream::connect(&args.connect)?)?;
    // Message view: boundaries kept.
    for message in &args.messages {
        stream.send_message(message.as_bytes())?;
        let echo = stream
            .recv_message()?
            .ok_or_else(|| io::Error::other("server closed"))?;
        println!("echo: {}", String::from_utf8_lossy(&echo));
    }
    // Byte view: std::io::Write and Read.
    stream.write_all(b"bytes too")?;
    stream.flush()?;
    let mut back = [0u8; 9];
    stream.read_exact(&mut back)?;
    println!("echo: {}", String::from_utf8_lossy(&back));
    stream.close()
}
