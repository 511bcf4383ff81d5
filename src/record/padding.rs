//! Padding policies for length hiding.

use crate::error::Error;
use crate::wire::limits::MAX_INNER_LEN;

/// How records are padded to hide the length of their content.
///
/// Padding is applied to the inner plaintext (`payload || content type`) of
/// every record, and never beyond the maximum inner length of 16385 bytes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Padding {
    /// No padding: the record length reveals the payload length.
    #[default]
    None,
    /// Pad the inner plaintext up to a multiple of this many bytes (1 to 16384).
    MultipleOf(u16),
    /// Pad the inner plaintext up to the smallest of these sizes that fits, or
    /// to the maximum record size when none fits. Sizes must be 1 to 16385,
    /// strictly increasing.
    Buckets(Vec<u16>),
}

impl Padding {
    /// The padded inner plaintext length for an unpadded one.
    pub(crate) fn padded_len(&self, inner_len: usize) -> usize {
        let padded = match self {
            Self::None => inner_len,
            Self::MultipleOf(n) => {
                let n = usize::from(*n).max(1);
                inner_len.div_ceil(n).saturating_mul(n)
            }
            Self::Buckets(sizes) => sizes
                .iter()
                .map(|s| usize::from(*s))
                .find(|s| *s >= inner_len)
                .unwrap_or(MAX_INNER_LEN),
        };
        padded.clamp(inner_len, MAX_INNER_LEN.max(inner_len))
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        match self {
            Self::None => Ok(()),
            Self::MultipleOf(n) if *n >= 1 && usize::from(*n) < MAX_INNER_LEN => Ok(()),
            Self::MultipleOf(_) => Err(Error::InvalidConfig(
                "Padding::MultipleOf must be 1 to 16384",
            )),
            Self::Buckets(sizes)
                if !sizes.is_empty()
                    && sizes.windows(2).all(|w| matches!(w, [a, b] if a < b))
                    && sizes
                        .iter()
                        .all(|s| *s >= 1 && usize::from(*s) <= MAX_INNER_LEN) =>
            {
                Ok(())
            }
            Self::Buckets(_) => Err(Error::InvalidConfig(
                "Padding::Buckets must be non-empty, strictly increasing sizes of 1 to 16385",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padded_lengths() {
        assert_eq!(Padding::None.padded_len(5), 5);
        assert_eq!(Padding::MultipleOf(16).padded_len(1), 16);
        assert_eq!(Padding::MultipleOf(16).padded_len(16), 16);
        assert_eq!(Padding::MultipleOf(16).padded_len(17), 32);
        assert_eq!(Padding::MultipleOf(10000).padded_len(16385), 16385);
        let b = Padding::Buckets(vec![64, 256, 1024]);
        assert_eq!(b.padded_len(1), 64);
        assert_eq!(b.padded_len(65), 256);
        assert_eq!(b.padded_len(2000), MAX_INNER_LEN);
        assert!(Padding::Buckets(vec![64, 64]).validate().is_err());
        assert!(Padding::MultipleOf(0).validate().is_err());
        assert!(b.validate().is_ok());
    }
}
