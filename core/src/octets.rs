//! What decoded credentials contain: where the first `:` is, whether any octet is a control
//! character, and whether all are ASCII; found in one pass, eight octets at a time.
//!
//! `:` and the control characters (below 0x20, and 0x7F) are single bytes below 0x80 both in
//! UTF-8, where they never occur inside a multi-byte sequence, and in ISO-8859-1; so what is
//! found in the octets holds for the text whichever way they are read.

/// Every byte 0x01.
const LOW: u64 = 0x0101_0101_0101_0101;
/// Every byte's top bit.
const HIGH: u64 = LOW * 0x80;
/// Bytes per word.
const WORD: usize = 8;

/// What one pass over the octets found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OctetScan {
    /// `usize::MAX` until a colon is seen: kept up to date with `min`, without a test of its own.
    first_colon: usize,
    /// Nonzero if a control character was seen.
    control: u64,
    /// The OR of all octets: its top bits say whether any was above 0x7F.
    any: u64,
}

impl OctetScan {
    /// Scans the first `len` octets of `padded`, a whole number of words (their length rounded
    /// up to one), read a word at a time; the padding is not looked at.
    #[inline]
    pub(crate) fn of_padded(padded: &[u8], len: usize) -> Self {
        let mut scan = Self {
            first_colon: usize::MAX,
            control: 0,
            any: 0,
        };
        let (words, _) = padded.as_chunks::<WORD>();
        let full = len / WORD;
        let (whole, partial) = words.split_at(full.min(words.len()));
        for (index, &word) in whole.iter().enumerate() {
            scan.push(u64::from_le_bytes(word), WORD * index);
        }
        let rest = len % WORD;
        if rest > 0 {
            if let Some(&word) = partial.first() {
                // The padding becomes 'A', which is none of the things looked for.
                let padding = (LOW * u64::from(b'A')) << (8 * rest);
                let octets = u64::from_le_bytes(word) & !(u64::MAX << (8 * rest));
                scan.push(octets | padding, WORD * full);
            }
        }
        scan
    }

    /// Takes eight octets, the first at `offset`, little-endian in `word` (first octet lowest).
    #[inline(always)]
    fn push(&mut self, word: u64, offset: usize) {
        // Octets with the top bit clear are where the three kinds of byte looked for can be. A
        // byte below 0x20 borrows when 0x20 is subtracted from it; DEL is the byte that XOR 0x7F
        // makes zero, and ':' the one XOR ':' does; a zero byte borrows when 1 is subtracted.
        // A borrow can only flag bytes above a real one, so "any" is exact, and so is the lowest
        // flag, which is the first octet.
        let ascii = !word & HIGH;
        let below_space = word.wrapping_sub(LOW * 0x20);
        let del = (word ^ (LOW * 0x7F)).wrapping_sub(LOW);
        self.control |= (below_space | del) & ascii;
        self.any |= word;
        let colons = (word ^ (LOW * u64::from(b':'))).wrapping_sub(LOW) & ascii;
        if colons != 0 {
            let first_here = offset + (colons.trailing_zeros() / 8) as usize;
            self.first_colon = self.first_colon.min(first_here);
        }
    }

    /// Where the first `:` is, counted in octets.
    pub(crate) fn first_colon(&self) -> Option<usize> {
        (self.first_colon != usize::MAX).then_some(self.first_colon)
    }

    /// Whether any octet is below 0x20, or 0x7F.
    pub(crate) fn has_control(&self) -> bool {
        self.control != 0
    }

    /// Whether every octet is below 0x80.
    pub(crate) fn all_ascii(&self) -> bool {
        self.any & HIGH == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(octets: &[u8], padding: u8) -> OctetScan {
        let mut padded = octets.to_vec();
        padded.resize(octets.len().next_multiple_of(WORD), padding);
        OctetScan::of_padded(&padded, octets.len())
    }

    #[test]
    fn agrees_with_a_byte_by_byte_check() {
        // Every byte value at every position of one, two and a part word, with neighbours that
        // could carry or borrow into it, alone and with a colon elsewhere (before or after it),
        // and padding that would be found if it were looked at.
        for len in 0..20 {
            for position in 0..len {
                for value in 0..=255u8 {
                    for filler in [b'a', 0x80, 0xff, 0x00, 0x21, 0x7e, b';', b'9'] {
                        for other_colon in [None, Some(len - 1 - position)] {
                            let mut bytes = vec![filler; len];
                            if let Some(at) = other_colon {
                                bytes[at] = b':';
                            }
                            bytes[position] = value;
                            for padding in [0x00, b':', 0x80] {
                                let scan = scan(&bytes, padding);
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
    fn nothing_is_found_in_nothing() {
        let scan = OctetScan::of_padded(b"", 0);
        assert_eq!(scan.first_colon(), None);
        assert!(!scan.has_control());
        assert!(scan.all_ascii());
    }
}
