//! Record protection (`spec/PROTOCOL.md` section 8): TLS 1.3-style records
//! with a 3-byte header as AAD, a per-record nonce of IV XOR sequence
//! number, and an inner plaintext of `payload || content type || zeros`.

mod content;
mod padding;

pub use content::ContentType;
pub use padding::Padding;

use bytes::BytesMut;

use crate::crypto::CryptoProvider;
use crate::crypto::aead::{AeadKey, NONCE_LEN, TAG_LEN};
use crate::crypto::hash::HASH_LEN;
use crate::error::Error;
use crate::key_schedule::{self, Secret};
use crate::suite::Suite;
use crate::wire::frame::{FrameHeader, FrameType, HEADER_LEN};

/// Largest application payload in one record.
pub const MAX_FRAGMENT_LEN: usize = 16384;
/// Largest inner plaintext: payload, content type and padding.
pub(crate) const MAX_INNER_LEN: usize = MAX_FRAGMENT_LEN + 1;
/// Largest record body (ciphertext and tag).
pub(crate) const MAX_CIPHERTEXT_LEN: usize = MAX_INNER_LEN + TAG_LEN;
/// Largest record on the wire, header included.
pub const MAX_RECORD_LEN: usize = HEADER_LEN + MAX_CIPHERTEXT_LEN;

/// The keys of one direction under one traffic secret.
pub(crate) struct DirectionKeys {
    provider: &'static CryptoProvider,
    suite: Suite,
    secret: Secret,
    aead: AeadKey,
    iv: [u8; NONCE_LEN],
    /// Sequence number of the next record; never wraps.
    seq: u64,
}

impl DirectionKeys {
    pub(crate) fn new(
        provider: &'static CryptoProvider,
        suite: Suite,
        secret: Secret,
    ) -> Result<Self, Error> {
        let (key, iv) = key_schedule::record_key_iv(provider, &secret)?;
        Ok(Self {
            provider,
            suite,
            aead: AeadKey::new(provider, suite, &key)?,
            secret,
            iv,
            seq: 0,
        })
    }

    /// Moves to the next traffic secret; the sequence number restarts at 0.
    pub(crate) fn update(&mut self) -> Result<(), Error> {
        let next = key_schedule::next_traffic_secret(self.provider, &self.secret)?;
        *self = Self::new(self.provider, self.suite, next)?;
        Ok(())
    }

    /// Sequence number of the next record.
    pub(crate) fn seq(&self) -> u64 {
        self.seq
    }

    /// The current traffic secret (for vectors and tests).
    pub(crate) fn secret(&self) -> &[u8; HASH_LEN] {
        &self.secret
    }

    fn nonce(&self) -> [u8; NONCE_LEN] {
        let mut nonce = self.iv;
        for (n, s) in nonce.iter_mut().skip(4).zip(self.seq.to_be_bytes()) {
            *n ^= s;
        }
        nonce
    }

    /// The sequence number after this record, refusing to reach `u64::MAX`
    /// so that a nonce is never reused.
    fn next_seq(&self) -> Result<u64, Error> {
        self.seq
            .checked_add(1)
            .filter(|s| *s != u64::MAX)
            .ok_or(Error::SequenceExhausted)
    }

    /// Appends one sealed record to `out`. Nothing is appended on failure.
    pub(crate) fn seal(
        &mut self,
        out: &mut BytesMut,
        content_type: ContentType,
        payload: &[u8],
        padding: &Padding,
    ) -> Result<(), Error> {
        if payload.len() > MAX_FRAGMENT_LEN {
            return Err(Error::RecordOverflow);
        }
        let next = self.next_seq()?;
        let unpadded = payload.len().saturating_add(1);
        let inner_len = padding.padded_len(unpadded);
        let pad = inner_len.saturating_sub(unpadded);
        let header = FrameHeader::encode(FrameType::Record, inner_len.saturating_add(TAG_LEN))?;
        let start = out.len();
        out.reserve(HEADER_LEN.saturating_add(inner_len).saturating_add(TAG_LEN));
        out.extend_from_slice(&header);
        out.extend_from_slice(payload);
        out.extend_from_slice(&[content_type.to_u8()]);
        out.resize(out.len().saturating_add(pad), 0);
        let body_start = start.saturating_add(HEADER_LEN);
        let sealed = match out.get_mut(body_start..) {
            Some(body) => self.aead.seal_in_place(&self.nonce(), &header, body),
            None => Err(Error::RecordOverflow),
        };
        match sealed {
            Ok(tag) => {
                out.extend_from_slice(&tag);
                self.seq = next;
                Ok(())
            }
            Err(e) => {
                out.truncate(start);
                Err(e)
            }
        }
    }

    /// Opens one record in place. `body` is the ciphertext and tag; on
    /// success returns the content type and the payload length (the payload
    /// is `body[..len]`). On failure nothing changes and no plaintext is
    /// exposed: the sequence number is not advanced.
    pub(crate) fn open(
        &mut self,
        header: &[u8; HEADER_LEN],
        body: &mut [u8],
    ) -> Result<(ContentType, usize), Error> {
        let next = self.next_seq()?;
        if body.len() < TAG_LEN {
            return Err(Error::BadRecordMac);
        }
        let inner_len = self
            .aead
            .open_in_place(&self.nonce(), header, body)
            .map_err(|_| Error::BadRecordMac)?;
        let inner = body.get(..inner_len).ok_or(Error::BadRecordMac)?;
        self.seq = next;
        // The content type is the last non-zero byte; everything after it is padding.
        let type_at = inner
            .iter()
            .rposition(|b| *b != 0)
            .ok_or(Error::UnexpectedMessage("record without a content type"))?;
        let type_byte = inner.get(type_at).copied().unwrap_or(0);
        let content_type = ContentType::from_u8(type_byte)
            .ok_or(Error::UnexpectedMessage("unknown record content type"))?;
        Ok((content_type, type_at))
    }
}
