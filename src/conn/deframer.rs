//! The deframer: gathers received bytes into whole frames, checking each
//! frame's header as soon as its 3 bytes are there (`spec/PROTOCOL.md`
//! section 3). A frame's type and state are judged once, by the connection,
//! when the frame is complete.

use bytes::{Buf, BytesMut};

use crate::error::Error;
use crate::wire::frame::{FrameHeader, HEADER_LEN};

/// One complete frame.
pub(super) struct Frame {
    pub(super) header: FrameHeader,
    /// The header as received (a record's AAD).
    pub(super) header_bytes: [u8; HEADER_LEN],
    /// The body, in the receive buffer.
    pub(super) body: BytesMut,
    /// The allocation a view of `body` keeps alive (at least).
    pub(super) pinned: usize,
}

/// Bytes of the frame being received; never more than one frame.
#[derive(Default)]
pub(super) struct Deframer {
    rx: BytesMut,
}

impl Deframer {
    /// Whether no partial frame is held (input stops only between frames).
    pub(super) fn is_empty(&self) -> bool {
        self.rx.is_empty()
    }

    /// Bytes allocated for the frame being received.
    pub(super) fn capacity(&self) -> usize {
        self.rx.capacity()
    }

    /// Frees the buffer if it holds nothing.
    pub(super) fn release(&mut self) {
        if self.rx.is_empty() {
            self.rx = BytesMut::new();
        }
    }

    /// Drops any partial frame (the connection failed).
    pub(super) fn clear(&mut self) {
        self.rx = BytesMut::new();
    }

    /// The next complete frame, taking what it needs from the front of
    /// `input`; `None` when `input` is used up first (what it held is kept).
    /// A header with an unknown type or a length above the type's maximum is
    /// an error as soon as it is complete.
    pub(super) fn next(&mut self, input: &mut &[u8]) -> Result<Option<Frame>, Error> {
        if self.rx.is_empty() {
            // Fast path: a whole frame in `input`. Its header is decoded
            // once and its body copied once.
            if let Some((header_bytes, tail)) = input.split_first_chunk::<HEADER_LEN>() {
                let header = FrameHeader::decode(*header_bytes)?;
                if let Some((body, tail)) = tail.split_at_checked(header.body_len) {
                    self.rx.extend_from_slice(body);
                    let pinned = self.rx.capacity();
                    let frame = Frame {
                        header,
                        header_bytes: *header_bytes,
                        body: self.rx.split(),
                        pinned,
                    };
                    *input = tail;
                    return Ok(Some(frame));
                }
                // A partial frame: make room for all of it at once, so that
                // the buffer is not regrown (and over-allocated) piecemeal.
                self.rx.reserve(HEADER_LEN.saturating_add(header.body_len));
            }
            if input.is_empty() {
                return Ok(None);
            }
        }
        // Slow path: a frame split across calls, gathered header included.
        if self.rx.len() < HEADER_LEN {
            let take = HEADER_LEN.saturating_sub(self.rx.len()).min(input.len());
            let (head, tail) = input.split_at(take);
            self.rx.extend_from_slice(head);
            *input = tail;
        }
        let Some(header_bytes) = self.rx.first_chunk::<HEADER_LEN>().copied() else {
            return Ok(None);
        };
        let header = FrameHeader::decode(header_bytes)?;
        let frame_len = HEADER_LEN.saturating_add(header.body_len);
        let take = frame_len.saturating_sub(self.rx.len()).min(input.len());
        let (head, tail) = input.split_at(take);
        self.rx.extend_from_slice(head);
        *input = tail;
        if self.rx.len() < frame_len {
            return Ok(None);
        }
        let pinned = self.rx.capacity();
        let mut body = self.rx.split_to(frame_len);
        body.advance(HEADER_LEN);
        Ok(Some(Frame {
            header,
            header_bytes,
            body,
            pinned,
        }))
    }
}
