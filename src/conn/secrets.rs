//! Key material leaving a connection: the secrets handed to another record
//! layer (opt-in), and, with the `dangerous` feature, a peek at live secrets
//! for tests and vectors. Anyone holding these can read and forge the
//! connection, hence the `dangerous_` names.

use zeroize::Zeroizing;

use super::Connection;
use super::established::Established;
use crate::error::Error;
use crate::key_schedule;

/// The current key material of one direction, from
/// [`Connection::dangerous_extract_secrets`].
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DirectionSecrets {
    /// The traffic secret.
    pub secret: Zeroizing<[u8; 32]>,
    /// The AEAD key derived from it.
    pub key: Zeroizing<[u8; 32]>,
    /// The IV derived from it.
    pub iv: [u8; 12],
    /// The sequence number of the next record.
    pub seq: u64,
}

impl std::fmt::Debug for DirectionSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DirectionSecrets(<redacted>)")
    }
}

/// A connection's current key material, both directions.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExtractedSecrets {
    /// What this side sends with.
    pub send: DirectionSecrets,
    /// What this side receives with.
    pub recv: DirectionSecrets,
}

impl Connection {
    /// Hands this established connection's keys over to another record
    /// layer (a kernel or hardware offload): the traffic secrets, keys, IVs
    /// and next sequence numbers of both directions. The connection is
    /// consumed, so no record can be sent or read twice under the same
    /// nonce. Needs [`TransportConfig::enable_secret_extraction`](crate::TransportConfig::enable_secret_extraction); fails with
    /// [`Error::InvalidConfig`] without it and with
    /// [`Error::HandshakeNotComplete`] before the handshake completed.
    /// Anyone holding the result can read and forge this connection.
    pub fn dangerous_extract_secrets(self) -> Result<ExtractedSecrets, Error> {
        let established = self.established().ok_or(Error::HandshakeNotComplete)?;
        if !established.keys.config().enable_secret_extraction {
            return Err(Error::InvalidConfig(
                "secret extraction is off (TransportConfig::enable_secret_extraction)",
            ));
        }
        secrets_of(established).ok_or(Error::Internal("record key derivation failed"))
    }

    /// The current traffic secrets, keys, IVs and sequence numbers, leaving
    /// the connection running: for known-answer vectors and tests only
    /// (feature `dangerous`). `None` before the handshake completed.
    #[cfg(feature = "dangerous")]
    #[cfg_attr(docsrs, doc(cfg(feature = "dangerous")))]
    pub fn dangerous_peek_secrets(&self) -> Option<ExtractedSecrets> {
        secrets_of(self.established()?)
    }
}

fn secrets_of(established: &Established) -> Option<ExtractedSecrets> {
    let t = &established.keys;
    let (send, recv) = t.traffic_secrets();
    let (send_seq, recv_seq) = t.sequence_numbers();
    let direction = |secret: &[u8; 32], seq| {
        let (key, iv) = key_schedule::record_key_iv(t.provider(), secret).ok()?;
        Some(DirectionSecrets {
            secret: Zeroizing::new(*secret),
            key,
            iv,
            seq,
        })
    };
    Some(ExtractedSecrets {
        send: direction(send, send_seq)?,
        recv: direction(recv, recv_seq)?,
    })
}
