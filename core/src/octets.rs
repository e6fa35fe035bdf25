//! What decoded credentials contain, gathered while they are decoded: where the first `:` is,
//! whether any octet is a control character, and whether all are ASCII.
//!
//! `:` and the control characters (below 0x20, and 0x7F) are single bytes below 0x80 both in
//! UTF-8, where they never occur inside a multi-byte sequence, and in ISO-8859-1; so what is
//! found in the octets holds for the text whichever way they are read.

/// Every byte 0x01.
const LOW: u64 = 0x0101_0101_0101_0101;
/// Every byte's top bit.
const HIGH: u64 = LOW * 0x80;
/// Every byte 0x7F.
const LOW_SEVEN: u64 = LOW * 0x7F;

/// Accumulates what the octets pushed so far contain, several octets per step.
///
/// Two words of state, so that a decoding loop that feeds it keeps them in registers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OctetScan {
    /// `usize::MAX` until a colon is seen: cheaper to keep up to date than an `Option`.
    first_colon: usize,
    /// In any byte: the top bit set once a control character has been seen, the next bit once
    /// an octet above 0x7F has.
    flags: u64,
}

impl OctetScan {
    /// Nothing seen yet.
    pub(crate) const fn new() -> Self {
        Self {
            first_colon: usize::MAX,
            flags: 0,
        }
    }

    /// Takes `count` octets (1 to 8), the first at `offset`, packed big-endian into the low
    /// bytes of `word` (first octet highest); the bytes above them must be zero.
    #[inline(always)]
    pub(crate) fn push(&mut self, word: u64, count: u32, offset: usize) {
        debug_assert!((1..=8).contains(&count) && word.checked_shr(8 * count).unwrap_or(0) == 0);
        // The unused bytes become 'A', which is none of the things looked for.
        let word = word | (LOW * u64::from(b'A')).checked_shl(8 * count).unwrap_or(0);
        // A byte below 0x20 borrows when 0x20 is subtracted from it and has its top bit clear;
        // DEL is the byte that XOR 0x7F makes zero, which borrows when 1 is subtracted. A borrow
        // can only flag bytes above a real one, so "any" is exact.
        let below_space = word.wrapping_sub(LOW * 0x20) & !word;
        let del = word ^ LOW_SEVEN;
        let del = del.wrapping_sub(LOW) & !del;
        self.flags |= ((below_space | del) & HIGH) | ((word & HIGH) >> 1);
        let colons = exact_zero_bytes(word ^ (LOW * u64::from(b':')));
        if colons != 0 {
            // The highest flagged byte is the first colon; above the octets are 8 - count bytes.
            let index = colons.leading_zeros() / 8 - (8 - count);
            self.first_colon = self.first_colon.min(offset + index as usize);
        }
    }

    /// Takes `bytes`, in words of up to `per_word`.
    #[cfg(test)]
    pub(crate) fn push_bytes(&mut self, bytes: &[u8], per_word: usize) {
        for (index, chunk) in bytes.chunks(per_word).enumerate() {
            let word = chunk
                .iter()
                .fold(0u64, |word, &b| (word << 8) | u64::from(b));
            self.push(word, chunk.len() as u32, per_word * index);
        }
    }

    /// Where the first `:` is, counted in octets.
    pub(crate) fn first_colon(&self) -> Option<usize> {
        (self.first_colon != usize::MAX).then_some(self.first_colon)
    }

    /// Whether any octet is below 0x20, or 0x7F.
    pub(crate) fn has_control(&self) -> bool {
        self.flags & HIGH != 0
    }

    /// Whether every octet is below 0x80.
    pub(crate) fn all_ascii(&self) -> bool {
        self.flags & (HIGH >> 1) == 0
    }
}

/// The top bit of exactly those bytes of `word` that are zero.
#[inline(always)]
fn exact_zero_bytes(word: u64) -> u64 {
    // Per byte, without carries between bytes: the top bit of (low seven bits + 0x7F) is set
    // when any low bit is; OR-ing in the byte itself adds the top bit.
    !(((word & LOW_SEVEN) + LOW_SEVEN) | word | LOW_SEVEN)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(bytes: &[u8], per_word: usize) -> OctetScan {
        let mut scan = OctetScan::new();
        scan.push_bytes(bytes, per_word);
        scan
    }

    #[test]
    fn agrees_with_a_byte_by_byte_check() {
        // Every byte value at every position of a word, with neighbours that could carry or
        // borrow into it, alone and with a colon elsewhere (before or after it).
        for len in 0..16 {
            for position in 0..len {
                for value in 0..=255u8 {
                    for filler in [b'a', 0x80, 0xff, 0x00, 0x21, 0x7e, b';', b'9'] {
                        for other_colon in [None, Some(len - 1 - position)] {
                            let mut bytes = vec![filler; len];
                            if let Some(at) = other_colon {
                                bytes[at] = b':';
                            }
                            bytes[position] = value;
                            for per_word in [8, 7, 3] {
                                let scan = scan(&bytes, per_word);
                                let expected_colon = bytes.iter().position(|&b| b == b':');
                                assert_eq!(scan.first_colon(), expected_colon, "{bytes:?}");
                                assert_eq!(
                                    scan.has_control(),
                                    bytes.iter().any(|&b| b < 0x20 || b == 0x7f),
                                    "{bytes:?}"
                                );
                                assert_eq!(scan.all_ascii(), bytes.is_ascii(), "{bytes:?}");
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn counts_positions_across_words() {
        let mut scan = OctetScan::new();
        scan.push(u64::from_be_bytes(*b"\0\0abcdef"), 6, 0);
        scan.push(u64::from_be_bytes(*b"\0\0\0\0\0gh:"), 3, 6);
        scan.push(u64::from_be_bytes(*b"\0\0\0\0\0\0\0:"), 1, 9);
        assert_eq!(scan.first_colon(), Some(8));
        assert!(!scan.has_control());
        assert!(scan.all_ascii());
    }
}
