//! The send buffer: frames waiting for the transport, sealed in place.

use zeroize::Zeroize;

/// Bytes waiting to be sent: `buf[start..end]`.
///
/// Records are sealed straight into `buf[end..]` (out of place from the
/// caller's message where the provider can, see `Aead::seal_to`). Safe Rust
/// cannot hand uninitialised memory to an AEAD, so `buf.len()` is the
/// initialised part of the allocation: it is zero-filled only the first time
/// the buffer grows that far, and afterwards reused as it is (old ciphertext
/// is overwritten, never exposed: only `start..end` is readable).
#[derive(Default)]
pub(crate) struct Output {
    buf: Vec<u8>,
    start: usize,
    end: usize,
}

impl Output {
    /// The bytes waiting to be sent.
    #[inline]
    pub(crate) fn pending(&self) -> &[u8] {
        self.buf.get(self.start..self.end).unwrap_or_default()
    }

    /// How many bytes are waiting.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.end.saturating_sub(self.start)
    }

    /// Whether nothing is waiting.
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.start == self.end
    }

    /// Bytes of heap memory held.
    #[cfg(test)]
    pub(crate) fn capacity(&self) -> usize {
        self.buf.capacity()
    }

    /// Marks the first `n` waiting bytes as sent.
    #[inline]
    pub(crate) fn consume(&mut self, n: usize) {
        self.start = self.start.saturating_add(n).min(self.end);
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
    }

    /// Makes sure `additional` more bytes fit without reallocating.
    pub(crate) fn reserve(&mut self, additional: usize) {
        let needed = self.end.saturating_add(additional);
        if needed > self.buf.capacity() {
            self.buf.reserve(needed.saturating_sub(self.buf.len()));
        }
    }

    /// Appends `n` bytes and returns them for the caller to fill, with the
    /// mark to pass to [`Output::truncate`] to take them back. Their content
    /// is unspecified (zeros or bytes sent earlier).
    #[inline]
    pub(crate) fn append(&mut self, n: usize) -> (usize, &mut [u8]) {
        if self.end.saturating_add(n) > self.buf.len() {
            self.make_room(n);
        }
        let mark = self.end;
        let end = mark.saturating_add(n);
        self.end = end;
        // `make_room` guarantees `end <= buf.len()`; the fallback is never taken.
        (mark, self.buf.get_mut(mark..end).unwrap_or_default())
    }

    /// Moves the waiting bytes to the front and grows the initialised part
    /// so that `n` more bytes fit after them.
    #[cold]
    fn make_room(&mut self, n: usize) {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end = self.len();
            self.start = 0;
        }
        let needed = self.end.saturating_add(n);
        if needed > self.buf.len() {
            self.buf.resize(needed, 0);
        }
    }

    /// Appends `data`.
    #[inline]
    pub(crate) fn put(&mut self, data: &[u8]) {
        self.append(data.len()).1.copy_from_slice(data);
    }

    /// Takes back everything appended since `mark` (from [`Output::append`]),
    /// wiping it.
    pub(crate) fn truncate(&mut self, mark: usize) {
        if mark < self.end && mark >= self.start {
            if let Some(taken) = self.buf.get_mut(mark..self.end) {
                taken.zeroize();
            }
            self.end = mark;
        }
    }

    /// Frees the buffer when nothing is waiting.
    pub(crate) fn release(&mut self) {
        if self.is_empty() {
            *self = Self::default();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_consumes_and_reuses_the_buffer() {
        let mut out = Output::default();
        out.put(b"hello ");
        out.put(b"world");
        assert_eq!(out.pending(), b"hello world");
        out.consume(6);
        assert_eq!(out.pending(), b"world");
        // Growing past the initialised part moves the waiting bytes forward.
        let (_, region) = out.append(32);
        region.fill(b'!');
        assert_eq!(out.len(), 37);
        assert!(out.pending().starts_with(b"world!!"));
        out.consume(usize::MAX);
        assert!(out.is_empty());
        // Once everything is sent, appends start at the front again without
        // growing.
        let capacity = out.capacity();
        out.put(b"again");
        assert_eq!(out.pending(), b"again");
        assert_eq!(out.capacity(), capacity);
    }

    #[test]
    fn truncate_takes_back_and_wipes() {
        let mut out = Output::default();
        out.put(b"kept");
        let (mark, region) = out.append(4);
        region.copy_from_slice(b"gone");
        out.truncate(mark);
        assert_eq!(out.pending(), b"kept");
        assert!(!out.buf.windows(4).any(|w| w == b"gone"));
        // A stale mark (before what is waiting) changes nothing.
        out.consume(2);
        out.truncate(0);
        assert_eq!(out.pending(), b"pt");
    }

    #[test]
    fn release_frees_only_when_empty() {
        let mut out = Output::default();
        out.put(&[1; 100]);
        out.release();
        assert_eq!(out.len(), 100);
        out.consume(100);
        out.release();
        assert_eq!(out.capacity(), 0);
    }
}
