//! Realms (SPEC §3): an arbitrary string through `Realm::new`.
//!
//! Checked beyond "no panic": a realm with a control character (C0, DEL or C1) is refused, naming the realm; any other is accepted, keeps its
//! name, and its challenge is exactly `Basic realm="…", charset="UTF-8"` whose quoted-string
//! (RFC 9110 §5.6.4, `\` and `"` escaped) reads back to the same realm.
#![no_main]
#![forbid(unsafe_code)]

use endpoint_auth::{challenge::RealmError, Realm};
use endpoint_auth_fuzz::{is_c0_or_del, is_c1, realm_of_challenge};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let name = String::from_utf8_lossy(data).into_owned();
    let refused = name.chars().any(|c| is_c0_or_del(c) || is_c1(c));
    match Realm::new(name.clone()) {
        Err(RealmError::ControlCharacter { realm }) => {
            assert!(
                refused,
                "refused a realm without control characters: {name:?}"
            );
            assert_eq!(realm, name);
        }
        Err(error) => panic!("unexpected error for {name:?}: {error:?}"),
        Ok(realm) => {
            assert!(
                !refused,
                "accepted a realm with a control character: {name:?}"
            );
            assert_eq!(realm.name(), name);
            let challenge = realm.challenge().as_bytes();
            let read_back = realm_of_challenge(challenge);
            assert_eq!(
                read_back.as_deref(),
                Some(name.as_bytes()),
                "challenge {:?}",
                String::from_utf8_lossy(challenge)
            );
        }
    }
});
