//! Unicode NFC normalization of user-ids and passwords (RFC 7617 §2.1, RFC 8265).

use unicode_normalization::{is_nfc_quick, IsNormalized, UnicodeNormalization};

/// Whether `text` is already NFC, answered without allocating for the common cases (ASCII and
/// most precomposed text).
pub(crate) fn is_nfc(text: &str) -> bool {
    if text.is_ascii() {
        return true;
    }
    match is_nfc_quick(text.chars()) {
        IsNormalized::Yes => true,
        IsNormalized::No => false,
        IsNormalized::Maybe => text.chars().eq(text.nfc()),
    }
}

/// Appends the NFC form of `text` to `out`.
pub(crate) fn push_nfc(out: &mut String, text: &str) {
    if is_nfc(text) {
        out.push_str(text);
    } else {
        out.extend(text.nfc());
    }
}

/// The NFC form of `text`, as a new string. Used for stored passwords, which are hashed from NFC
/// so that a password typed as composed or decomposed characters verifies alike.
pub fn to_nfc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    push_nfc(&mut out, text);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn composes_decomposed_text() {
        assert_eq!(to_nfc("e\u{301}"), "\u{e9}");
        assert_eq!(to_nfc("\u{e9}"), "\u{e9}");
        assert!(is_nfc("plain ascii"));
        assert!(!is_nfc("e\u{301}"));
    }
}
