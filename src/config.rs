//! Client and server configuration.

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use zeroize::Zeroizing;

use crate::crypto::dh::{KEY_ID_LEN, PublicKey, StaticKeyPair};
use crate::crypto::rng::{OsRandom, SecureRandom};
use crate::crypto::{CryptoProvider, default_provider};
use crate::error::Error;
use crate::record::Padding;
use crate::suite::{Pattern, Suite};
use crate::ticket::{MAX_TICKET_LIFETIME, TicketKeyring};

/// Default lifetime of a resumption ticket: 24 hours.
pub const DEFAULT_TICKET_LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// Default largest message a connection accepts: 1 MiB.
pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 1 << 20;

/// Default number of records sent under one key before an automatic key
/// update: 2^24, well below the AES-GCM usage limit of 2^24.5 full records.
pub const DEFAULT_KEY_UPDATE_AFTER_RECORDS: u64 = 1 << 24;

/// Settings of an established connection, the same for clients and servers.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct TransportConfig {
    /// Largest message this side sends or accepts, in bytes (default 1 MiB).
    /// A larger incoming message is a fatal `message_too_large` error.
    pub max_message_size: usize,
    /// Padding applied to every record this side sends (default none).
    pub padding: Padding,
    /// Records sent under one key before this side updates its keys
    /// automatically (default 2^24). Must be at least 1.
    pub key_update_after_records: u64,
    /// Send a ping when nothing was sent for this long (default off).
    pub keepalive_interval: Option<Duration>,
    /// Fail with [`Error::Timeout`] when nothing was received for this long
    /// (default off; servers: 5 minutes).
    pub idle_timeout: Option<Duration>,
    /// Fail with [`Error::PartialMessageTimeout`] when a message whose
    /// first fragment arrived is not complete this long after (default
    /// off; servers: 30 seconds). Bounds how long a peer can pin a partial
    /// message's buffer.
    pub partial_message_timeout: Option<Duration>,
    /// Allow [`Connection::dangerous_extract_secrets`](crate::Connection::dangerous_extract_secrets)
    /// (default off), for handing an established connection's keys to
    /// another record layer (a kernel or hardware offload). Off, the keys
    /// never leave the connection.
    pub enable_secret_extraction: bool,
}

impl Default for TransportConfig {
    fn default() -> Self {
        Self {
            max_message_size: DEFAULT_MAX_MESSAGE_SIZE,
            padding: Padding::None,
            key_update_after_records: DEFAULT_KEY_UPDATE_AFTER_RECORDS,
            keepalive_interval: None,
            idle_timeout: None,
            partial_message_timeout: None,
            enable_secret_extraction: false,
        }
    }
}

/// A server's default idle timeout.
pub const DEFAULT_SERVER_IDLE_TIMEOUT: Duration = Duration::from_secs(300);
/// A server's default keep-alive interval: well inside the idle timeout,
/// so a live client (whose adapter answers pings) is never timed out.
pub const DEFAULT_SERVER_KEEPALIVE_INTERVAL: Duration = Duration::from_secs(120);
/// A server's default partial-message timeout.
pub const DEFAULT_PARTIAL_MESSAGE_TIMEOUT: Duration = Duration::from_secs(30);
/// The adapters' default handshake deadline: `connect`, `accept` and the
/// acceptors of [`blocking`](crate::blocking) and `tokio`, and the tokio
/// `Connector`.
pub const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

impl TransportConfig {
    /// The defaults of a server ([`ServerConfig::new`]): like
    /// [`TransportConfig::default`], with deadlines on, since a server
    /// holds connections for anonymous peers: a keep-alive ping every
    /// [`DEFAULT_SERVER_KEEPALIVE_INTERVAL`], an idle timeout of
    /// [`DEFAULT_SERVER_IDLE_TIMEOUT`] and a partial-message timeout of
    /// [`DEFAULT_PARTIAL_MESSAGE_TIMEOUT`].
    pub fn server_defaults() -> Self {
        Self {
            keepalive_interval: Some(DEFAULT_SERVER_KEEPALIVE_INTERVAL),
            idle_timeout: Some(DEFAULT_SERVER_IDLE_TIMEOUT),
            partial_message_timeout: Some(DEFAULT_PARTIAL_MESSAGE_TIMEOUT),
            ..Self::default()
        }
    }
}

impl TransportConfig {
    /// Checks the settings: padding, a key-update interval of at least one
    /// record, a maximum message size of at least one byte. Connections run
    /// this check when they are created.
    pub fn validate(&self) -> Result<(), Error> {
        self.padding.validate()?;
        if self.key_update_after_records == 0 {
            return Err(Error::InvalidConfig(
                "key_update_after_records must be at least 1",
            ));
        }
        if self.max_message_size == 0 {
            return Err(Error::InvalidConfig("max_message_size must be at least 1"));
        }
        Ok(())
    }
}

fn validate_suites(suites: &[Suite]) -> Result<(), Error> {
    if suites.is_empty() || suites.len() > crate::wire::hello::MAX_SUITES {
        return Err(Error::InvalidConfig("suites must list 1 to 8 suites"));
    }
    for (i, s) in suites.iter().enumerate() {
        if suites.get(..i).is_some_and(|before| before.contains(s)) {
            return Err(Error::InvalidConfig("suites must not repeat a suite"));
        }
    }
    Ok(())
}

/// What a client needs to connect: the server's pinned static key, its own
/// static key for IK, and its preferences.
///
/// ```
/// use lwsec::{ClientConfig, StaticKeyPair, Suite, rng::OsRandom};
/// let server = StaticKeyPair::generate(&OsRandom)?;
/// let mut config = ClientConfig::nk(server.public_key());
/// config.suites = vec![Suite::ChaCha20Poly1305, Suite::Aes256Gcm];
/// # Ok::<(), lwsec::Error>(())
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct ClientConfig {
    /// Pinned server keys, in order; the first is used.
    server_keys: Vec<PublicKey>,
    client_key: Option<StaticKeyPair>,
    /// Suites the client supports, most preferred first. The first one is
    /// used for the first flight; the server may ask for another with a Retry.
    pub suites: Vec<Suite>,
    /// Settings of the established connection.
    pub transport: TransportConfig,
    /// Source of ephemeral keys (default: the operating system's RNG).
    pub rng: Arc<dyn SecureRandom>,
    /// The cryptographic primitives (default
    /// [`crypto::default_provider`](crate::crypto::default_provider)).
    pub provider: &'static CryptoProvider,
}

impl ClientConfig {
    /// An `NK` client: authenticates the server by `server_key`, stays anonymous.
    pub fn nk(server_key: PublicKey) -> Self {
        Self {
            server_keys: vec![server_key],
            client_key: None,
            suites: Suite::ALL.to_vec(),
            transport: TransportConfig::default(),
            rng: Arc::new(OsRandom),
            provider: default_provider(),
        }
    }

    /// An `IK` client: authenticates the server by `server_key` and proves
    /// `client_key` (a device key) to it.
    pub fn ik(server_key: PublicKey, client_key: StaticKeyPair) -> Self {
        Self {
            client_key: Some(client_key),
            ..Self::nk(server_key)
        }
    }

    /// The handshake pattern this configuration uses.
    pub fn pattern(&self) -> Pattern {
        if self.client_key.is_some() {
            Pattern::Ik
        } else {
            Pattern::Nk
        }
    }

    /// The pinned server key this client connects with: the first of
    /// [`pinned_keys`](Self::pinned_keys).
    pub fn server_key(&self) -> PublicKey {
        self.server_keys
            .first()
            .copied()
            .unwrap_or(PublicKey::from_bytes([0; 32]))
    }

    /// The pinned server keys, in order. The handshake uses the first; the
    /// others are kept for the application (typically the keys a server
    /// announced next, see [`Event::ServerKeysAnnounced`](crate::Event::ServerKeysAnnounced)).
    ///
    /// A client never falls back to another pinned key because a handshake
    /// failed: the failure is reported by an unauthenticated alert (or a
    /// dropped connection) that an attacker holding a retired key could
    /// forge to steer it there. Pins change only through an authenticated
    /// announcement.
    pub fn pinned_keys(&self) -> &[PublicKey] {
        &self.server_keys
    }

    /// Replaces the pinned keys (1 to 8, in order; the first is used), for
    /// example with what a server announced.
    pub fn set_pinned_keys(&mut self, keys: Vec<PublicKey>) -> Result<(), Error> {
        if keys.is_empty() || keys.len() > crate::wire::extensions::MAX_ANNOUNCED_KEYS {
            return Err(Error::InvalidConfig("pin 1 to 8 server keys"));
        }
        self.server_keys = keys;
        Ok(())
    }

    pub(crate) fn client_key(&self) -> Option<&StaticKeyPair> {
        self.client_key.as_ref()
    }

    /// Checks the configuration (pinned keys, suites, transport settings),
    /// as [`Connection::client`](crate::Connection::client) does; the
    /// error names the field to fix.
    pub fn validate(&self) -> Result<(), Error> {
        if self.server_keys.is_empty() {
            return Err(Error::InvalidConfig("pin at least one server key"));
        }
        validate_suites(&self.suites)?;
        self.transport.validate()
    }
}

impl fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientConfig")
            .field("pattern", &self.pattern())
            .field("pinned_keys", &self.server_keys)
            .field("client_key", &self.client_key)
            .field("suites", &self.suites)
            .field("transport", &self.transport)
            .field("provider", &self.provider)
            .finish_non_exhaustive()
    }
}

/// What a server needs: one or more static key pairs (several during a key
/// rotation), the suites and patterns it accepts, and whether it takes early
/// data. Which clients get in is decided per connection, after their first
/// flight ([`Connection::accept_client`](crate::Connection::accept_client);
/// the adapters run asynchronous authorizers).
///
/// ```
/// use lwsec::{ServerConfig, StaticKeyPair, rng::OsRandom};
/// let old = StaticKeyPair::generate(&OsRandom)?;
/// let new = StaticKeyPair::generate(&OsRandom)?;
/// let mut config = ServerConfig::new(new);
/// config.add_key(old); // still accepted while clients migrate
/// # Ok::<(), lwsec::Error>(())
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct ServerConfig {
    keys: Vec<ServerKey>,
    announced_keys: Vec<PublicKey>,
    early_data_window: Option<Duration>,
    /// `None` when the OS RNG failed to make one and none was set: cookies
    /// then fail closed with [`Error::Rng`].
    cookie_secret: Option<Zeroizing<[u8; 32]>>,
    /// How long a Retry cookie stays valid (default 30 seconds).
    pub cookie_lifetime: Duration,
    /// Ticket keys, when the server resumes sessions (section 4.11).
    ticket_keys: Option<Arc<TicketKeyring>>,
    /// How long a resumption ticket stays valid (default 24 hours, at most
    /// [`MAX_TICKET_LIFETIME`]).
    pub ticket_lifetime: Duration,
    /// How long after a client's last *full* handshake it may keep resuming
    /// (default 7 days): resumptions chain new tickets, but never past this.
    pub resumption_max_age: Duration,
    /// Suites the server accepts. The server picks the client's most
    /// preferred suite that is in this list (client-ordered preference).
    pub suites: Vec<Suite>,
    /// Patterns the server accepts (default both `NK` and `IK`).
    pub patterns: Vec<Pattern>,
    /// Settings of the established connection (default
    /// [`TransportConfig::server_defaults`]: deadlines on).
    pub transport: TransportConfig,
    /// Source of ephemeral keys (default: the operating system's RNG).
    pub rng: Arc<dyn SecureRandom>,
    /// The cryptographic primitives (default
    /// [`crypto::default_provider`](crate::crypto::default_provider)).
    pub provider: &'static CryptoProvider,
}

/// A static key held by a server, with the key id clients name it by
/// (computed once, not per handshake).
#[derive(Clone)]
struct ServerKey {
    pair: StaticKeyPair,
    id: [u8; KEY_ID_LEN],
}

impl ServerKey {
    fn new(pair: StaticKeyPair) -> Self {
        let id = pair.public_key().key_id();
        Self { pair, id }
    }
}

impl ServerConfig {
    /// A server holding one static key pair, accepting both patterns and
    /// suites, and every IK client until an authorizer is set. Early data is
    /// off. The cookie secret is drawn from the operating system's RNG; set a
    /// shared one with [`set_cookie_secret`](Self::set_cookie_secret) when a
    /// fleet of servers must accept each other's cookies.
    pub fn new(key: StaticKeyPair) -> Self {
        Self::with_cookie_secret_from(key, &OsRandom)
    }

    /// [`new`](Self::new), drawing the cookie secret from `rng`.
    fn with_cookie_secret_from(key: StaticKeyPair, rng: &dyn SecureRandom) -> Self {
        let mut secret = Zeroizing::new([0u8; 32]);
        // A failing RNG leaves no secret (never a predictable one): issuing
        // or checking a cookie then fails with `Error::Rng`.
        let cookie_secret = rng.fill(secret.as_mut()).is_ok().then_some(secret);
        Self {
            keys: vec![ServerKey::new(key)],
            announced_keys: Vec::new(),
            early_data_window: None,
            cookie_secret,
            cookie_lifetime: Duration::from_secs(30),
            ticket_keys: None,
            ticket_lifetime: DEFAULT_TICKET_LIFETIME,
            resumption_max_age: MAX_TICKET_LIFETIME,
            suites: Suite::ALL.to_vec(),
            patterns: vec![Pattern::Nk, Pattern::Ik],
            transport: TransportConfig::server_defaults(),
            rng: Arc::new(OsRandom),
            provider: default_provider(),
        }
    }

    /// Adds another static key (for rotation: clients pinned to any held key
    /// are accepted). A key already held is not added twice.
    pub fn add_key(&mut self, key: StaticKeyPair) {
        if !self
            .keys
            .iter()
            .any(|k| k.pair.public_key() == key.public_key())
        {
            self.keys.push(ServerKey::new(key));
        }
    }

    /// Stops accepting clients pinned to `public`; returns whether it was held.
    /// Connections already established are not affected.
    pub fn retire_key(&mut self, public: &PublicKey) -> bool {
        let before = self.keys.len();
        self.keys.retain(|k| k.pair.public_key() != *public);
        self.keys.len() != before
    }

    /// Announces, in every ServerHello, the server keys clients should pin
    /// from now on, in order (1 to 8; an empty list stops announcing). The
    /// announcement is encrypted and authenticated by the handshake, so a
    /// client can update its pins from it; a client whose key is not in the
    /// list learns that its key is being retired. Typical rotation: hold old
    /// and new keys ([`add_key`](Self::add_key)) and announce `[new]`; once
    /// clients have moved, [`retire_key`](Self::retire_key) the old one.
    pub fn announce_server_keys(&mut self, keys: Vec<PublicKey>) -> Result<(), Error> {
        if keys.len() > crate::wire::extensions::MAX_ANNOUNCED_KEYS {
            return Err(Error::InvalidConfig("announce at most 8 server keys"));
        }
        self.announced_keys = keys;
        Ok(())
    }

    /// The server keys announced to clients (see
    /// [`announce_server_keys`](Self::announce_server_keys)).
    pub fn announced_server_keys(&self) -> &[PublicKey] {
        &self.announced_keys
    }

    /// The public halves of the keys held, in the order they were added.
    pub fn public_keys(&self) -> Vec<PublicKey> {
        self.keys.iter().map(|k| k.pair.public_key()).collect()
    }

    /// Accepts **replayable, non-forward-secret** early data from clients
    /// whose flight is within `window` of the server's clock and that a
    /// replay guard judges fresh (`spec/PROTOCOL.md` section 4.9). Off by
    /// default. The guard is asked per connection by whoever answers the
    /// decision: the tokio and blocking acceptors run theirs
    /// (`with_replay_guard`); without a guard, early data is refused.
    pub fn enable_replayable_early_data(&mut self, window: Duration) {
        self.early_data_window = Some(window);
    }

    /// The C API's setter: `None` turns early data off.
    #[cfg(feature = "ffi")]
    pub(crate) fn set_early_data_window(&mut self, window: Option<Duration>) {
        self.early_data_window = window;
    }

    /// Sets the secret that authenticates Retry cookies. Servers that share
    /// it accept each other's cookies.
    pub fn set_cookie_secret(&mut self, secret: [u8; 32]) {
        self.cookie_secret = Some(Zeroizing::new(secret));
    }

    /// Resumes sessions: after each confirmed handshake the server sends
    /// the client a ticket sealed with the keyring's current key, and
    /// accepts tickets any of its keys opens (`spec/PROTOCOL.md` section
    /// 4.11). Servers of a fleet sharing the keys accept each other's
    /// tickets; replace the keys in the keyring to rotate them while
    /// running. A resumed handshake costs the server one key generation and
    /// one Diffie-Hellman, and still goes through the decision point with
    /// the identity the ticket carries.
    pub fn enable_resumption(&mut self, keys: Arc<TicketKeyring>) {
        self.ticket_keys = Some(keys);
    }

    /// The ticket keyring, when resumption is enabled.
    pub fn ticket_keyring(&self) -> Option<&Arc<TicketKeyring>> {
        self.ticket_keys.as_ref()
    }

    /// The anti-replay window when early data is enabled.
    pub(crate) fn early_data_window(&self) -> Option<Duration> {
        self.early_data_window
    }

    /// The cookie secret, or [`Error::Rng`] when none could be made.
    pub(crate) fn cookie_secret(&self) -> Result<&[u8; 32], Error> {
        self.cookie_secret.as_deref().ok_or(Error::Rng)
    }

    pub(crate) fn key_for_id(&self, id: &[u8; KEY_ID_LEN]) -> Option<&StaticKeyPair> {
        self.keys.iter().find(|k| k.id == *id).map(|k| &k.pair)
    }

    /// Checks the configuration (keys, patterns, suites, transport
    /// settings), as [`Connection::server`](crate::Connection::server)
    /// does; the error names the field to fix.
    pub fn validate(&self) -> Result<(), Error> {
        if self.keys.is_empty() {
            return Err(Error::InvalidConfig(
                "a server needs at least one static key",
            ));
        }
        if self.patterns.is_empty() {
            return Err(Error::InvalidConfig(
                "a server must accept at least one pattern",
            ));
        }
        validate_suites(&self.suites)?;
        if self.ticket_lifetime < Duration::from_secs(1)
            || self.ticket_lifetime > MAX_TICKET_LIFETIME
        {
            return Err(Error::InvalidConfig(
                "ticket_lifetime must be 1 second to 7 days",
            ));
        }
        self.transport.validate()
    }
}

impl fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerConfig")
            .field("keys", &self.public_keys())
            .field("early_data_window", &self.early_data_window)
            .field("cookie_lifetime", &self.cookie_lifetime)
            .field("ticket_keys", &self.ticket_keys.as_ref().map(|k| k.keys()))
            .field("ticket_lifetime", &self.ticket_lifetime)
            .field("resumption_max_age", &self.resumption_max_age)
            .field("suites", &self.suites)
            .field("patterns", &self.patterns)
            .field("transport", &self.transport)
            .field("provider", &self.provider)
            .finish_non_exhaustive()
    }
}

/// Per-connection facts a server adapter supplies (see
/// [`Connection::server_with_options`](crate::Connection::server_with_options)).
///
/// ```
/// use lwsec::ServerOptions;
/// let options = ServerOptions::for_peer("203.0.113.7:50412".parse().unwrap()).with_cookie_demanded(true);
/// assert_eq!(options.peer_address(), b"203.0.113.7:50412");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServerOptions {
    pub(crate) peer_address: Vec<u8>,
    socket_addr: Option<SocketAddr>,
    pub(crate) demand_cookie: bool,
}

impl ServerOptions {
    /// No peer address, no cookie demanded.
    pub fn new() -> Self {
        Self::default()
    }

    /// For a client at `addr`: cookies are bound to its text form
    /// (`203.0.113.7:50412`, `[2001:db8::1]:443`; `spec/PROTOCOL.md`
    /// section 4.5) and the decision view reports it.
    pub fn for_peer(addr: SocketAddr) -> Self {
        Self {
            peer_address: addr.to_string().into_bytes(),
            socket_addr: Some(addr),
            demand_cookie: false,
        }
    }

    /// For a client known by other bytes (a transport without socket
    /// addresses); cookies are bound to them.
    pub fn for_peer_address(address: impl Into<Vec<u8>>) -> Self {
        Self {
            peer_address: address.into(),
            ..Self::default()
        }
    }

    /// Answer a ClientHello without a valid cookie with a Retry carrying one,
    /// before doing any Diffie-Hellman work (for use under load).
    pub fn with_cookie_demanded(mut self, demand: bool) -> Self {
        self.demand_cookie = demand;
        self
    }

    /// The bytes cookies are bound to.
    pub fn peer_address(&self) -> &[u8] {
        &self.peer_address
    }

    /// Whether a cookie is demanded.
    pub fn cookie_demanded(&self) -> bool {
        self.demand_cookie
    }

    pub(crate) fn socket_addr(&self) -> Option<SocketAddr> {
        self.socket_addr
    }
}

impl From<SocketAddr> for ServerOptions {
    /// [`ServerOptions::for_peer`].
    fn from(addr: SocketAddr) -> Self {
        Self::for_peer(addr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Connection, Time};

    #[derive(Debug)]
    struct FailingRng;

    impl SecureRandom for FailingRng {
        fn fill(&self, _: &mut [u8]) -> Result<(), Error> {
            Err(Error::Rng)
        }
    }

    /// Issue 12, item 9: an RNG failure used to leave the cookie secret
    /// `[0xff; 32]`, so anyone could forge cookies. Now no cookie is issued
    /// or accepted: the server fails with `internal_error`.
    #[test]
    fn rng_failure_leaves_no_forgeable_cookie_secret() {
        let key = StaticKeyPair::from_private_bytes([3; 32]);
        let config = Arc::new(ServerConfig::with_cookie_secret_from(
            key.clone(),
            &FailingRng,
        ));
        assert_eq!(config.cookie_secret(), Err(Error::Rng));
        let now = Time::from_millis(1_000);
        let client = Connection::client(Arc::new(ClientConfig::nk(key.public_key())), now).unwrap();
        let options =
            ServerOptions::for_peer_address(&b"10.0.0.1:1"[..]).with_cookie_demanded(true);
        let mut server = Connection::server_with_options(config, now, options).unwrap();
        assert_eq!(
            server.handle_input(client.pending_output(), now),
            Err(Error::Rng)
        );
        assert_eq!(server.pending_output(), &[0x15, 0, 1, 80]);
        // A shared secret set later makes cookies work again.
        let mut fixed = ServerConfig::with_cookie_secret_from(key, &FailingRng);
        fixed.set_cookie_secret([7; 32]);
        assert_eq!(fixed.cookie_secret(), Ok(&[7; 32]));
    }
}
