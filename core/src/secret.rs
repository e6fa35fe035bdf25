//! Memory for secrets that is overwritten with zeros when dropped: [`StackScratch`] space to
//! decode credentials into, and the [`SecretString`] they end up in.
//!
//! Every parsed `Authorization` header drops one of each, so clearing them is on the request
//! path, and is done a word at a time: volatile word writes for the scratch space, plain writes
//! behind `zeroize::optimization_barrier` for the string (through its own methods, see
//! [`SecretString`]). Not `zeroize::Zeroizing<String>`, which writes one byte at a time, nor the
//! `zeroize` impls for slices, which call `memset`: on some x86-64 processors its masked vector
//! store for buffers of this size stalls the allocations that follow. Either cost more than
//! decoding the base64 did.

use std::fmt;

use zeroize::Zeroize;

/// How many words of scratch space live on the stack: enough for the credentials of nearly
/// every request (up to 125 decoded bytes), so those need no allocation to decode.
pub(crate) const STACK_WORDS: usize = 16;

/// Words on the stack to decode a secret into, wiped when dropped. It lives where it is
/// created, so the secret is never moved.
pub(crate) struct StackScratch([u64; STACK_WORDS]);

impl StackScratch {
    /// Zeroed words.
    #[inline(always)]
    pub(crate) fn new() -> Self {
        Self([0; STACK_WORDS])
    }

    /// The first `count` words, if there are that many.
    #[inline(always)]
    pub(crate) fn words(&mut self, count: usize) -> Option<&mut [u64]> {
        self.0.get_mut(..count)
    }

    /// Overwrites every word with zeros: all of them, a fixed count the compiler unrolls;
    /// volatile, word by word, because `[u64]::zeroize` would call `memset` (see the module
    /// note).
    #[inline(always)]
    fn wipe(&mut self) {
        self.0.iter_mut().zeroize();
    }
}

impl Drop for StackScratch {
    #[inline(always)]
    fn drop(&mut self) {
        self.wipe();
    }
}

/// Text that may hold a secret, wiped when dropped.
///
/// Wiped through the string's own methods, so that it is never moved out to get at its bytes:
/// such a copy of its fields right after they were last written makes the processor wait.
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

    /// The first `len` bytes of `padded`, which is `len` bytes of text followed by NULs, kept
    /// in `padded`'s own allocation.
    #[inline]
    pub(crate) fn from_padded(padded: String, len: usize) -> Self {
        debug_assert!(
            padded.is_char_boundary(len) && padded.as_bytes()[len..].iter().all(|&b| b == 0)
        );
        Self { text: padded, len }
    }

    /// Text appended by `build` to a string of `capacity` bytes, and what `build` returns.
    ///
    /// `capacity` should be the final size or more. Should it not be, the text still never
    /// leaves an unwiped copy behind: [`SecretBuilder`] grows by copying into a larger
    /// allocation and wiping the old one, where a `String` would free it as it is.
    pub(crate) fn build<R>(
        capacity: usize,
        build: impl FnOnce(&mut SecretBuilder) -> R,
    ) -> (Self, R) {
        let mut builder = SecretBuilder {
            text: Self {
                text: String::with_capacity(capacity),
                len: 0,
            },
        };
        let result = build(&mut builder);
        let mut text = builder.text;
        text.len = text.text.len();
        (text, result)
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
    /// and within the capacity nothing reallocates.
    #[inline]
    fn wipe(&mut self) {
        const WORD_OF_ZEROS: &str = "\0\0\0\0\0\0\0\0";
        const BLOCK_OF_ZEROS: &str = concat!(
            "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0",
            "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"
        );
        const _: () = assert!(BLOCK_OF_ZEROS.len() == 64 && WORD_OF_ZEROS.len() == 8);
        let capacity = self.text.capacity();
        self.text.clear();
        self.len = 0;
        // Fixed-size pieces, which compile to plain stores (a copy of a variable length would
        // call `memcpy`): blocks for long secrets, then words, then bytes.
        while capacity - self.text.len() >= BLOCK_OF_ZEROS.len() {
            self.text.push_str(BLOCK_OF_ZEROS);
        }
        while capacity - self.text.len() >= WORD_OF_ZEROS.len() {
            self.text.push_str(WORD_OF_ZEROS);
        }
        while self.text.len() < capacity {
            self.text.push('\0');
        }
        // The writes are plain ones; this keeps the compiler from dropping them as dead.
        zeroize::optimization_barrier(self.text.as_str());
    }
}

/// A [`SecretString`] being written by [`SecretString::build`]: appending never reallocates in
/// place, so no copy of the secret is ever freed unwiped — in release builds too.
pub(crate) struct SecretBuilder {
    text: SecretString,
}

impl SecretBuilder {
    /// Appends `c`.
    pub(crate) fn push(&mut self, c: char) {
        self.make_room(c.len_utf8());
        self.text.text.push(c);
    }

    /// Appends `s`.
    pub(crate) fn push_str(&mut self, s: &str) {
        self.make_room(s.len());
        self.text.text.push_str(s);
    }

    /// Bytes written so far.
    pub(crate) fn len(&self) -> usize {
        self.text.text.len()
    }

    fn make_room(&mut self, more: usize) {
        let text = &self.text.text;
        if text.capacity() - text.len() >= more {
            return;
        }
        let mut bigger = String::with_capacity((text.len() + more).max(text.capacity() * 2));
        bigger.push_str(text);
        // The old allocation is wiped as the replaced `SecretString` drops.
        let len = bigger.len();
        self.text = SecretString { text: bigger, len };
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
    fn stack_scratch_has_as_many_zero_words_as_it_holds() {
        let mut scratch = StackScratch::new();
        assert!(scratch.words(STACK_WORDS + 1).is_none());
        let words = scratch.words(STACK_WORDS).unwrap();
        assert!(words.iter().all(|&word| word == 0));
    }

    #[test]
    fn dropping_stack_scratch_wipes_it() {
        let mut scratch = StackScratch::new();
        scratch.words(3).unwrap().fill(u64::MAX);
        // What drop does, observed on a value that is kept.
        scratch.wipe();
        assert!(scratch.0.iter().all(|&word| word == 0));
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
        for capacity in [0, 1, 7, 8, 9, 40, 63, 64, 65, 200] {
            let (mut text, ()) = SecretString::build(capacity, |text| {
                std::iter::repeat_n('x', capacity / 2).for_each(|c| text.push(c));
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
    fn outgrowing_the_capacity_moves_to_a_larger_allocation_and_keeps_the_text() {
        let (text, ()) = SecretString::build(2, |text| {
            text.push_str("more than two bytes");
            text.push('é');
        });
        assert_eq!(text.as_str(), "more than two bytesé");
        assert!(text.text.capacity() >= text.as_str().len());
    }

    #[test]
    fn debug_is_redacted() {
        let (text, ()) = SecretString::build(8, |text| text.push_str("hunter2"));
        assert_eq!(format!("{text:?}"), "[redacted]");
    }
}
