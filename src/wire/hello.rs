//! The ClientHello header (the cleartext part of the client's first flight)
//! and the server's stateless Retry.

use crate::error::Error;
use crate::error::{DecodeReason, IllegalReason};
use crate::suite::Pattern;
use crate::wire::Reader;
use crate::wire::limits::{KEY_ID_LEN, MAX_TICKET_LEN};

/// The first two bytes of every ClientHello header: ASCII `lw`.
pub(crate) const MAGIC: [u8; 2] = *b"lw";
/// The protocol version this implementation speaks.
pub(crate) const VERSION: u8 = 1;
/// Most suites a client may offer.
pub(crate) const MAX_SUITES: usize = 8;
/// Longest cookie a Retry may carry.
pub(crate) const MAX_COOKIE_LEN: usize = 64;
/// ClientHello flag: the first flight carries early data.
pub(crate) const FLAG_EARLY_DATA: u8 = 0x01;
/// The header's pattern code for a resumption (Noise `NNpsk0`, section 4.11):
/// the header then ends with the ticket.
pub(crate) const RESUME_PATTERN: u8 = 0x03;
/// A ticket's length on the wire: 1 to [`MAX_TICKET_LEN`] (section 4.11).
pub(crate) fn check_ticket_len(len: usize) -> Result<(), Error> {
    if len == 0 || len > MAX_TICKET_LEN {
        return Err(Error::Decode(DecodeReason::TicketLength));
    }
    Ok(())
}

/// The label that starts every prologue.
pub(crate) const PROLOGUE_LABEL: &[u8] = b"lwsec/1 prologue";

/// The server's stateless answer to a ClientHello it will not process as is:
/// `suite (1) || cookie_len (1) || cookie`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Retry {
    /// The suite the server selected; the retried ClientHello must use it.
    pub(crate) suite: u8,
    /// A cookie to echo (empty when the server asked for none).
    pub(crate) cookie: Vec<u8>,
}

impl Retry {
    pub(crate) fn encode(&self, out: &mut Vec<u8>) -> Result<(), Error> {
        let len =
            u8::try_from(self.cookie.len()).map_err(|_| Error::Internal("cookie too long"))?;
        if self.cookie.len() > MAX_COOKIE_LEN {
            return Err(Error::Internal("cookie too long"));
        }
        out.push(self.suite);
        out.push(len);
        out.extend_from_slice(&self.cookie);
        Ok(())
    }

    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Self, Error> {
        let suite = r.u8(DecodeReason::RetrySuite)?;
        let cookie = r.u8_prefixed(DecodeReason::RetryCookie)?;
        if cookie.len() > MAX_COOKIE_LEN {
            return Err(Error::Decode(DecodeReason::RetryCookieTooLong));
        }
        Ok(Self {
            suite,
            cookie: cookie.to_vec(),
        })
    }

    /// Parses a whole Retry frame body.
    pub(crate) fn decode_body(body: &[u8]) -> Result<Self, Error> {
        let mut r = Reader::new(body);
        let retry = Self::decode(&mut r)?;
        r.finish(DecodeReason::TrailingBytesAfterRetry)?;
        Ok(retry)
    }

    fn encoded_len(&self) -> usize {
        self.cookie.len().saturating_add(2)
    }
}

/// A ClientHello's suite list (at most [`MAX_SUITES`] codes), kept inline
/// so that reading a ClientHello allocates nothing for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SuiteList {
    codes: [u8; MAX_SUITES],
    len: usize,
}

impl SuiteList {
    /// The list of `codes`; fails when there are more than [`MAX_SUITES`].
    pub(crate) fn new(codes: impl IntoIterator<Item = u8>) -> Result<Self, Error> {
        let mut list = Self {
            codes: [0; MAX_SUITES],
            len: 0,
        };
        for code in codes {
            let slot = list
                .codes
                .get_mut(list.len)
                .ok_or(Error::Internal("too many suites"))?;
            *slot = code;
            list.len = list.len.saturating_add(1);
        }
        Ok(list)
    }
}

impl std::ops::Deref for SuiteList {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        self.codes.get(..self.len).unwrap_or_default()
    }
}

/// The cleartext header that starts a ClientHello body. Its encoding is
/// bound into the Noise prologue, so tampering with it fails the handshake.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ClientHelloHeader<'a> {
    pub(crate) pattern: u8,
    /// The suite the Noise message after this header is encrypted with.
    pub(crate) suite: u8,
    /// The client's supported suites, most preferred first.
    pub(crate) suites: SuiteList,
    /// Which server static key the client expects.
    pub(crate) key_id: [u8; KEY_ID_LEN],
    /// Flags: [`FLAG_EARLY_DATA`]; other bits are reserved (zero).
    pub(crate) flags: u8,
    /// The Retry this ClientHello answers, echoed verbatim.
    pub(crate) retry: Option<Retry>,
    /// The resumption ticket: present exactly when `pattern` is
    /// [`RESUME_PATTERN`] (`ticket_len (2) || ticket` ends the header).
    pub(crate) ticket: Option<&'a [u8]>,
}

impl<'a> ClientHelloHeader<'a> {
    pub(crate) fn encode(&self, out: &mut Vec<u8>) -> Result<(), Error> {
        let n = u8::try_from(self.suites.len()).map_err(|_| Error::Internal("too many suites"))?;
        out.extend_from_slice(&MAGIC);
        out.push(VERSION);
        out.push(self.pattern);
        out.push(self.suite);
        out.push(n);
        out.extend_from_slice(&self.suites);
        out.extend_from_slice(&self.key_id);
        out.push(self.flags);
        match &self.retry {
            None => out.push(0),
            Some(retry) => {
                let len = u8::try_from(retry.encoded_len())
                    .map_err(|_| Error::Internal("cookie too long"))?;
                out.push(len);
                retry.encode(out)?;
            }
        }
        if let Some(ticket) = &self.ticket {
            check_ticket_len(ticket.len())?;
            let len = u16::try_from(ticket.len()).map_err(|_| Error::Internal("ticket"))?;
            out.extend_from_slice(&len.to_be_bytes());
            out.extend_from_slice(ticket);
        }
        Ok(())
    }

    /// Parses the header at the start of a ClientHello body and checks every
    /// rule of `spec/PROTOCOL.md` section 4.1 that needs no server policy.
    /// Returns the header and its exact bytes (for the prologue); the
    /// reader is left at the Noise message.
    pub(crate) fn decode(r: &mut Reader<'a>, body: &'a [u8]) -> Result<(Self, &'a [u8]), Error> {
        let start = body.len().saturating_sub(r.remaining());
        if r.array::<2>(DecodeReason::Magic)? != MAGIC {
            return Err(Error::Decode(DecodeReason::BadMagic));
        }
        let version = r.u8(DecodeReason::Version)?;
        if version != VERSION {
            return Err(Error::UnsupportedVersion(version));
        }
        let pattern = r.u8(DecodeReason::Pattern)?;
        let suite = r.u8(DecodeReason::Suite)?;
        let suites = r.u8_prefixed(DecodeReason::SuiteList)?;
        if suites.is_empty() || suites.len() > MAX_SUITES {
            return Err(Error::Decode(DecodeReason::SuiteListLength));
        }
        let key_id = r.array(DecodeReason::ServerKeyId)?;
        let flags = r.u8(DecodeReason::Flags)?;
        let retry_bytes = r.u8_prefixed(DecodeReason::RetryEcho)?;
        let retry = if retry_bytes.is_empty() {
            None
        } else {
            Some(Retry::decode_body(retry_bytes)?)
        };
        let ticket = if pattern == RESUME_PATTERN {
            let len = usize::from(r.u16(DecodeReason::TicketLength)?);
            check_ticket_len(len)?;
            Some(r.take(len, DecodeReason::TicketLength)?)
        } else {
            None
        };
        // The whole structure parsed (decode_error first); now the values
        // (illegal_parameter), in the spec's order.
        for (i, s) in suites.iter().enumerate() {
            if suites.get(..i).is_some_and(|before| before.contains(s)) {
                return Err(Error::IllegalParameter(IllegalReason::DuplicateSuite));
            }
        }
        if !suites.contains(&suite) {
            return Err(Error::IllegalParameter(IllegalReason::FirstSuiteNotListed));
        }
        if flags & !FLAG_EARLY_DATA != 0 {
            return Err(Error::IllegalParameter(IllegalReason::ReservedFlags));
        }
        let end = body.len().saturating_sub(r.remaining());
        let header_bytes = body
            .get(start..end)
            .ok_or(Error::Decode(DecodeReason::HeaderBounds))?;
        let header = Self {
            pattern,
            suite,
            suites: SuiteList::new(suites.iter().copied())?,
            key_id,
            flags,
            retry,
            ticket,
        };
        Ok((header, header_bytes))
    }

    /// The pattern, if this version knows it.
    pub(crate) fn pattern(&self) -> Result<Pattern, Error> {
        Pattern::from_u8(self.pattern).ok_or(Error::UnsupportedPattern)
    }
}

/// The Noise prologue: `"lwsec/1 prologue" || ClientHello header`.
#[cfg(test)]
pub(crate) fn prologue(header_bytes: &[u8]) -> Vec<u8> {
    let mut p = Vec::with_capacity(PROLOGUE_LABEL.len().saturating_add(header_bytes.len()));
    p.extend_from_slice(PROLOGUE_LABEL);
    p.extend_from_slice(header_bytes);
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> ClientHelloHeader<'static> {
        ClientHelloHeader {
            pattern: 1,
            suite: 2,
            suites: SuiteList::new([1, 2]).unwrap(),
            key_id: [9; 8],
            flags: 0,
            retry: Some(Retry {
                suite: 2,
                cookie: vec![5; 3],
            }),
            ticket: None,
        }
    }

    #[test]
    fn header_round_trips_and_leaves_noise_bytes() {
        let mut body = Vec::new();
        header().encode(&mut body).unwrap();
        let header_len = body.len();
        body.extend_from_slice(b"noise");
        let mut r = Reader::new(&body);
        let (decoded, raw) = ClientHelloHeader::decode(&mut r, &body).unwrap();
        assert_eq!(decoded, header());
        assert_eq!(raw.len(), header_len);
        assert_eq!(r.rest(), b"noise");
    }

    #[test]
    fn a_broken_structure_outranks_an_illegal_value() {
        // Duplicate suites, a reserved flag and a Retry echo running past
        // the body: the structure error decides (spec 4.3 step 1).
        let mut h = header();
        h.suites = SuiteList::new([2, 2]).unwrap();
        h.flags = 0x80;
        let mut body = Vec::new();
        h.encode(&mut body).unwrap();
        body.truncate(body.len() - 1);
        let mut r = Reader::new(&body);
        assert!(matches!(
            ClientHelloHeader::decode(&mut r, &body),
            Err(Error::Decode(_))
        ));
    }

    #[test]
    fn header_rules_are_enforced() {
        let mut h = header();
        h.suite = 3;
        let mut body = Vec::new();
        h.encode(&mut body).unwrap();
        let mut r = Reader::new(&body);
        assert!(matches!(
            ClientHelloHeader::decode(&mut r, &body),
            Err(Error::IllegalParameter(_))
        ));

        let mut h = header();
        h.suites = SuiteList::new([2, 2]).unwrap();
        let mut body = Vec::new();
        h.encode(&mut body).unwrap();
        let mut r = Reader::new(&body);
        assert!(matches!(
            ClientHelloHeader::decode(&mut r, &body),
            Err(Error::IllegalParameter(_))
        ));

        let mut body = Vec::new();
        header().encode(&mut body).unwrap();
        body[2] = 9;
        let mut r = Reader::new(&body);
        assert_eq!(
            ClientHelloHeader::decode(&mut r, &body),
            Err(Error::UnsupportedVersion(9))
        );
    }
}
