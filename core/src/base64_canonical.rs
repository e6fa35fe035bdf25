//! Decoding the `Basic` token: canonical, padded, standard-alphabet base64 (RFC 4648 §4), and
//! nothing else.
//!
//! This runs on every request, so it is written for the one shape the token has: a whole number
//! of 4-character groups, `=` padding only at the end, and (canonical form) no set bits in the
//! padding. Its result is checked against the `base64` crate's strict decoder in the tests.

use zeroize::Zeroizing;

/// Marks bytes outside the alphabet; any value with a top bit set is invalid.
const INVALID: u8 = 0xFF;

/// The value of each alphabet character, [`INVALID`] for everything else (including `=`).
const VALUES: [u8; 256] = {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut table = [INVALID; 256];
    let mut i = 0;
    while i < alphabet.len() {
        table[alphabet[i] as usize] = i as u8;
        i += 1;
    }
    table
};

/// Decodes `token`, or `None` when it is not canonical padded standard base64.
pub(crate) fn decode(token: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    let (groups, []) = token.as_chunks::<4>() else {
        return None; // not a whole number of groups: padding missing
    };
    let (&last, body) = groups.split_last()?;
    let padding = match last {
        [_, _, b'=', b'='] => 2,
        [_, _, _, b'='] => 1,
        _ => 0,
    };
    let mut out = Zeroizing::new(vec![0u8; groups.len() * 3 - padding]);
    let (body_out, last_out) = out.split_at_mut(body.len() * 3);
    // Validity is accumulated and checked once, so the loop has no branches to mispredict.
    let mut invalid = 0u8;
    for (group, bytes) in body.iter().zip(body_out.as_chunks_mut::<3>().0) {
        invalid |= decode_group(*group, bytes);
    }
    let values = last.map(|c| VALUES[usize::from(c)]);
    match padding {
        0 => {
            let mut bytes = [0u8; 3];
            invalid |= decode_group(last, &mut bytes);
            // Element by element: three bytes are not worth a call to memcpy.
            for (out, byte) in last_out.iter_mut().zip(bytes) {
                *out = byte;
            }
        }
        1 => {
            // `xyz=`: 18 bits carry 2 bytes; canonical form leaves the last 2 bits clear.
            invalid |= values[0] | values[1] | values[2] | (u8::from(values[2] & 0x03 != 0) << 7);
            last_out[0] = (values[0] << 2) | (values[1] >> 4);
            last_out[1] = (values[1] << 4) | (values[2] >> 2);
        }
        _ => {
            // `xy==`: 12 bits carry 1 byte; canonical form leaves the last 4 bits clear.
            invalid |= values[0] | values[1] | (u8::from(values[1] & 0x0F != 0) << 7);
            last_out[0] = (values[0] << 2) | (values[1] >> 4);
        }
    }
    // Alphabet values are below 64: a top bit means a character outside the alphabet (`=`
    // included, anywhere but the padding) or set bits in the padding.
    (invalid & 0xC0 == 0).then_some(out)
}

/// Decodes four characters into `bytes`; returns the OR of their values (top bits set if any
/// character is outside the alphabet).
#[inline(always)]
fn decode_group(group: [u8; 4], bytes: &mut [u8; 3]) -> u8 {
    let [a, b, c, d] = group.map(|character| VALUES[usize::from(character)]);
    let bits = (u32::from(a) << 18) | (u32::from(b) << 12) | (u32::from(c) << 6) | u32::from(d);
    bytes[0] = (bits >> 16) as u8;
    bytes[1] = (bits >> 8) as u8;
    bytes[2] = bits as u8;
    a | b | c | d
}

#[cfg(test)]
mod tests {
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine as _;
    use proptest::prelude::*;

    use super::*;

    fn reference(token: &[u8]) -> Option<Vec<u8>> {
        STANDARD.decode(token).ok()
    }

    #[test]
    fn rfc4648_test_vectors() {
        for (encoded, decoded) in [
            ("Zg==", "f"),
            ("Zm8=", "fo"),
            ("Zm9v", "foo"),
            ("Zm9vYg==", "foob"),
            ("Zm9vYmE=", "fooba"),
            ("Zm9vYmFy", "foobar"),
        ] {
            assert_eq!(
                decode(encoded.as_bytes()).as_deref().map(Vec::as_slice),
                Some(decoded.as_bytes())
            );
        }
    }

    #[test]
    fn refuses_what_is_not_canonical_padded_standard_base64() {
        // The empty token is refused too (a bare scheme), though the reference decodes it.
        assert_eq!(decode(b"").as_deref(), None);
        for bad in [
            "Zg", "Zg=", "Zm9", "Zg===", "====", "Z===", "Zh==", "Zm9=", "Zm-v", "Zm_v", "Zm9v\n",
            "Zm 9v", "Zg==Zm9v", "Zm=v", "=m9v",
        ] {
            assert_eq!(decode(bad.as_bytes()).as_deref(), None, "{bad:?}");
            assert_eq!(
                reference(bad.as_bytes()),
                None,
                "the reference agrees on {bad:?}"
            );
        }
    }

    proptest! {
        #[test]
        fn agrees_with_the_base64_crate_on_encoded_data(data in proptest::collection::vec(any::<u8>(), 0..200)) {
            let token = STANDARD.encode(&data);
            prop_assert_eq!(decode(token.as_bytes()).as_deref().cloned(), reference(token.as_bytes()).filter(|_| !token.is_empty()));
        }

        #[test]
        fn agrees_with_the_base64_crate_on_arbitrary_tokens(token in "[A-Za-z0-9+/=_ -]{0,24}") {
            let ours = decode(token.as_bytes()).as_deref().cloned();
            let theirs = reference(token.as_bytes()).filter(|_| !token.is_empty());
            prop_assert_eq!(ours, theirs);
        }

        #[test]
        fn agrees_on_every_variant_of_the_last_character(data in proptest::collection::vec(any::<u8>(), 1..60), replacement in "[A-Za-z0-9+/]") {
            // Where canonical form is decided: the bits the padding leaves unused.
            let token = STANDARD.encode(&data);
            let last = token.trim_end_matches('=').len() - 1;
            let mut variant = token.into_bytes();
            variant[last] = replacement.as_bytes()[0];
            prop_assert_eq!(decode(&variant).as_deref().cloned(), reference(&variant));
        }

        #[test]
        fn agrees_with_the_base64_crate_on_arbitrary_bytes(token in proptest::collection::vec(any::<u8>(), 0..40)) {
            let ours = decode(&token).as_deref().cloned();
            let theirs = reference(&token).filter(|_| !token.is_empty());
            prop_assert_eq!(ours, theirs);
        }
    }
}
