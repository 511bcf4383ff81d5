//! Resumption tickets (`spec/PROTOCOL.md` section 4.11): the server's
//! ticket keys ([`TicketKeys`], shared by a fleet, rotated through a
//! [`TicketKeyring`]), the sealed ticket format, and the client's stored
//! [`ResumptionTicket`].
//!
//! ```text
//! ticket     = key_id (4) || nonce (12) || AES-256-GCM(k, nonce, key_id || nonce, plaintext)
//! k          = HKDF-Expand-Label(ticket_secret, "ticket", "", 32)
//! key_id     = SHA-256("lwsec ticket key id" || ticket_secret)[0..4]
//! plaintext  = issued_at (8) || lifetime (4) || authenticated_at (8) || pattern (1)
//!              || psk (32) || device_len (1) || device || has_identity (1)
//!              || identity_len (2) || identity
//! ```

use std::fmt;
use std::sync::{Arc, OnceLock, RwLock};
use std::time::Duration;

use bytes::Bytes;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::crypto::aead::{AeadKey, NONCE_LEN, TAG_LEN};
use crate::crypto::dh::{KEY_LEN, PublicKey};
use crate::crypto::hash::{self, HASH_LEN};
use crate::crypto::rng::SecureRandom;
use crate::error::Error;
use crate::suite::{Pattern, Suite};
use crate::time::Time;

/// Length of a ticket key id.
pub(crate) const TICKET_KEY_ID_LEN: usize = 4;

/// Longest application identity a ticket carries.
const MAX_IDENTITY_LEN: usize = 256;
/// Longest ticket lifetime a server may give (7 days, as TLS 1.3).
pub const MAX_TICKET_LIFETIME: Duration = Duration::from_secs(7 * 24 * 3600);
/// Most previous ticket keys a [`TicketKeys`] keeps for opening.
pub const MAX_PREVIOUS_TICKET_KEYS: usize = 3;
/// How far in the future a ticket's issue time may be (clock skew in a fleet).
const MAX_FUTURE: Duration = Duration::from_secs(5);
/// The fixed part of a ticket: key id, nonce and tag.
const OVERHEAD: usize = TICKET_KEY_ID_LEN + NONCE_LEN + TAG_LEN;
/// The plaintext of a ticket without its identity.
const PLAINTEXT_FIXED: usize = 8 + 4 + 8 + 1 + HASH_LEN + 1 + KEY_LEN + 1 + 2;
/// The longest ticket lwsec seals (377 bytes).
pub(crate) const MAX_SEALED_LEN: usize = OVERHEAD + PLAINTEXT_FIXED + MAX_IDENTITY_LEN;

/// One ticket key: the id tickets name it by and its AEAD key, expanded
/// once, on first use, by the default provider (every provider seals the
/// same bytes). Shared, so rotating keeps the expansion.
#[derive(Clone)]
struct TicketKey(Arc<TicketKeyInner>);

struct TicketKeyInner {
    id: [u8; TICKET_KEY_ID_LEN],
    /// The secret, for key files (`keys::TicketKeys` text).
    secret: Zeroizing<[u8; HASH_LEN]>,
    /// `k = HKDF-Expand-Label(ticket_secret, "ticket", "", 32)`.
    key: Zeroizing<[u8; HASH_LEN]>,
    /// `None` inside when the provider could not build the AEAD (tickets
    /// are then neither sealed nor opened).
    aead: OnceLock<Option<AeadKey>>,
}

impl TicketKey {
    fn new(secret: [u8; HASH_LEN]) -> Self {
        let provider = crate::crypto::default_provider();
        let secret = Zeroizing::new(secret);
        let digest = provider
            .hash
            .sha256(&[b"lwsec ticket key id", secret.as_ref()]);
        let mut id = [0u8; TICKET_KEY_ID_LEN];
        for (slot, b) in id.iter_mut().zip(digest) {
            *slot = b;
        }
        let mut key = Zeroizing::new([0u8; HASH_LEN]);
        // HKDF-Expand of 32 bytes cannot fail; if it did, the zero key's
        // AEAD would be refused below (`aead` is never built from it).
        let derived = hash::expand_label(provider, &secret, b"ticket", &[], key.as_mut()).is_ok();
        let aead = OnceLock::new();
        if !derived {
            let _ = aead.set(None);
        }
        Self(Arc::new(TicketKeyInner {
            id,
            secret,
            key,
            aead,
        }))
    }

    fn id(&self) -> [u8; TICKET_KEY_ID_LEN] {
        self.0.id
    }

    /// The AEAD, built on first use.
    fn aead(&self) -> Result<&AeadKey, Error> {
        self.0
            .aead
            .get_or_init(|| {
                AeadKey::new(
                    crate::crypto::default_provider(),
                    Suite::Aes256Gcm,
                    &self.0.key,
                )
                .ok()
            })
            .as_ref()
            .ok_or(Error::Internal("ticket key: the AEAD could not be built"))
    }
}

/// A server's ticket keys: the current secret seals new tickets; up to
/// [`MAX_PREVIOUS_TICKET_KEYS`] previous ones still open tickets issued
/// before a rotation. Servers of a fleet that hold the same keys accept
/// each other's tickets.
///
/// **Whoever holds a ticket secret can impersonate the fleet to every
/// client resuming with a ticket it sealed, and read those clients' early
/// data** (not their later traffic: a resumed handshake has a fresh `ee`).
/// Keep secrets like private keys, rotate them (daily is typical), and drop
/// a previous key once the ticket lifetime has passed since it was current.
#[derive(Clone)]
pub struct TicketKeys {
    current: TicketKey,
    previous: Vec<TicketKey>,
}

impl TicketKeys {
    /// Keys with `current` as the only secret, ids computed by `provider`'s
    /// SHA-256 (every provider gives the same ids).
    pub fn new(current: [u8; 32]) -> Self {
        Self {
            current: TicketKey::new(current),
            previous: Vec::new(),
        }
    }

    /// Keys with a fresh random current secret.
    pub fn generate(rng: &dyn SecureRandom) -> Result<Self, Error> {
        let mut secret = Zeroizing::new([0u8; 32]);
        rng.fill(secret.as_mut())?;
        Ok(Self::new(*secret))
    }

    /// These keys with `secret` as the new current key and the old current
    /// key first among the previous ones (the oldest is dropped beyond
    /// [`MAX_PREVIOUS_TICKET_KEYS`]).
    pub fn rotated(&self, secret: [u8; 32]) -> Self {
        let mut previous = Vec::with_capacity(MAX_PREVIOUS_TICKET_KEYS);
        previous.push(self.current.clone());
        previous.extend(
            self.previous
                .iter()
                .take(MAX_PREVIOUS_TICKET_KEYS.saturating_sub(1))
                .cloned(),
        );
        Self {
            current: TicketKey::new(secret),
            previous,
        }
    }

    /// Adds `secret` as a previous key (opens tickets, seals none); fails
    /// when [`MAX_PREVIOUS_TICKET_KEYS`] are already held.
    pub fn with_previous(mut self, secret: [u8; 32]) -> Result<Self, Error> {
        if self.previous.len() >= MAX_PREVIOUS_TICKET_KEYS {
            return Err(Error::InvalidConfig("at most 3 previous ticket keys"));
        }
        self.previous.push(TicketKey::new(secret));
        Ok(self)
    }

    /// The id of the current key (the first 4 bytes of every ticket it seals).
    pub fn current_id(&self) -> [u8; 4] {
        self.current.id()
    }

    /// The ids of every key held, current first.
    pub fn ids(&self) -> Vec<[u8; 4]> {
        std::iter::once(&self.current)
            .chain(&self.previous)
            .map(TicketKey::id)
            .collect()
    }

    /// The secrets, current first (for the key file and key sources).
    pub(crate) fn secrets(&self) -> impl Iterator<Item = &[u8; HASH_LEN]> {
        std::iter::once(&self.current)
            .chain(&self.previous)
            .map(|k| &*k.0.secret)
    }

    fn find(&self, id: &[u8]) -> Option<&TicketKey> {
        std::iter::once(&self.current)
            .chain(&self.previous)
            .find(|k| k.0.id.as_slice() == id)
    }
}

impl fmt::Debug for TicketKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hex = |id: &[u8; 4]| id.iter().map(|b| format!("{b:02x}")).collect::<String>();
        f.debug_struct("TicketKeys")
            .field("current_id", &hex(&self.current.id()))
            .field(
                "previous_ids",
                &self
                    .previous
                    .iter()
                    .map(|k| hex(&k.id()))
                    .collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

/// The ticket keys a server uses now, replaceable while it runs (a fleet
/// rotating its keys, or a key source such as Redis pushing new ones):
/// connections read the keys once per handshake, without waiting on I/O.
#[derive(Debug)]
pub struct TicketKeyring(RwLock<Arc<TicketKeys>>);

impl TicketKeyring {
    /// A keyring holding `keys`.
    pub fn new(keys: TicketKeys) -> Self {
        Self(RwLock::new(Arc::new(keys)))
    }

    /// The keys in use now.
    pub fn keys(&self) -> Arc<TicketKeys> {
        match self.0.read() {
            Ok(keys) => keys.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Replaces the keys; handshakes from now on use `keys`.
    pub fn replace(&self, keys: TicketKeys) {
        let keys = Arc::new(keys);
        match self.0.write() {
            Ok(mut slot) => *slot = keys,
            Err(poisoned) => *poisoned.into_inner() = keys,
        }
    }
}

/// What a ticket carries (its plaintext).
pub(crate) struct TicketContents {
    pub(crate) issued_at: Time,
    pub(crate) lifetime: Duration,
    /// When the client last ran a full handshake (kept across resumptions).
    pub(crate) authenticated_at: Time,
    pub(crate) pattern: Pattern,
    pub(crate) psk: Zeroizing<[u8; HASH_LEN]>,
    pub(crate) device: Option<PublicKey>,
    pub(crate) identity: Option<Bytes>,
}

/// Why a server would not resume with a ticket (the client then runs a
/// full handshake on the same connection).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TicketRefusal {
    /// The server has no ticket keys, or does not accept the ticket's pattern.
    NotEnabled,
    /// No key with the ticket's key id (rotated out, or another fleet's).
    UnknownKey,
    /// The ticket does not open under its key (forged or corrupted).
    Forged,
    /// The ticket's lifetime, or the resumption age limit, has passed (or
    /// it claims to be issued in the future).
    Expired,
}

impl TicketRefusal {
    /// A short name for logs and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotEnabled => "not_enabled",
            Self::UnknownKey => "unknown_key",
            Self::Forged => "forged",
            Self::Expired => "expired",
        }
    }
}

impl fmt::Display for TicketRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NotEnabled => "resumption is not enabled for this ticket",
            Self::UnknownKey => "the ticket's key is not held (rotated out?)",
            Self::Forged => "the ticket does not open under its key",
            Self::Expired => "the ticket has expired",
        })
    }
}

/// Seals `contents` under the current key of `keys`, with a nonce from
/// `rng`, appending the ticket to `out` (so a record payload can be built
/// around it without a copy).
pub(crate) fn seal(
    keys: &TicketKeys,
    rng: &dyn SecureRandom,
    contents: &TicketContents,
    out: &mut Vec<u8>,
) -> Result<(), Error> {
    let identity = contents.identity.as_deref();
    let identity_len = identity.map_or(0, <[u8]>::len);
    if identity_len > MAX_IDENTITY_LEN {
        return Err(Error::Internal("ticket identity too long"));
    }
    let lifetime = u32::try_from(contents.lifetime.as_secs())
        .map_err(|_| Error::Internal("ticket lifetime"))?;
    let aead = keys.current.aead()?;
    // Room for the whole ticket: nothing is reallocated, so no copy of the
    // psk is left behind.
    out.reserve(identity_len.saturating_add(OVERHEAD + PLAINTEXT_FIXED));
    let start = out.len();
    out.extend_from_slice(&keys.current.id());
    let mut nonce = [0u8; NONCE_LEN];
    rng.fill(&mut nonce)?;
    out.extend_from_slice(&nonce);
    let body = out.len();
    out.extend_from_slice(&contents.issued_at.as_millis().to_be_bytes());
    out.extend_from_slice(&lifetime.to_be_bytes());
    out.extend_from_slice(&contents.authenticated_at.as_millis().to_be_bytes());
    out.push(contents.pattern.to_u8());
    out.extend_from_slice(contents.psk.as_ref());
    match contents.device {
        Some(key) => {
            out.push(KEY_LEN as u8);
            out.extend_from_slice(key.as_bytes());
        }
        None => out.push(0),
    }
    out.push(u8::from(identity.is_some()));
    let len16 = u16::try_from(identity_len).map_err(|_| Error::Internal("identity length"))?;
    out.extend_from_slice(&len16.to_be_bytes());
    out.extend_from_slice(identity.unwrap_or_default());
    let (head, plain) = out.split_at_mut(body);
    let aad = head.get(start..).ok_or(Error::Internal("ticket aad"))?;
    let tag = aead.seal_in_place(&nonce, aad, plain)?;
    out.extend_from_slice(&tag);
    Ok(())
}

/// Opens a ticket and checks its times against `now` and `max_age` (how
/// long after the last full handshake a client may resume). The ticket is
/// decrypted in a copy on the stack, wiped afterwards.
pub(crate) fn open(
    keys: &TicketKeys,
    ticket: &[u8],
    now: Time,
    max_age: Duration,
) -> Result<TicketContents, TicketRefusal> {
    let (id, rest) = ticket
        .split_at_checked(TICKET_KEY_ID_LEN)
        .ok_or(TicketRefusal::Forged)?;
    let key = keys.find(id).ok_or(TicketRefusal::UnknownKey)?;
    let (nonce, sealed) = rest
        .split_first_chunk::<NONCE_LEN>()
        .ok_or(TicketRefusal::Forged)?;
    if sealed.len() < TAG_LEN {
        return Err(TicketRefusal::Forged);
    }
    let aad = ticket
        .get(..TICKET_KEY_ID_LEN + NONCE_LEN)
        .ok_or(TicketRefusal::Forged)?;
    let aead = key.aead().map_err(|_| TicketRefusal::Forged)?;
    let mut buf = Zeroizing::new([0u8; crate::wire::limits::MAX_TICKET_LEN]);
    let plain = buf.get_mut(..sealed.len()).ok_or(TicketRefusal::Forged)?;
    plain.copy_from_slice(sealed);
    let len = aead
        .open_in_place(nonce, aad, plain)
        .map_err(|_| TicketRefusal::Forged)?;
    let contents =
        parse(plain.get(..len).ok_or(TicketRefusal::Forged)?).ok_or(TicketRefusal::Forged)?;
    if now.saturating_add(MAX_FUTURE) < contents.issued_at
        || contents.issued_at.saturating_add(contents.lifetime) <= now
        || contents.authenticated_at.saturating_add(max_age) <= now
    {
        return Err(TicketRefusal::Expired);
    }
    Ok(contents)
}

/// Parses an opened ticket's plaintext (only a bug or a leaked key could
/// make it malformed: `None`).
fn parse(plain: &[u8]) -> Option<TicketContents> {
    let mut r = crate::wire::Reader::new(plain);
    let what = crate::error::DecodeReason::TrailingBytes;
    let issued_at = Time::from_millis(u64::from_be_bytes(r.array(what).ok()?));
    let lifetime = Duration::from_secs(u64::from(u32::from_be_bytes(r.array(what).ok()?)));
    let authenticated_at = Time::from_millis(u64::from_be_bytes(r.array(what).ok()?));
    let pattern = Pattern::from_u8(r.u8(what).ok()?)?;
    let psk = Zeroizing::new(r.array::<HASH_LEN>(what).ok()?);
    let device = match r.u8(what).ok()? {
        0 => None,
        32 => Some(PublicKey::from_bytes(r.array(what).ok()?)),
        _ => return None,
    };
    let has_identity = r.u8(what).ok()?;
    let identity_len = usize::from(u16::from_be_bytes(r.array(what).ok()?));
    let identity = r.take(identity_len, what).ok()?;
    let identity = match has_identity {
        0 if identity.is_empty() => None,
        1 if identity_len <= MAX_IDENTITY_LEN => Some(Bytes::copy_from_slice(identity)),
        _ => return None,
    };
    r.finish(what).ok()?;
    if lifetime > MAX_TICKET_LIFETIME || (pattern == Pattern::Ik) != device.is_some() {
        return None;
    }
    Some(TicketContents {
        issued_at,
        lifetime,
        authenticated_at,
        pattern,
        psk,
        device,
        identity,
    })
}

/// A ticket a client keeps to resume with: the opaque ticket the server
/// sent, the resumption secret it stands for, when it expires and the
/// pattern of the full handshake behind it.
///
/// **It holds a secret**: whoever has it can resume the session (as this
/// device, for an IK ticket) until it expires. Store it like a key
/// ([`to_bytes`](Self::to_bytes)), use it once
/// ([`Connection::resume`](crate::Connection::resume) takes it by value),
/// and forget it after use: the resumed connection brings a new one.
#[derive(Clone)]
pub struct ResumptionTicket {
    pub(crate) ticket: Bytes,
    pub(crate) psk: Zeroizing<[u8; HASH_LEN]>,
    pub(crate) expires: Time,
    pub(crate) pattern: Pattern,
}

/// The first bytes of [`ResumptionTicket::to_bytes`].
const STORED_MAGIC: &[u8; 4] = b"lwt1";

impl ResumptionTicket {
    /// When the server stops accepting the ticket (the client's clock when
    /// the ticket arrived, plus the lifetime the server gave).
    pub fn expires(&self) -> Time {
        self.expires
    }

    /// Whether the ticket has expired at `now` (an expired ticket is not
    /// sent: the connection runs a full handshake at once).
    pub fn is_expired(&self, now: Time) -> bool {
        self.expires <= now
    }

    /// The pattern of the full handshake the ticket descends from (`IK`: the
    /// server resumes the device's identity).
    pub fn pattern(&self) -> Pattern {
        self.pattern
    }

    /// The opaque ticket bytes, as sent on the wire.
    pub fn ticket(&self) -> &[u8] {
        &self.ticket
    }

    /// The ticket as bytes to store (secret: see the type's notes), read
    /// back by [`from_bytes`](Self::from_bytes):
    /// `"lwt1" || expires (8, ms) || pattern (1) || psk (32) || ticket_len (2) || ticket`.
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(Vec::with_capacity(
            47usize.saturating_add(self.ticket.len()),
        ));
        out.extend_from_slice(STORED_MAGIC);
        out.extend_from_slice(&self.expires.as_millis().to_be_bytes());
        out.push(self.pattern.to_u8());
        out.extend_from_slice(self.psk.as_ref());
        let len = u16::try_from(self.ticket.len()).unwrap_or(u16::MAX);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&self.ticket);
        out
    }

    /// Reads a ticket stored by [`to_bytes`](Self::to_bytes); fails with
    /// [`Error::InvalidArgument`] on anything else.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        let bad = Error::InvalidArgument("not a stored lwsec resumption ticket");
        let mut r = crate::wire::Reader::new(bytes);
        let what = crate::error::DecodeReason::TrailingBytes;
        if r.array::<4>(what).map_err(|_| bad.clone())? != *STORED_MAGIC {
            return Err(bad);
        }
        let expires =
            Time::from_millis(u64::from_be_bytes(r.array(what).map_err(|_| bad.clone())?));
        let pattern = Pattern::from_u8(r.u8(what).map_err(|_| bad.clone())?).ok_or(bad.clone())?;
        let psk = Zeroizing::new(r.array::<HASH_LEN>(what).map_err(|_| bad.clone())?);
        let len = usize::from(u16::from_be_bytes(r.array(what).map_err(|_| bad.clone())?));
        let ticket = r.take(len, what).map_err(|_| bad.clone())?;
        r.finish(what).map_err(|_| bad.clone())?;
        crate::wire::hello::check_ticket_len(ticket.len()).map_err(|_| bad)?;
        Ok(Self {
            ticket: Bytes::copy_from_slice(ticket),
            psk,
            expires,
            pattern,
        })
    }
}

impl PartialEq for ResumptionTicket {
    fn eq(&self, other: &Self) -> bool {
        bool::from(self.psk.as_ref().ct_eq(other.psk.as_ref()))
            && self.ticket == other.ticket
            && self.expires == other.expires
            && self.pattern == other.pattern
    }
}

impl Eq for ResumptionTicket {}

impl fmt::Debug for ResumptionTicket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResumptionTicket")
            .field("pattern", &self.pattern)
            .field("expires", &self.expires)
            .field("ticket_len", &self.ticket.len())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::providers;
    use crate::rng::OsRandom;

    fn contents(now: Time) -> TicketContents {
        TicketContents {
            issued_at: now,
            lifetime: Duration::from_secs(3600),
            authenticated_at: now,
            pattern: Pattern::Ik,
            psk: Zeroizing::new([7; 32]),
            device: Some(PublicKey::from_bytes([9; 32])),
            identity: Some(Bytes::from_static(b"alice")),
        }
    }

    const DAY: Duration = Duration::from_secs(86_400);

    fn sealed(keys: &TicketKeys, now: Time) -> Vec<u8> {
        let mut t = Vec::new();
        seal(keys, &OsRandom, &contents(now), &mut t).unwrap();
        t
    }

    #[test]
    fn a_ticket_opens_under_any_provider_and_any_held_key() {
        let now = Time::from_millis(1_000_000_000);
        let keys = TicketKeys::new([1; 32]);
        let t = sealed(&keys, now);
        let c = open(&keys, &t, now, DAY).unwrap();
        assert_eq!(*c.psk, [7; 32]);
        assert_eq!(c.identity.as_deref(), Some(&b"alice"[..]));
        assert_eq!(c.device, Some(PublicKey::from_bytes([9; 32])));
        // Every provider's AES-256-GCM opens it.
        for p in providers() {
            let mut k = [0u8; 32];
            hash::expand_label(p, &[1; 32], b"ticket", &[], &mut k).unwrap();
            let aead = AeadKey::new(p, Suite::Aes256Gcm, &k).unwrap();
            let mut body = t[16..].to_vec();
            let nonce: [u8; 12] = t[4..16].try_into().unwrap();
            assert!(aead.open_in_place(&nonce, &t[..16], &mut body).is_ok());
        }
        // After a rotation the old key still opens it, after three more
        // it is gone.
        let rotated = keys.rotated([2; 32]);
        assert!(open(&rotated, &t, now, DAY).is_ok());
        let gone = rotated.rotated([3; 32]).rotated([4; 32]).rotated([5; 32]);
        assert_eq!(
            open(&gone, &t, now, DAY).err(),
            Some(TicketRefusal::UnknownKey)
        );
    }

    #[test]
    fn every_flipped_bit_and_every_expiry_is_refused() {
        let now = Time::from_millis(1_000_000_000);
        let keys = TicketKeys::new([1; 32]);
        let t = sealed(&keys, now);
        for i in 0..t.len() {
            let mut bad = t.clone();
            bad[i] ^= 0x01;
            let refusal = open(&keys, &bad, now, DAY).err();
            assert!(
                matches!(
                    refusal,
                    Some(TicketRefusal::Forged | TicketRefusal::UnknownKey)
                ),
                "byte {i}: {refusal:?}"
            );
        }
        for len in 0..t.len() {
            assert!(open(&keys, &t[..len], now, DAY).is_err());
        }
        let later = now.saturating_add(Duration::from_secs(3600));
        assert_eq!(
            open(&keys, &t, later, DAY).err(),
            Some(TicketRefusal::Expired)
        );
        assert_eq!(
            open(&keys, &t, now, Duration::from_secs(0)).err(),
            Some(TicketRefusal::Expired)
        );
        let past = Time::from_millis(now.as_millis() - 6_000);
        assert_eq!(
            open(&keys, &t, past, DAY).err(),
            Some(TicketRefusal::Expired)
        );
        assert_eq!(
            open(&TicketKeys::new([2; 32]), &t, now, DAY).err(),
            Some(TicketRefusal::UnknownKey)
        );
    }

    #[test]
    fn two_tickets_of_the_same_session_share_no_bytes_but_the_key_id() {
        let now = Time::from_millis(1);
        let keys = TicketKeys::new([1; 32]);
        let a = sealed(&keys, now);
        let b = sealed(&keys, now);
        assert_eq!(a[..4], b[..4]);
        let same = a[4..].iter().zip(&b[4..]).filter(|(x, y)| x == y).count();
        assert!(same < a.len() / 8, "{same} equal bytes");
    }

    #[test]
    fn a_stored_ticket_round_trips_and_junk_is_refused() {
        let t = ResumptionTicket {
            ticket: Bytes::from_static(&[5; 100]),
            psk: Zeroizing::new([3; 32]),
            expires: Time::from_millis(42),
            pattern: Pattern::Nk,
        };
        let bytes = t.to_bytes();
        assert_eq!(ResumptionTicket::from_bytes(&bytes).unwrap(), t);
        for len in 0..bytes.len() {
            assert!(ResumptionTicket::from_bytes(&bytes[..len]).is_err());
        }
        let mut long = bytes.to_vec();
        long.push(0);
        assert!(ResumptionTicket::from_bytes(&long).is_err());
        assert!(!format!("{t:?}").contains("3, 3"));
    }

    #[test]
    fn the_keyring_hands_out_the_keys_it_was_last_given() {
        let ring = TicketKeyring::new(TicketKeys::new([1; 32]));
        let first = ring.keys().current_id();
        ring.replace(ring.keys().rotated([2; 32]));
        assert_ne!(ring.keys().current_id(), first);
        assert_eq!(ring.keys().ids()[1], first);
    }
}
