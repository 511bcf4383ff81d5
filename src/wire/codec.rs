//! A bounds-checked reader over untrusted bytes.

use crate::error::{DecodeReason, Error};

/// Reads big-endian integers and byte strings from a slice; every read
/// checks bounds and fails with [`Error::Decode`] naming the field.
pub(crate) struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Self { rest: bytes }
    }

    pub(crate) fn take(&mut self, len: usize, what: DecodeReason) -> Result<&'a [u8], Error> {
        if self.rest.len() < len {
            return Err(Error::Decode(what));
        }
        let (head, tail) = self.rest.split_at(len);
        self.rest = tail;
        Ok(head)
    }

    pub(crate) fn u8(&mut self, what: DecodeReason) -> Result<u8, Error> {
        let [b] = self.array::<1>(what)?;
        Ok(b)
    }

    pub(crate) fn u16(&mut self, what: DecodeReason) -> Result<u16, Error> {
        Ok(u16::from_be_bytes(self.array(what)?))
    }

    pub(crate) fn array<const N: usize>(&mut self, what: DecodeReason) -> Result<[u8; N], Error> {
        let bytes = self.take(N, what)?;
        let mut out = [0u8; N];
        out.copy_from_slice(bytes);
        Ok(out)
    }

    /// A byte string preceded by its one-byte length.
    pub(crate) fn u8_prefixed(&mut self, what: DecodeReason) -> Result<&'a [u8], Error> {
        let len = self.u8(what)?;
        self.take(usize::from(len), what)
    }

    /// Everything not read yet.
    #[cfg(test)]
    pub(crate) fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.rest)
    }

    /// How many bytes have not been read yet.
    pub(crate) fn remaining(&self) -> usize {
        self.rest.len()
    }

    /// Fails unless every byte was read.
    pub(crate) fn finish(self, what: DecodeReason) -> Result<(), Error> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(Error::Decode(what))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_fail_cleanly_past_the_end() {
        let mut r = Reader::new(&[1, 2, 3]);
        assert_eq!(r.u16(DecodeReason::Version).unwrap(), 0x0102);
        assert_eq!(
            r.u16(DecodeReason::Suite),
            Err(Error::Decode(DecodeReason::Suite))
        );
        assert_eq!(r.u8(DecodeReason::Flags).unwrap(), 3);
        assert!(r.finish(DecodeReason::TrailingBytes).is_ok());
        let r = Reader::new(&[1]);
        assert_eq!(
            r.finish(DecodeReason::TrailingBytes),
            Err(Error::Decode(DecodeReason::TrailingBytes))
        );
    }
}
