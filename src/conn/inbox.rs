//! Received messages waiting for the application, with the memory they
//! keep alive accounted for.

use std::collections::VecDeque;

use bytes::{Buf, Bytes, BytesMut};

/// What each waiting message counts beyond the buffer it keeps alive (its
/// queue slot and handle), so that a flood of empty messages is bounded too.
const MESSAGE_OVERHEAD: usize = 64;

/// A complete message and the bytes it is charged for.
struct Waiting {
    message: Bytes,
    charge: usize,
}

/// Complete messages in order, plus the one being reassembled.
///
/// A single-record message is delivered without a copy: it is a view of
/// the receive buffer. That view keeps the whole buffer allocation alive,
/// so each waiting message is charged for the allocation it pins, not its
/// length; the connection stops reading while the charges reach
/// `max_message_size`. An application that takes messages promptly lets the
/// receive buffer be reused without allocating.
#[derive(Default)]
pub(crate) struct Inbox {
    waiting: VecDeque<Waiting>,
    /// Sum of the charges of `waiting`.
    charged: usize,
    /// The message being reassembled from fragments.
    partial: BytesMut,
    /// Length of the last message reassembled from several records: the
    /// next one starts with that much room, instead of regrowing (and
    /// copying) from one record's size.
    last_reassembled_len: usize,
}

impl Inbox {
    /// Bytes held on behalf of the application (waiting and partial).
    pub(crate) fn held(&self) -> usize {
        self.charged.saturating_add(self.partial.capacity())
    }

    /// Whether no message is waiting or being reassembled.
    pub(crate) fn is_empty(&self) -> bool {
        self.waiting.is_empty() && self.partial.is_empty()
    }

    pub(crate) fn has_waiting(&self) -> bool {
        !self.waiting.is_empty()
    }

    /// Length of the message being reassembled.
    pub(crate) fn partial_len(&self) -> usize {
        self.partial.len()
    }

    /// Appends a fragment of the message being reassembled.
    pub(crate) fn push_fragment(&mut self, fragment: &[u8]) {
        if self.partial.is_empty() {
            // The caller bounds `last_reassembled_len` by `max_message_size`.
            self.partial
                .reserve(self.last_reassembled_len.max(fragment.len()));
        }
        self.partial.extend_from_slice(fragment);
    }

    /// Completes a message with its last fragment. `pinned` is the size of
    /// the receive-buffer allocation `last` is a view of.
    pub(crate) fn push_last(&mut self, last: BytesMut, pinned: usize) {
        let (message, pinned) = if self.partial.is_empty() {
            let len = last.len();
            (last.freeze(), pinned.max(len))
        } else {
            self.partial.extend_from_slice(&last);
            self.last_reassembled_len = self.partial.len();
            let capacity = self.partial.capacity();
            (std::mem::take(&mut self.partial).freeze(), capacity)
        };
        let charge = pinned.saturating_add(MESSAGE_OVERHEAD);
        self.charged = self.charged.saturating_add(charge);
        self.waiting.push_back(Waiting { message, charge });
    }

    /// The next complete message.
    pub(crate) fn pop(&mut self) -> Option<Bytes> {
        let w = self.waiting.pop_front()?;
        self.charged = self.charged.saturating_sub(w.charge);
        Some(w.message)
    }

    /// Length of the next complete message.
    pub(crate) fn front_len(&self) -> Option<usize> {
        self.waiting.front().map(|w| w.message.len())
    }

    /// Copies bytes of complete messages into `buf`, ignoring boundaries.
    pub(crate) fn read(&mut self, buf: &mut [u8]) -> usize {
        let mut copied = 0usize;
        while let Some(front) = self.waiting.front_mut() {
            let Some(dst) = buf.get_mut(copied..) else {
                break;
            };
            if dst.is_empty() {
                break;
            }
            let n = front.message.len().min(dst.len());
            if let (Some(d), Some(s)) = (dst.get_mut(..n), front.message.get(..n)) {
                d.copy_from_slice(s);
            }
            front.message.advance(n);
            copied = copied.saturating_add(n);
            if front.message.is_empty() {
                self.pop();
            }
        }
        copied
    }

    /// Frees the storage of an empty inbox.
    pub(crate) fn release(&mut self) {
        if self.waiting.is_empty() {
            self.waiting = VecDeque::new();
        }
        if self.partial.is_empty() {
            self.partial = BytesMut::new();
        }
    }

    /// Drops the message being reassembled (after a fatal error).
    pub(crate) fn discard_partial(&mut self) {
        self.partial = BytesMut::new();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reassembly_starts_with_room_for_the_previous_message() {
        let mut inbox = Inbox::default();
        let fragment = [7u8; 1000];
        for _ in 0..9 {
            inbox.push_fragment(&fragment);
        }
        inbox.push_last(BytesMut::from(&fragment[..]), 0);
        assert_eq!(inbox.pop().map(|m| m.len()), Some(10_000));
        // The next message gets all its room at its first fragment, so it
        // is never regrown (copied) while being reassembled.
        inbox.push_fragment(&fragment);
        let room = inbox.partial.capacity();
        assert!(room >= 10_000, "{room}");
        for _ in 0..8 {
            inbox.push_fragment(&fragment);
        }
        assert_eq!(inbox.partial.capacity(), room);
        inbox.push_last(BytesMut::from(&fragment[..]), 0);
        assert_eq!(inbox.pop().map(|m| m.len()), Some(10_000));
        // A single-record message does not change the estimate.
        inbox.push_last(BytesMut::from(&b"small"[..]), 5);
        assert_eq!(inbox.last_reassembled_len, 10_000);
    }
}
