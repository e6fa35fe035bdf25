//! Unicode NFC normalization of user-ids and passwords (RFC 7617 §2.1, RFC 8265).

use unicode_normalization::{is_nfc_quick, IsNormalized, UnicodeNormalization};

/// Whether `text` is already NFC, answered without allocating for the common cases (ASCII and
/// most precomposed text).
pub(crate) fn is_nfc(text: &str) -> bool {
    // Below U+0300, where the combining marks start, every character is NFC on its own and
    // combines with nothing before it (a test below checks this against the tables), so text
    // made only of those is NFC: ASCII, and the accented letters of most European languages.
    // In UTF-8 they are exactly the text without a byte from 0xCC up. No early exit, so the
    // compiler can take the maximum many bytes at a time.
    if text.bytes().fold(0, u8::max) < 0xCC {
        return true;
    }
    match is_nfc_quick(text.chars()) {
        IsNormalized::Yes => true,
        IsNormalized::No => false,
        IsNormalized::Maybe => text.chars().eq(text.nfc()),
    }
}

/// The NFC form of `text`, as a new string. Used for stored passwords, which are hashed from NFC
/// so that a password typed as composed or decomposed characters verifies alike.
pub(crate) fn to_nfc(text: &str) -> String {
    if is_nfc(text) {
        return text.to_owned();
    }
    // NFC can be longer than its input. Sized exactly before it is filled, the string never
    // reallocates, so a password normalized for hashing leaves no copy in a freed buffer.
    let mut out = String::with_capacity(text.nfc().map(char::len_utf8).sum());
    out.extend(text.nfc());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn below_the_combining_marks_every_character_is_nfc_and_a_starter() {
        // What the fast path of `is_nfc` rests on.
        for c in (0..0x300).filter_map(char::from_u32) {
            assert_eq!(is_nfc_quick(std::iter::once(c)), IsNormalized::Yes, "{c:?}");
            assert_eq!(
                unicode_normalization::char::canonical_combining_class(c),
                0,
                "{c:?}"
            );
        }
        assert!(
            !is_nfc("A\u{30a}"),
            "the first combining mark is not below the line"
        );
        assert!(is_nfc("\u{c5}ngstr\u{f6}m caf\u{e9} \u{2ff}"));
        assert_eq!('\u{300}'.to_string().as_bytes()[0], 0xCC);
        assert_eq!('\u{2ff}'.to_string().as_bytes()[0], 0xCB);
    }

    #[test]
    fn normalizing_longer_text_fills_an_allocation_of_exactly_its_size() {
        // U+0958 is excluded from composition: NFC decomposes it, three bytes into six.
        let out = to_nfc("qa \u{958}");
        assert_eq!(out, "qa \u{915}\u{93c}");
        assert_eq!(out.capacity(), out.len(), "sized once, never grown");
    }

    #[test]
    fn composes_decomposed_text() {
        assert_eq!(to_nfc("e\u{301}"), "\u{e9}");
        assert_eq!(to_nfc("\u{e9}"), "\u{e9}");
        assert!(is_nfc("plain ascii"));
        assert!(!is_nfc("e\u{301}"));
    }
}
