//! Memory that may hold a secret, overwritten with zeros when dropped: [`SecretOctets`] to
//! decode a token into, and the [`SecretString`] the credentials keep.
//!
//! No unwiped copy is ever left behind, in release builds as in debug ones: octets are decoded
//! into a slice, which cannot grow; text is only taken over whole from octets
//! ([`SecretString::from_utf8`]), copied into an allocation of exactly its size ([`Clone`]), or
//! appended through a [`SecretBuilder`], which moves to a larger allocation by copying and
//! wiping the old one where a `String` would free it as it is.

use std::fmt;

use zeroize::Zeroize;

/// Octets that may hold a secret; their whole allocation is wiped when dropped.
pub(crate) struct SecretOctets(Vec<u8>);

impl SecretOctets {
    /// `len` zeros.
    #[inline]
    #[expect(
        clippy::slow_vector_initialization,
        reason = "`vec![0; len]` calls `calloc`, which takes a slower path through glibc's \
                  allocator than `malloc`: 4 ns, a tenth of the parse"
    )]
    pub(crate) fn zeroed(len: usize) -> Self {
        let mut octets = Vec::with_capacity(len);
        octets.resize(len, 0);
        Self(octets)
    }

    /// The octets, to be written in place; as a slice, which cannot reallocate.
    #[inline]
    pub(crate) fn as_mut_slice(&mut self) -> &mut [u8] {
        &mut self.0
    }

    /// The octets.
    #[inline]
    pub(crate) fn as_slice(&self) -> &[u8] {
        &self.0
    }
}

impl Drop for SecretOctets {
    #[inline]
    fn drop(&mut self) {
        // Nearly always the octets have become a `SecretString` and no allocation is left; on an
        // empty `Vec`, `zeroize` would still store nothing at its dangling pointer, a masked
        // vector store that some processors (AMD Zen 4) take longer over than the whole parse.
        if self.0.capacity() > 0 {
            self.0.zeroize();
        }
    }
}

/// Text that may hold a secret; its whole allocation is wiped when dropped.
pub(crate) struct SecretString(String);

impl SecretString {
    /// `octets` as text, in their own allocation; the octets back if they are not UTF-8.
    #[inline]
    pub(crate) fn from_utf8(mut octets: SecretOctets, len: usize) -> Result<Self, SecretOctets> {
        let mut bytes = std::mem::take(&mut octets.0);
        bytes.truncate(len);
        match String::from_utf8(bytes) {
            Ok(text) => Ok(Self(text)),
            Err(not_utf8) => Err(SecretOctets(not_utf8.into_bytes())),
        }
    }

    /// Text appended by `build` to a string of `capacity` bytes, and what `build` returns.
    ///
    /// `capacity` should be the final size or more, which saves a copy; should it not be, no
    /// unwiped copy is left behind either (see [`SecretBuilder`]).
    pub(crate) fn build<R>(
        capacity: usize,
        build: impl FnOnce(&mut SecretBuilder) -> R,
    ) -> (Self, R) {
        let mut builder = SecretBuilder(Self(String::with_capacity(capacity)));
        let result = build(&mut builder);
        (builder.0, result)
    }

    /// The text.
    #[inline]
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

impl Clone for SecretString {
    fn clone(&self) -> Self {
        // `String::clone` allocates exactly the length, so the copy never reallocates either.
        Self(self.0.clone())
    }
}

impl SecretString {
    /// Overwrites the whole allocation with zeros, through the string itself: zeros are text, and
    /// within the capacity nothing reallocates.
    ///
    /// Eight bytes at a time with plain stores, not `memset` (which `zeroize` calls): for buffers
    /// this small it makes a masked vector store, which made the whole parse a sixth slower on
    /// AMD Zen 4 (the allocator's next use of the memory seems to wait for it).
    #[inline]
    fn wipe(&mut self) {
        let capacity = self.0.capacity();
        self.0.clear();
        while capacity - self.0.len() >= 8 {
            self.0.push_str("\0\0\0\0\0\0\0\0");
        }
        while self.0.len() < capacity {
            self.0.push('\0');
        }
        // The stores are plain ones; this keeps the compiler from dropping them as dead.
        zeroize::optimization_barrier(self.0.as_str());
    }
}

impl Drop for SecretString {
    #[inline]
    fn drop(&mut self) {
        self.wipe();
    }
}

impl fmt::Debug for SecretOctets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// A [`SecretString`] being written by [`SecretString::build`]. Appending never lets the
/// `String` reallocate itself: past its capacity the text is copied into a larger allocation
/// and the old one wiped as its `SecretString` drops.
pub(crate) struct SecretBuilder(SecretString);

impl SecretBuilder {
    /// Appends `c`.
    pub(crate) fn push(&mut self, c: char) {
        self.make_room(c.len_utf8());
        self.0 .0.push(c);
    }

    /// Appends `s`.
    pub(crate) fn push_str(&mut self, s: &str) {
        self.make_room(s.len());
        self.0 .0.push_str(s);
    }

    /// Bytes written so far.
    pub(crate) fn len(&self) -> usize {
        self.0 .0.len()
    }

    fn make_room(&mut self, more: usize) {
        let text = &self.0 .0;
        if text.capacity() - text.len() >= more {
            return;
        }
        let mut bigger = String::with_capacity((text.len() + more).max(text.capacity() * 2));
        bigger.push_str(text);
        self.0 = SecretString(bigger);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wiping_text_zeroes_its_whole_allocation_without_reallocating() {
        for capacity in [0, 1, 7, 8, 9, 40, 63, 64, 65, 200] {
            let (mut text, ()) = SecretString::build(capacity, |text| {
                std::iter::repeat_n('x', capacity / 2).for_each(|c| text.push(c));
            });
            let allocation = text.0.as_ptr();
            // What drop does, observed on a value that is kept.
            text.wipe();
            assert_eq!(text.0.as_ptr(), allocation);
            assert_eq!(text.0.len(), text.0.capacity());
            assert!(text.0.bytes().all(|b| b == 0), "{capacity}");
        }
    }

    #[test]
    fn text_taken_from_octets_keeps_their_allocation() {
        let mut octets = SecretOctets::zeroed(12);
        octets.as_mut_slice()[..9].copy_from_slice(b"user:pass");
        let allocation = octets.as_slice().as_ptr();
        let text = SecretString::from_utf8(octets, 9).unwrap();
        assert_eq!(text.as_str(), "user:pass");
        assert_eq!(text.0.as_ptr(), allocation);
        assert_eq!(text.0.capacity(), 12);
        assert_eq!(text.clone().as_str(), "user:pass");
    }

    #[test]
    fn octets_that_are_not_utf8_are_handed_back() {
        let mut octets = SecretOctets::zeroed(7);
        octets.as_mut_slice().copy_from_slice(b"j\xf6rg:pw");
        let octets = SecretString::from_utf8(octets, 7).unwrap_err();
        assert_eq!(octets.as_slice(), b"j\xf6rg:pw");
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
        assert!(text.0.capacity() >= text.as_str().len());
    }

    #[test]
    fn debug_is_redacted() {
        let (text, ()) = SecretString::build(8, |text| text.push_str("hunter2"));
        assert_eq!(format!("{text:?}"), "[redacted]");
    }
}
