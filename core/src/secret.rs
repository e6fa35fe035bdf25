//! Memory for secrets that is overwritten with zeros when dropped: [`Scratch`] space to decode
//! credentials into, and the [`SecretString`] they end up in.
//!
//! Both clear memory with volatile writes a word at a time. Not `zeroize::Zeroizing<String>`,
//! which writes one byte at a time, nor `zeroize::zeroize_bytes` and the slice impls, which call
//! `memset`: on some x86-64 processors its masked vector store for buffers of this size stalls
//! the allocations that follow. Every parsed `Authorization` header drops one of each, and either
//! cost more than decoding the base64 did.

use std::fmt;

use zeroize::Zeroize;

/// Bytes per word of the buffers.
const WORD: usize = std::mem::size_of::<u64>();

/// How many words of scratch space live on the stack: enough for the credentials of nearly
/// every request (up to 125 decoded bytes), so those need no allocation to decode.
const STACK_WORDS: usize = 16;

/// Space to decode a secret into: on the stack when it is small, on the heap otherwise; wiped
/// when dropped. It lives where it is created, so the secret is never moved.
pub(crate) struct Scratch {
    stack: [u64; STACK_WORDS],
    /// How many words of `stack` are in use.
    stack_used: usize,
    heap: Vec<u64>,
}

impl Scratch {
    /// No space in use yet.
    #[inline]
    pub(crate) fn new() -> Self {
        Self {
            stack: [0; STACK_WORDS],
            stack_used: 0,
            heap: Vec::new(),
        }
    }

    /// At least `len` zero bytes: whole words. Call once.
    #[inline]
    pub(crate) fn zeroed(&mut self, len: usize) -> &mut [u8] {
        let words = len.div_ceil(WORD);
        let words: &mut [u64] = if words <= STACK_WORDS {
            self.stack_used = words;
            &mut self.stack[..words]
        } else {
            self.heap = vec![0; words];
            &mut self.heap
        };
        bytemuck::cast_slice_mut(words)
    }
}

impl Scratch {
    /// Overwrites the space used with zeros.
    #[inline]
    fn wipe(&mut self) {
        // Word by word, volatile: `[u64]::zeroize` would call `memset` (see the module note).
        self.stack[..self.stack_used].iter_mut().zeroize();
        self.heap.iter_mut().zeroize();
    }
}

impl Drop for Scratch {
    #[inline]
    fn drop(&mut self) {
        self.wipe();
    }
}

/// Text that may hold a secret.
pub(crate) struct SecretString {
    /// The text, possibly followed by NUL padding.
    text: String,
    /// How many bytes of `text` are the text; always a character boundary.
    len: usize,
}

impl SecretString {
    /// A copy of the first `len` bytes of `padded`, which is `len` bytes of text followed by
    /// NULs up to a whole number of words (so the copy wipes a word at a time).
    ///
    /// Copied whole in one step: appending to a string built first would keep its fields in
    /// memory and copy them right after writing them, which makes the processor wait.
    #[inline]
    pub(crate) fn copy_of_padded(padded: &str, len: usize) -> Self {
        debug_assert!(
            padded.is_char_boundary(len) && padded.as_bytes()[len..].iter().all(|&b| b == 0)
        );
        Self {
            text: String::from(padded),
            len,
        }
    }

    /// Text appended by `build` to a string of `capacity` bytes, and what `build` returns.
    ///
    /// Appending past the capacity reallocates and would leave the old allocation unwiped, so
    /// `capacity` must be the final size or more.
    pub(crate) fn build<R>(capacity: usize, build: impl FnOnce(&mut String) -> R) -> (Self, R) {
        let mut text = String::with_capacity(capacity);
        let allocation = text.as_ptr();
        let result = build(&mut text);
        debug_assert_eq!(text.as_ptr(), allocation, "reallocated: capacity too small");
        let len = text.len();
        (Self { text, len }, result)
    }

    /// The text.
    #[inline]
    pub(crate) fn as_str(&self) -> &str {
        &self.text[..self.len]
    }
}

impl Clone for SecretString {
    fn clone(&self) -> Self {
        // `String::clone` allocates exactly the length, so the copy never reallocates either.
        Self {
            text: self.text.clone(),
            len: self.len,
        }
    }
}

impl SecretString {
    /// Overwrites the whole allocation with zeros, through the string itself: zeros are text,
    /// and within the capacity nothing reallocates. Moving the string out to get at its bytes
    /// would copy its fields right after they were last written, which makes the processor wait.
    #[inline]
    fn wipe(&mut self) {
        const ZEROS: &str = "\0\0\0\0\0\0\0\0";
        let capacity = self.text.capacity();
        self.text.clear();
        self.len = 0;
        while capacity - self.text.len() >= ZEROS.len() {
            self.text.push_str(ZEROS);
        }
        while self.text.len() < capacity {
            self.text.push('\0');
        }
        // The writes are plain ones; this keeps the compiler from dropping them as dead.
        zeroize::optimization_barrier(self.text.as_str());
    }
}

impl Drop for SecretString {
    #[inline]
    fn drop(&mut self) {
        self.wipe();
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scratch_space_is_zeroed_and_as_long_as_asked_on_the_stack_or_the_heap() {
        for len in [
            0,
            1,
            7,
            8,
            9,
            STACK_WORDS * WORD,
            STACK_WORDS * WORD + 1,
            3000,
        ] {
            let mut scratch = Scratch::new();
            let bytes = scratch.zeroed(len);
            assert_eq!(bytes.len(), len.next_multiple_of(WORD));
            assert!(bytes.iter().all(|&b| b == 0));
            bytes.fill(0xA5);
            let on_heap = len > STACK_WORDS * WORD;
            assert_eq!(scratch.heap.is_empty(), !on_heap, "{len}");
        }
    }

    #[test]
    fn dropping_scratch_space_wipes_what_was_used() {
        let mut scratch = Scratch::new();
        scratch.zeroed(20).fill(0xA5);
        // What drop does, observed on a value that is kept.
        scratch.wipe();
        assert!(scratch.stack.iter().all(|&word| word == 0));
        let mut scratch = Scratch::new();
        scratch.zeroed(1000).fill(0xA5);
        scratch.wipe();
        assert!(scratch.heap.iter().all(|&word| word == 0));
    }

    #[test]
    fn a_padded_copy_is_the_text_in_whole_words() {
        let text = SecretString::copy_of_padded("user:pass\0\0\0\0\0\0\0", 9);
        assert_eq!(text.as_str(), "user:pass");
        assert_eq!(text.text.capacity(), 16);
        assert_eq!(text.clone().as_str(), "user:pass");
    }

    #[test]
    fn wiping_text_zeroes_its_whole_allocation_without_reallocating() {
        for capacity in [0, 1, 7, 8, 9, 40] {
            let (mut text, ()) = SecretString::build(capacity, |text| {
                text.extend(std::iter::repeat_n('x', capacity / 2));
            });
            let allocation = text.text.as_ptr();
            text.wipe();
            assert_eq!(text.text.as_ptr(), allocation);
            assert_eq!(text.text.len(), text.text.capacity());
            assert!(text.text.bytes().all(|b| b == 0), "{capacity}");
        }
    }

    #[test]
    fn built_text_reports_what_the_builder_returns() {
        let (text, colon) = SecretString::build(8, |text| {
            text.push_str("ab:");
            let colon = text.len() - 1;
            text.push_str("cd");
            colon
        });
        assert_eq!((text.as_str(), colon), ("ab:cd", 2));
    }

    #[test]
    fn debug_is_redacted() {
        let (text, ()) = SecretString::build(8, |text| text.push_str("hunter2"));
        assert_eq!(format!("{text:?}"), "[redacted]");
    }
}
