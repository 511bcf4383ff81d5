//! Reading a fuzz input as a sequence of choices.

/// A cursor over a fuzz input that reads zeros once the input is
/// exhausted, so that every prefix of an input (and of a seed) is valid.
pub struct Input<'a> {
    data: &'a [u8],
}

impl<'a> Input<'a> {
    /// A cursor at the start of `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Self { data }
    }

    /// Whether the input is exhausted.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The next byte (0 past the end).
    pub fn u8(&mut self) -> u8 {
        match self.data.split_first() {
            Some((b, rest)) => {
                self.data = rest;
                *b
            }
            None => 0,
        }
    }

    /// The next two bytes, big-endian.
    pub fn u16(&mut self) -> u16 {
        u16::from_be_bytes([self.u8(), self.u8()])
    }

    /// The next `N` bytes, XORed with `mask` (so that an exhausted input
    /// still gives distinct keys per role).
    pub fn array<const N: usize>(&mut self, mask: u8) -> [u8; N] {
        std::array::from_fn(|_| self.u8() ^ mask)
    }

    /// The next `n` bytes (zero-filled past the end).
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        let take = n.min(self.data.len());
        let (head, rest) = self.data.split_at(take);
        self.data = rest;
        let mut v = head.to_vec();
        v.resize(n, 0);
        v
    }
}
