//! Decoding the `Basic` token: canonical, padded, standard-alphabet base64 (RFC 4648 §4), and
//! nothing else.
//!
//! This runs on every request, so it is written for the one shape the token has: a whole number
//! of 4-character groups, `=` padding only at the end, and (canonical form) no set bits in the
//! padding. Its result is checked against the `base64` crate's strict decoder in the tests.

/// Marks bytes outside the alphabet; any value with a top bit set is invalid.
const INVALID: u8 = 0xFF;

/// The bits no alphabet character's value has (values are below 64).
const INVALID_BITS: u8 = 0xC0;

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

/// Set in a [`SHIFTED`] entry for a character outside the alphabet; above the 24 bits a group
/// carries, so OR-ing a group's four entries gives its bits and its validity at once.
const OUTSIDE: u32 = 1 << 24;

/// For each position in a group, each character's value already shifted into place (or
/// [`OUTSIDE`]): a group decodes with four lookups and three ORs.
const SHIFTED: [[u32; 256]; 4] = {
    let mut tables = [[OUTSIDE; 256]; 4];
    let mut position = 0;
    while position < 4 {
        let shift = 18 - 6 * position;
        let mut character = 0;
        while character < 256 {
            let value = VALUES[character];
            if value != INVALID {
                tables[position][character] = (value as u32) << shift;
            }
            character += 1;
        }
        position += 1;
    }
    tables
};

/// Whether every byte is one of the 64 characters of the standard alphabet (`=` is not).
pub(crate) fn all_in_alphabet(bytes: &[u8]) -> bool {
    // Without stopping early: one pass with no branch to mispredict is the faster way through
    // the few dozen bytes of a token.
    bytes
        .iter()
        .fold(0, |values, &byte| values | VALUES[usize::from(byte)])
        & INVALID_BITS
        == 0
}

/// How many octets `token` decodes to, if its length and padding allow it to be a token at all
/// (a whole number of groups, at least one); what to size [`decode`]'s output by.
#[inline]
pub(crate) fn decoded_len(token: &[u8]) -> Option<usize> {
    let (groups, []) = token.as_chunks::<4>() else {
        return None; // not a whole number of groups: padding missing
    };
    let padding = match groups.last()? {
        [_, _, b'=', b'='] => 2,
        [_, _, _, b'='] => 1,
        _ => 0,
    };
    Some(groups.len() * 3 - padding)
}

/// How many bytes past the octets [`decode`] writes (as zeros): it stores the last groups as
/// whole words.
pub(crate) const ROOM: usize = 3;

/// Decodes `token` into `out`, which must hold [`decoded_len`] plus [`ROOM`] bytes; `false` when
/// the token is not canonical padded standard base64 (or `out` is too small).
///
/// Two groups, six octets, at a time. The odd group and the last are each stored as a word that
/// runs up to three bytes past its octets, which the next store, or the zeros of the padding,
/// covers.
#[inline]
pub(crate) fn decode(token: &[u8], out: &mut [u8]) -> bool {
    let (groups, []) = token.as_chunks::<4>() else {
        return false;
    };
    let Some((&last, body)) = groups.split_last() else {
        return false;
    };
    let (last_bits, last_len) = last_group_bits(last);
    let body_len = body.len() * 3;
    if out.len() < body_len + last_len as usize + ROOM {
        return false;
    }
    let mut outside = last_bits;
    let (pairs, odd_group) = body.as_chunks::<2>();
    for (&[first, second], octets) in pairs.iter().zip(out.as_chunks_mut::<6>().0) {
        let (first, second) = (group_bits(first), group_bits(second));
        // Validity is accumulated and checked once, so the loop has no branches to mispredict.
        outside |= first | second;
        // Bits above the 24 a group carries are only set for an invalid one, whose octets do
        // not matter; those of `first` fall outside the six octets kept.
        let bits = (u64::from(first) << 24) | u64::from(second);
        let [_, _, rest @ ..] = bits.to_be_bytes();
        *octets = rest;
    }
    if let [group] = odd_group {
        let bits = group_bits(*group);
        outside |= bits;
        store(out, body_len - 3, (bits << 8).to_be_bytes());
    }
    // The bits of a padded group past its octets are zero (or `outside` says it is invalid),
    // so this store leaves zeros after the octets.
    store(out, body_len, (last_bits << 8).to_be_bytes());
    outside & OUTSIDE == 0
}

/// Writes `word` at `at`, which [`decode`] has checked there is room for.
#[inline(always)]
fn store<const N: usize>(out: &mut [u8], at: usize, word: [u8; N]) {
    if let Some(target) = out.get_mut(at..at + N) {
        target.copy_from_slice(&word);
    }
}

/// The 24 bits four characters carry, with [`OUTSIDE`] set if any character is outside the
/// alphabet.
#[inline(always)]
fn group_bits(group: [u8; 4]) -> u32 {
    let [a, b, c, d] = group.map(usize::from);
    SHIFTED[0][a] | SHIFTED[1][b] | SHIFTED[2][c] | SHIFTED[3][d]
}

/// The last group, which may be padded: its 24 bits, how many octets they carry, and
/// [`OUTSIDE`] set if a character is outside the alphabet or the padding is not canonical.
#[inline(always)]
fn last_group_bits(group: [u8; 4]) -> (u32, u32) {
    let [a, b, c, _] = group.map(usize::from);
    match group {
        // `xy==`: 12 bits carry 1 octet; canonical form leaves the other 4 clear.
        [_, _, b'=', b'='] => {
            let bits = SHIFTED[0][a] | SHIFTED[1][b];
            (bits | canonical_flag(bits & 0xFFFF), 1)
        }
        // `xyz=`: 18 bits carry 2 octets; canonical form leaves the other 2 clear.
        [_, _, _, b'='] => {
            let bits = SHIFTED[0][a] | SHIFTED[1][b] | SHIFTED[2][c];
            (bits | canonical_flag(bits & 0xFF), 2)
        }
        _ => (group_bits(group), 3),
    }
}

/// [`OUTSIDE`] if `padding_bits`, the bits a padded group leaves over, are not all clear.
#[inline(always)]
fn canonical_flag(padding_bits: u32) -> u32 {
    u32::from(padding_bits != 0) << 24
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

    fn ours(token: &[u8]) -> Option<Vec<u8>> {
        let mut out = vec![0; decoded_len(token)? + ROOM];
        let valid = decode(token, &mut out);
        out.truncate(decoded_len(token)?);
        valid.then_some(out)
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
            assert_eq!(ours(encoded.as_bytes()), Some(decoded.as_bytes().to_vec()));
        }
    }

    #[test]
    fn refuses_what_is_not_canonical_padded_standard_base64() {
        // The empty token is refused too (a bare scheme), though the reference decodes it.
        assert_eq!(ours(b""), None);
        for bad in [
            "Zg", "Zg=", "Zm9", "Zg===", "====", "Z===", "Zh==", "Zm9=", "Zm-v", "Zm_v", "Zm9v\n",
            "Zm 9v", "Zg==Zm9v", "Zm=v", "=m9v",
        ] {
            assert_eq!(ours(bad.as_bytes()), None, "{bad:?}");
            assert_eq!(
                reference(bad.as_bytes()),
                None,
                "the reference agrees on {bad:?}"
            );
        }
    }

    #[test]
    fn the_alphabet_is_exactly_the_standard_one() {
        let standard = |b: u8| b.is_ascii_alphanumeric() || b == b'+' || b == b'/';
        for byte in 0..=255u8 {
            assert_eq!(all_in_alphabet(&[byte]), standard(byte), "{byte:#04x}");
            // One byte outside spoils a run of valid ones, wherever it is.
            let mut run = *b"QWxhZGRpbjpvcGVu";
            run[usize::from(byte) % run.len()] = byte;
            assert_eq!(all_in_alphabet(&run), standard(byte), "{byte:#04x}");
        }
        assert!(all_in_alphabet(b""));
    }

    proptest! {
        #[test]
        fn the_room_after_the_octets_is_left_zero(data in proptest::collection::vec(any::<u8>(), 1..100)) {
            // What lets the octets and the padding be copied as text in one go.
            let token = STANDARD.encode(&data);
            let mut out = vec![0; data.len() + ROOM];
            prop_assert!(decode(token.as_bytes(), &mut out));
            prop_assert!(out[data.len()..].iter().all(|&b| b == 0));
        }

        #[test]
        fn agrees_with_the_base64_crate_on_encoded_data(data in proptest::collection::vec(any::<u8>(), 0..200)) {
            let token = STANDARD.encode(&data);
            prop_assert_eq!(ours(token.as_bytes()), reference(token.as_bytes()).filter(|_| !token.is_empty()));
        }

        #[test]
        fn agrees_with_the_base64_crate_on_arbitrary_tokens(token in "[A-Za-z0-9+/=_ -]{0,24}") {
            let decoded = ours(token.as_bytes());
            let theirs = reference(token.as_bytes()).filter(|_| !token.is_empty());
            prop_assert_eq!(decoded, theirs);
        }

        #[test]
        fn agrees_on_every_variant_of_the_last_character(data in proptest::collection::vec(any::<u8>(), 1..60), replacement in "[A-Za-z0-9+/]") {
            // Where canonical form is decided: the bits the padding leaves unused.
            let token = STANDARD.encode(&data);
            let last = token.trim_end_matches('=').len() - 1;
            let mut variant = token.into_bytes();
            variant[last] = replacement.as_bytes()[0];
            prop_assert_eq!(ours(&variant), reference(&variant));
        }

        #[test]
        fn agrees_with_the_base64_crate_on_arbitrary_bytes(token in proptest::collection::vec(any::<u8>(), 0..40)) {
            let decoded = ours(&token);
            let theirs = reference(&token).filter(|_| !token.is_empty());
            prop_assert_eq!(decoded, theirs);
        }
    }
}
