//! Password hashes at rest (SPEC §6): argon2id for new hashes; argon2id/i/d and bcrypt verified;
//! Apache's legacy htpasswd formats (apr1-MD5, `{SHA}`) verified too, but stored only when an
//! import explicitly allows them ([`identify_hash_allowing_legacy`]), and always rehashed.
//!
//! This module is CPU work only. It runs on whatever thread calls it; the
//! [`VerificationPool`](crate::verifier::VerificationPool) is what keeps it off request threads.

use std::cell::RefCell;
use std::fmt;

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, Zeroizing};

use crate::normalize::to_nfc;

/// Why a password hash could not be made or used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HashError {
    /// The stored string is neither an argon2 PHC string nor a bcrypt hash.
    #[cfg_attr(
        feature = "bcrypt",
        error("unsupported password hash format ({found}); store argon2id PHC strings or bcrypt ($2a$, $2b$, $2x$, $2y$) hashes")
    )]
    #[cfg_attr(
        not(feature = "bcrypt"),
        error("unsupported password hash format ({found}); store argon2id PHC strings")
    )]
    UnsupportedFormat {
        /// A short, secret-free description of what was found (its prefix).
        found: String,
    },
    /// The string claims a supported format but does not parse.
    #[error("malformed {scheme} hash: {detail}")]
    Malformed {
        /// `argon2` or `bcrypt`.
        scheme: &'static str,
        /// What is wrong with it.
        detail: String,
    },
    /// The hash's memory cost is above the configured ceiling, so verifying it could exhaust
    /// memory.
    #[error("argon2 hash needs {m_cost_kib} KiB, above the {limit_kib} KiB ceiling; raise HashPolicy::max_verify_memory_kib or rehash the password")]
    TooExpensive {
        /// The memory the hash asks for.
        m_cost_kib: u32,
        /// The configured ceiling.
        limit_kib: u32,
    },
    /// The argon2 parameters given for new hashes are invalid.
    #[error("invalid argon2 parameters: {0}")]
    InvalidParams(String),
    /// The operating system's random number generator failed while making a salt.
    #[error("could not generate a salt: the operating system's random number generator failed")]
    Random,
    /// A bcrypt hash, and this build has no bcrypt support (the `bcrypt` feature is off). Stores
    /// and importers refuse it when it is written, so that it cannot fail every later login.
    #[error("bcrypt hash, but bcrypt support is compiled out: enable the `bcrypt` feature of endpoint-auth, or store argon2id PHC strings")]
    BcryptDisabled,
}

/// The kind of a stored hash, as recognised by [`identify_hash`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum HashKind {
    /// An argon2 PHC string (`$argon2id$`, `$argon2i$`, `$argon2d$`).
    Argon2,
    /// A bcrypt hash (`$2a$`, `$2b$`, `$2x$`, `$2y$`).
    Bcrypt,
    /// Apache's MD5-crypt (`$apr1$salt$hash`): legacy, accepted only by
    /// [`identify_hash_allowing_legacy`].
    Apr1Md5,
    /// Apache's `{SHA}` (base64 of an unsalted SHA-1): legacy, accepted only by
    /// [`identify_hash_allowing_legacy`].
    Sha1,
}

impl HashKind {
    /// Whether this is one of Apache's legacy htpasswd formats, stored only when an import allows
    /// them and replaced by argon2id at the user's first successful login.
    pub fn is_legacy(self) -> bool {
        matches!(self, Self::Apr1Md5 | Self::Sha1)
    }

    /// A short name for listings: `argon2`, `bcrypt`, `apr1-md5`, `sha1`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Argon2 => "argon2",
            Self::Bcrypt => "bcrypt",
            Self::Apr1Md5 => "apr1-md5",
            Self::Sha1 => "sha1",
        }
    }
}

/// Recognises and validates a stored hash string without verifying anything, so that stores and
/// importers can refuse unusable hashes when they are written, not at login (SPEC §6).
///
/// ```
/// use endpoint_auth::hash::{identify_hash, HashKind};
///
/// # #[cfg(feature = "bcrypt")]
/// assert_eq!(
///     identify_hash("$2y$10$cmSkeO2UKAKpxAJZlSDQVuDvgt5Ig4ZgwzhOYHWqfA0d9u8vGbt0i").unwrap(),
///     HashKind::Bcrypt
/// );
/// assert!(identify_hash("$apr1$salt$hash").is_err());
/// assert!(identify_hash("plaintext").is_err());
/// ```
///
/// # Errors
/// [`HashError::UnsupportedFormat`] for other schemes (MD5-crypt, `$apr1$`, SHA1, crypt,
/// plain text); [`HashError::Malformed`] for a damaged argon2 or bcrypt string;
/// [`HashError::BcryptDisabled`] for any bcrypt string when the `bcrypt` feature is off.
pub fn identify_hash(stored: &str) -> Result<HashKind, HashError> {
    match identify_hash_allowing_legacy(stored) {
        Ok(kind) if kind.is_legacy() => Err(HashError::UnsupportedFormat {
            found: describe_prefix(stored),
        }),
        Err(HashError::Malformed {
            scheme: APR1_SCHEME | SHA1_SCHEME,
            ..
        }) => Err(HashError::UnsupportedFormat {
            found: describe_prefix(stored),
        }),
        other => other,
    }
}

/// [`identify_hash`], also accepting Apache's legacy htpasswd formats — apr1-MD5 (`$apr1$`) and
/// `{SHA}` — for an import that explicitly allows them (SPEC §6). [`HashPolicy::verify`] checks
/// them and always asks for a rehash, so the store holds them only until each user's first
/// successful login.
///
/// ```
/// use endpoint_auth::hash::{identify_hash, identify_hash_allowing_legacy, HashKind};
///
/// let apr1 = "$apr1$r31.....$HqJZimcKQFAMYayBlzkrA/";
/// assert_eq!(identify_hash_allowing_legacy(apr1).unwrap(), HashKind::Apr1Md5);
/// assert!(identify_hash(apr1).is_err());
/// ```
///
/// # Errors
/// [`HashError::UnsupportedFormat`] for other schemes; [`HashError::Malformed`] for a damaged
/// string of a known scheme.
pub fn identify_hash_allowing_legacy(stored: &str) -> Result<HashKind, HashError> {
    if stored.starts_with(APR1_PREFIX) {
        parse_apr1(stored)?;
        return Ok(HashKind::Apr1Md5);
    }
    if stored.starts_with(SHA1_PREFIX) {
        parse_sha1(stored)?;
        return Ok(HashKind::Sha1);
    }
    if is_bcrypt(stored) {
        if !cfg!(feature = "bcrypt") {
            return Err(HashError::BcryptDisabled);
        }
        parse_bcrypt(stored)?;
        return Ok(HashKind::Bcrypt);
    }
    if stored.starts_with("$argon2") {
        parse_argon2(stored)?;
        return Ok(HashKind::Argon2);
    }
    Err(HashError::UnsupportedFormat {
        found: describe_prefix(stored),
    })
}

/// How much work verifying `stored` takes, in its family's units (bcrypt: 2^cost rounds;
/// argon2: memory blocks × passes), read from its parameters without verifying anything. `None`
/// for strings that are not bcrypt or argon2.
pub(crate) fn work_units(stored: &str) -> Option<(HashKind, f64)> {
    if is_bcrypt(stored) {
        let cost = parse_bcrypt(stored).ok()?;
        return Some((HashKind::Bcrypt, f64::from(cost).exp2()));
    }
    if stored.starts_with("$argon2") {
        let parsed = parse_argon2(stored).ok()?;
        let units = f64::from(parsed.params.m_cost()) * f64::from(parsed.params.t_cost());
        return Some((HashKind::Argon2, units));
    }
    None
}

/// A secret-free description of an unsupported hash: its `$id$` prefix, or what it looks like.
fn describe_prefix(stored: &str) -> String {
    if let Some(rest) = stored.strip_prefix('$') {
        let id: String = rest.chars().take_while(|c| *c != '$').take(16).collect();
        format!("'${id}$…'")
    } else if stored.starts_with("{SHA}") {
        "'{SHA}…' (SHA-1)".to_owned()
    } else if stored.is_empty() {
        "an empty string".to_owned()
    } else {
        "no '$scheme$' prefix: crypt(3) or plain text".to_owned()
    }
}

const APR1_PREFIX: &str = "$apr1$";
const APR1_SCHEME: &str = "apr1-md5";
const SHA1_PREFIX: &str = "{SHA}";
const SHA1_SCHEME: &str = "{SHA}";
/// crypt(3)'s base64 alphabet, in its order.
const CRYPT_ALPHABET: &[u8; 64] =
    b"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// `$apr1$<salt: 1..=8>$<22 characters>` → (salt, encoded hash).
fn parse_apr1(stored: &str) -> Result<(&str, &str), HashError> {
    let malformed = |detail: &str| HashError::Malformed {
        scheme: APR1_SCHEME,
        detail: detail.to_owned(),
    };
    let rest = stored
        .strip_prefix(APR1_PREFIX)
        .ok_or_else(|| malformed("no $apr1$ prefix"))?;
    let (salt, hash) = rest
        .split_once('$')
        .ok_or_else(|| malformed("expected $apr1$<salt>$<hash>"))?;
    let in_alphabet = |s: &str| s.bytes().all(|b| CRYPT_ALPHABET.contains(&b));
    if salt.is_empty() || salt.len() > 8 || !in_alphabet(salt) {
        return Err(malformed(
            "the salt must be 1 to 8 characters of crypt's alphabet",
        ));
    }
    if hash.len() != 22 || !in_alphabet(hash) {
        return Err(malformed(
            "the hash must be 22 characters of crypt's alphabet",
        ));
    }
    Ok((salt, hash))
}

/// `{SHA}<base64 of 20 bytes>` → the digest.
fn parse_sha1(stored: &str) -> Result<[u8; 20], HashError> {
    use base64::Engine as _;
    let malformed = |detail: &str| HashError::Malformed {
        scheme: SHA1_SCHEME,
        detail: detail.to_owned(),
    };
    let encoded = stored
        .strip_prefix(SHA1_PREFIX)
        .ok_or_else(|| malformed("no {SHA} prefix"))?;
    let digest = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .map_err(|_| malformed("not base64"))?;
    <[u8; 20]>::try_from(digest.as_slice())
        .map_err(|_| malformed("expected the base64 of a 20-byte SHA-1 digest"))
}

/// Apache's MD5-crypt (`apr_md5_encode`, Poul-Henning Kamp's FreeBSD MD5-crypt with the magic
/// `$apr1$`): the 22-character encoded hash of `password` with `salt`.
fn apr1_md5(password: &[u8], salt: &[u8]) -> Zeroizing<String> {
    use md5::{Digest, Md5};
    let mut context = Md5::new();
    context.update(password);
    context.update(APR1_PREFIX.as_bytes());
    context.update(salt);
    let mut alternate = Md5::new();
    alternate.update(password);
    alternate.update(salt);
    alternate.update(password);
    let alternate = Zeroizing::new(<[u8; 16]>::from(alternate.finalize()));
    for chunk in password.chunks(16) {
        context.update(&alternate[..chunk.len()]);
    }
    let mut length = password.len();
    while length > 0 {
        if length & 1 == 1 {
            context.update([0u8]);
        } else {
            context.update(&password[..1]);
        }
        length >>= 1;
    }
    let mut digest = Zeroizing::new(<[u8; 16]>::from(context.finalize()));
    for round in 0..1000 {
        let mut step = Md5::new();
        if round & 1 == 1 {
            step.update(password);
        } else {
            step.update(&digest[..]);
        }
        if round % 3 != 0 {
            step.update(salt);
        }
        if round % 7 != 0 {
            step.update(password);
        }
        if round & 1 == 1 {
            step.update(&digest[..]);
        } else {
            step.update(password);
        }
        *digest = step.finalize().into();
    }
    let d = &*digest;
    let mut encoded = Zeroizing::new(String::with_capacity(22));
    let mut push = |value: u32, characters: usize| {
        let mut value = value;
        for _ in 0..characters {
            encoded.push(char::from(CRYPT_ALPHABET[(value & 0x3f) as usize]));
            value >>= 6;
        }
    };
    for (a, b, c) in [(0, 6, 12), (1, 7, 13), (2, 8, 14), (3, 9, 15), (4, 10, 5)] {
        push(
            u32::from(d[a]) << 16 | u32::from(d[b]) << 8 | u32::from(d[c]),
            4,
        );
    }
    push(u32::from(d[11]), 2);
    encoded
}

fn is_bcrypt(stored: &str) -> bool {
    ["$2a$", "$2b$", "$2x$", "$2y$"]
        .iter()
        .any(|p| stored.starts_with(p))
}

fn parse_bcrypt(stored: &str) -> Result<u32, HashError> {
    let malformed = |detail: &str| HashError::Malformed {
        scheme: "bcrypt",
        detail: detail.to_owned(),
    };
    // $2b$<cost:2>$<salt+hash:53>
    let bytes = stored.as_bytes();
    if bytes.len() != 60 || bytes[6] != b'$' {
        return Err(malformed(
            "expected 60 characters: $2b$<cost>$<53 characters>",
        ));
    }
    let cost: u32 = stored[4..6]
        .parse()
        .map_err(|_| malformed("cost is not a number"))?;
    if !(4..=31).contains(&cost) {
        return Err(malformed("cost must be 4..=31"));
    }
    let bcrypt_alphabet = |b: &u8| b.is_ascii_alphanumeric() || *b == b'.' || *b == b'/';
    if !bytes[7..].iter().all(bcrypt_alphabet) {
        return Err(malformed("salt and hash must use bcrypt's base64 alphabet"));
    }
    Ok(cost)
}

fn parse_argon2(stored: &str) -> Result<ParsedArgon2, HashError> {
    let malformed = |detail: String| HashError::Malformed {
        scheme: "argon2",
        detail,
    };
    let phc = PasswordHash::new(stored).map_err(|e| malformed(e.to_string()))?;
    let algorithm = Algorithm::new(phc.algorithm.as_str()).map_err(|e| malformed(e.to_string()))?;
    let version = match phc.version {
        Some(v) => Version::try_from(v).map_err(|e| malformed(e.to_string()))?,
        None => Version::V0x10,
    };
    let params = Params::try_from(&phc).map_err(|e| malformed(e.to_string()))?;
    let salt = phc.salt.ok_or_else(|| malformed("no salt".to_owned()))?;
    let expected = phc
        .hash
        .ok_or_else(|| malformed("no hash output".to_owned()))?;
    Ok(ParsedArgon2 {
        algorithm,
        version,
        params,
        salt,
        expected,
    })
}

struct ParsedArgon2 {
    algorithm: Algorithm,
    version: Version,
    params: Params,
    salt: Salt,
    expected: Output,
}

/// The result of checking a password against a stored hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub struct Verification {
    /// Whether the password is the one the hash was made from.
    pub matched: bool,
    /// Whether the hash is outdated (bcrypt, another argon2 variant, or weaker parameters than
    /// the policy's) and should be replaced by a fresh one after a successful login.
    pub needs_rehash: bool,
}

/// Argon2 parameters for new hashes, and limits for verifying stored ones.
///
/// The default is OWASP's recommendation for argon2id: m = 19456 KiB, t = 2, p = 1.
///
/// ```
/// use endpoint_auth::HashPolicy;
///
/// let policy = HashPolicy::owasp();
/// let stored = policy.hash("correct horse").unwrap();
/// assert!(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
/// assert!(policy.verify("correct horse", &stored).unwrap().matched);
/// assert!(!policy.verify("wrong horse", &stored).unwrap().matched);
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct HashPolicy {
    params: Params,
    max_verify_memory_kib: u32,
}

impl fmt::Debug for HashPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HashPolicy")
            .field("m_cost_kib", &self.params.m_cost())
            .field("t_cost", &self.params.t_cost())
            .field("p_cost", &self.params.p_cost())
            .field("max_verify_memory_kib", &self.max_verify_memory_kib)
            .finish()
    }
}

impl Default for HashPolicy {
    fn default() -> Self {
        Self::owasp()
    }
}

/// Default ceiling on the memory a stored hash may ask for: 256 MiB.
pub const DEFAULT_MAX_VERIFY_MEMORY_KIB: u32 = 256 * 1024;

impl HashPolicy {
    /// OWASP's argon2id parameters: m = 19456 KiB, t = 2, p = 1.
    pub fn owasp() -> Self {
        Self {
            params: Params::DEFAULT,
            max_verify_memory_kib: DEFAULT_MAX_VERIFY_MEMORY_KIB,
        }
    }

    /// Custom argon2id parameters for new hashes: memory in KiB, iterations, lanes.
    ///
    /// # Errors
    /// [`HashError::InvalidParams`] when argon2 refuses them (e.g. m < 8·p).
    pub fn argon2id(m_cost_kib: u32, t_cost: u32, p_cost: u32) -> Result<Self, HashError> {
        let params = Params::new(m_cost_kib, t_cost, p_cost, None)
            .map_err(|e| HashError::InvalidParams(e.to_string()))?;
        Ok(Self {
            params,
            max_verify_memory_kib: DEFAULT_MAX_VERIFY_MEMORY_KIB.max(m_cost_kib),
        })
    }

    /// The ceiling on the memory (KiB) a stored hash may ask for when verified. Hashes above it
    /// fail with [`HashError::TooExpensive`] instead of allocating.
    pub fn max_verify_memory_kib(mut self, kib: u32) -> Self {
        self.max_verify_memory_kib = kib.max(self.params.m_cost());
        self
    }

    /// Memory cost of new hashes, KiB.
    pub fn m_cost_kib(&self) -> u32 {
        self.params.m_cost()
    }

    /// Iterations of new hashes.
    pub fn t_cost(&self) -> u32 {
        self.params.t_cost()
    }

    /// Lanes of new hashes.
    pub fn p_cost(&self) -> u32 {
        self.params.p_cost()
    }

    /// Hashes `password` (NFC-normalized first) into a new argon2id PHC string with a random
    /// 16-byte salt.
    ///
    /// # Errors
    /// [`HashError::Random`] if the OS random number generator fails.
    pub fn hash(&self, password: &str) -> Result<String, HashError> {
        let password = Zeroizing::new(to_nfc(password));
        let mut salt = [0u8; 16];
        getrandom::fill(&mut salt).map_err(|_| HashError::Random)?;
        let salt = Salt::new(&salt).map_err(|e| HashError::InvalidParams(e.to_string()))?;
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone());
        let mut out = Zeroizing::new([0u8; Params::DEFAULT_OUTPUT_LEN]);
        with_scratch(self.params.block_count(), |blocks| {
            argon2.hash_password_into_with_memory(password.as_bytes(), &salt, &mut out[..], blocks)
        })
        .map_err(|e| HashError::InvalidParams(e.to_string()))?;
        let output = Output::new(&out[..]).map_err(|e| HashError::InvalidParams(e.to_string()))?;
        let phc = PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(&self.params)
                .map_err(|e| HashError::InvalidParams(e.to_string()))?,
            salt: Some(salt),
            hash: Some(output),
        };
        Ok(phc.to_string())
    }

    /// Checks `password` (NFC-normalized first) against a stored argon2 or bcrypt hash, or an
    /// imported legacy apr1-MD5 / `{SHA}` hash (always with `needs_rehash`).
    ///
    /// Argon2 work memory is reused per thread: a thread that verifies many passwords allocates
    /// its buffer once, so a bounded pool of threads bounds hashing memory.
    ///
    /// # Errors
    /// [`HashError`] when the stored string is unsupported, malformed or too expensive. A wrong
    /// password is not an error: it is `Ok` with `matched == false`.
    pub fn verify(&self, password: &str, stored: &str) -> Result<Verification, HashError> {
        let password = Zeroizing::new(to_nfc(password));
        if stored.starts_with(APR1_PREFIX) {
            let (salt, expected) = parse_apr1(stored)?;
            let computed = apr1_md5(password.as_bytes(), salt.as_bytes());
            return Ok(Verification {
                matched: bool::from(computed.as_bytes().ct_eq(expected.as_bytes())),
                needs_rehash: true,
            });
        }
        if stored.starts_with(SHA1_PREFIX) {
            use sha1::{Digest, Sha1};
            let expected = parse_sha1(stored)?;
            let computed = Zeroizing::new(<[u8; 20]>::from(Sha1::digest(password.as_bytes())));
            return Ok(Verification {
                matched: bool::from(computed[..].ct_eq(&expected[..])),
                needs_rehash: true,
            });
        }
        if is_bcrypt(stored) {
            return verify_bcrypt(password.as_bytes(), stored);
        }
        if !stored.starts_with("$argon2") {
            return Err(HashError::UnsupportedFormat {
                found: describe_prefix(stored),
            });
        }
        let parsed = parse_argon2(stored)?;
        if parsed.params.m_cost() > self.max_verify_memory_kib {
            return Err(HashError::TooExpensive {
                m_cost_kib: parsed.params.m_cost(),
                limit_kib: self.max_verify_memory_kib,
            });
        }
        let argon2 = Argon2::new(parsed.algorithm, parsed.version, parsed.params.clone());
        let mut computed = Zeroizing::new(vec![0u8; parsed.expected.len()]);
        with_scratch(parsed.params.block_count(), |blocks| {
            argon2.hash_password_into_with_memory(
                password.as_bytes(),
                &parsed.salt,
                &mut computed[..],
                blocks,
            )
        })
        .map_err(|e| HashError::Malformed {
            scheme: "argon2",
            detail: e.to_string(),
        })?;
        let matched = bool::from(computed.as_slice().ct_eq(parsed.expected.as_bytes()));
        Ok(Verification {
            matched,
            needs_rehash: self.is_outdated(&parsed),
        })
    }

    /// Whether a stored hash should be replaced after the next successful login: bcrypt, an
    /// argon2 variant other than argon2id, an older version, or parameters weaker than this
    /// policy's. Unparseable strings count as outdated.
    pub fn needs_rehash(&self, stored: &str) -> bool {
        if !stored.starts_with("$argon2") {
            return true;
        }
        parse_argon2(stored).map_or(true, |parsed| self.is_outdated(&parsed))
    }

    fn is_outdated(&self, parsed: &ParsedArgon2) -> bool {
        parsed.algorithm != Algorithm::Argon2id
            || parsed.version != Version::V0x13
            || parsed.params.m_cost() < self.params.m_cost()
            || parsed.params.t_cost() < self.params.t_cost()
            || parsed.params.p_cost() < self.params.p_cost()
    }
}

#[cfg(feature = "bcrypt")]
fn verify_bcrypt(password: &[u8], stored: &str) -> Result<Verification, HashError> {
    parse_bcrypt(stored)?;
    let matched = bcrypt::verify(password, stored).map_err(|e| HashError::Malformed {
        scheme: "bcrypt",
        detail: e.to_string(),
    })?;
    Ok(Verification {
        matched,
        needs_rehash: true,
    })
}

/// A bcrypt hash that reached the store anyway (written by a build with bcrypt, or around the
/// checks) is an unusable hash, reported as such, never a wrong password.
#[cfg(not(feature = "bcrypt"))]
fn verify_bcrypt(_password: &[u8], _stored: &str) -> Result<Verification, HashError> {
    Err(HashError::BcryptDisabled)
}

thread_local! {
    /// Argon2 work memory, kept for the life of the thread: allocating ~19 MiB per verification
    /// lets a burst of requests drive memory use into gigabytes.
    static SCRATCH: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` with `blocks` argon2 blocks of this thread's reusable memory, zeroed afterwards so no
/// password-derived state outlives the call.
fn with_scratch<R>(blocks: usize, f: impl FnOnce(&mut [Block]) -> R) -> R {
    SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut scratch) => {
            if scratch.len() < blocks {
                scratch.resize(blocks, Block::default());
            }
            let result = f(&mut scratch[..blocks]);
            scratch[..blocks].iter_mut().for_each(Zeroize::zeroize);
            result
        }
        // Re-entered on the same thread (not something this crate does): use fresh memory.
        Err(_) => {
            let mut fresh = vec![Block::default(); blocks];
            let result = f(&mut fresh);
            fresh.iter_mut().for_each(Zeroize::zeroize);
            result
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cheap() -> HashPolicy {
        HashPolicy::argon2id(64, 1, 1).unwrap()
    }

    #[test]
    fn new_hashes_are_argon2id_with_policy_params() {
        let h = cheap().hash("pw").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=64,t=1,p=1$"), "{h}");
        assert_eq!(identify_hash(&h).unwrap(), HashKind::Argon2);
        assert!(!cheap().needs_rehash(&h));
    }

    #[test]
    fn verifies_argon2_variants() {
        for alg in [Algorithm::Argon2i, Algorithm::Argon2d, Algorithm::Argon2id] {
            let params = Params::new(64, 1, 1, None).unwrap();
            let argon2 = Argon2::new(alg, Version::V0x13, params);
            use argon2::PasswordHasher as _;
            let stored = argon2
                .hash_password_with_salt(b"secret", b"saltsaltsalt")
                .unwrap()
                .to_string();
            let v = cheap().verify("secret", &stored).unwrap();
            assert!(v.matched, "{stored}");
            assert_eq!(v.needs_rehash, alg != Algorithm::Argon2id, "{stored}");
            assert!(!cheap().verify("Secret", &stored).unwrap().matched);
        }
    }

    #[test]
    #[cfg(feature = "bcrypt")]
    fn verifies_all_bcrypt_prefixes_and_asks_for_rehash() {
        let stored = bcrypt::hash("secret", 4).unwrap();
        for prefix in ["$2a$", "$2b$", "$2x$", "$2y$"] {
            let variant = format!("{prefix}{}", &stored[4..]);
            let v = cheap().verify("secret", &variant).unwrap();
            assert!(v.matched, "{variant}");
            assert!(v.needs_rehash);
            assert!(!cheap().verify("wrong", &variant).unwrap().matched);
        }
    }

    #[test]
    #[cfg(feature = "bcrypt")]
    fn htpasswd_bcrypt_example_verifies() {
        // `htpasswd -nbB myName myPassword`, as printed in the Apache documentation style.
        let stored = bcrypt::hash_with_salt("myPassword", 5, *b"0123456789abcdef")
            .unwrap()
            .format_for_version(bcrypt::Version::TwoY);
        assert!(cheap().verify("myPassword", &stored).unwrap().matched);
    }

    #[test]
    fn weaker_argon2_params_need_rehash() {
        let weak = cheap().hash("pw").unwrap();
        assert!(HashPolicy::argon2id(128, 1, 1).unwrap().needs_rehash(&weak));
        assert!(HashPolicy::argon2id(64, 2, 1).unwrap().needs_rehash(&weak));
        assert!(!HashPolicy::argon2id(32, 1, 1).unwrap().needs_rehash(&weak));
    }

    #[test]
    fn passwords_are_hashed_from_nfc() {
        let stored = cheap().hash("caf\u{e9}").unwrap();
        assert!(cheap().verify("cafe\u{301}", &stored).unwrap().matched);
    }

    #[test]
    fn unsupported_formats_are_refused_with_a_clear_error() {
        for bad in [
            "$apr1$abcdefgh$0123456789abcdefghijkl",
            "$1$saltsalt$hash",
            "{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=",
            "abJnggxhB/yWI",
            "plain password",
            "",
            "$5$rounds=5000$salt$hash",
        ] {
            let err = identify_hash(bad).unwrap_err();
            assert!(
                matches!(err, HashError::UnsupportedFormat { .. }),
                "{bad}: {err}"
            );
            let legacy = bad.starts_with("$apr1$") || bad.starts_with("{SHA}");
            assert_eq!(cheap().verify("x", bad).is_err(), !legacy, "{bad}");
        }
        let message = identify_hash("$apr1$x$y").unwrap_err().to_string();
        assert!(
            message.contains("$apr1$") && message.contains("argon2id"),
            "{message}"
        );
    }

    #[test]
    #[cfg(not(feature = "bcrypt"))]
    fn bcrypt_hashes_are_refused_when_compiled_out() {
        let stored = "$2y$10$cmSkeO2UKAKpxAJZlSDQVuDvgt5Ig4ZgwzhOYHWqfA0d9u8vGbt0i";
        for identify in [identify_hash, identify_hash_allowing_legacy] {
            assert_eq!(identify(stored), Err(HashError::BcryptDisabled));
        }
        assert_eq!(cheap().verify("pw", stored), Err(HashError::BcryptDisabled));
        let message = HashError::BcryptDisabled.to_string();
        assert!(message.contains("`bcrypt` feature"), "{message}");
    }

    #[test]
    fn damaged_hashes_are_malformed() {
        #[cfg(feature = "bcrypt")]
        assert!(matches!(
            identify_hash("$2b$10$short"),
            Err(HashError::Malformed {
                scheme: "bcrypt",
                ..
            })
        ));
        assert!(matches!(
            identify_hash("$argon2id$v=19$m=64,t=1,p=1$!!$!!"),
            Err(HashError::Malformed {
                scheme: "argon2",
                ..
            })
        ));
    }

    #[test]
    fn too_expensive_hashes_are_refused_before_allocating() {
        let policy = cheap().max_verify_memory_kib(64);
        let big = HashPolicy::argon2id(128, 1, 1).unwrap().hash("pw").unwrap();
        assert!(matches!(
            policy.verify("pw", &big),
            Err(HashError::TooExpensive {
                m_cost_kib: 128,
                ..
            })
        ));
    }

    #[test]
    fn debug_shows_params_only() {
        let shown = format!("{:?}", HashPolicy::owasp());
        assert!(shown.contains("19456"), "{shown}");
    }

    /// `htpasswd -nbm myName myPassword` and `htpasswd -nbs myName myPassword`, as printed in
    /// Apache's "Password Formats" documentation.
    const APACHE_APR1: &str = "$apr1$r31.....$HqJZimcKQFAMYayBlzkrA/";
    const APACHE_SHA1: &str = "{SHA}VBPuJHI7uixaa6LQGWx4s+5GKNE=";

    #[test]
    fn legacy_htpasswd_hashes_verify_and_always_ask_for_rehash() {
        for stored in [APACHE_APR1, APACHE_SHA1] {
            let right = cheap().verify("myPassword", stored).unwrap();
            assert!(right.matched && right.needs_rehash, "{stored}");
            let wrong = cheap().verify("mypassword", stored).unwrap();
            assert!(!wrong.matched && wrong.needs_rehash, "{stored}");
            assert!(cheap().needs_rehash(stored));
        }
    }

    #[test]
    fn apr1_matches_published_vectors() {
        // Salt and password lengths around the algorithm's 16-byte and bit-walk boundaries;
        // expected values from `htpasswd -nbm` / `openssl passwd -apr1`.
        for (password, stored) in [
            ("myPassword", APACHE_APR1),
            ("password", "$apr1$YoqOH0kx$JiT2xiYDrrcUGrbbvKC.B."),
            (
                "a-password-longer-than-16-bytes!",
                "$apr1$YoqOH0kx$0FlLcJieG7.dYL.JIlwhR/",
            ),
            ("x", "$apr1$YoqOH0kx$eIWnBNSuskYQ7nus4L7bv0"),
            ("h\u{e9}llo", "$apr1$ab$EbcGfEhbHwRGUiEvAg4iu/"),
        ] {
            let (salt, expected) = parse_apr1(stored).unwrap();
            assert_eq!(
                apr1_md5(password.as_bytes(), salt.as_bytes()).as_str(),
                expected,
                "{stored}"
            );
        }
    }

    #[test]
    fn legacy_hashes_are_identified_only_when_allowed() {
        assert_eq!(
            identify_hash_allowing_legacy(APACHE_APR1).unwrap(),
            HashKind::Apr1Md5
        );
        assert_eq!(
            identify_hash_allowing_legacy(APACHE_SHA1).unwrap(),
            HashKind::Sha1
        );
        assert!(HashKind::Sha1.is_legacy() && !HashKind::Bcrypt.is_legacy());
        for stored in [APACHE_APR1, APACHE_SHA1, "$apr1$x$y", "{SHA}short"] {
            assert!(
                matches!(
                    identify_hash(stored),
                    Err(HashError::UnsupportedFormat { .. })
                ),
                "{stored}"
            );
        }
        for damaged in [
            "$apr1$x$y",
            "$apr1$toolongsalt$HqJZimcKQFAMYayBlzkrA/",
            "$apr1$r31.....$HqJZimcKQFAMYayBlzkrA",
            "{SHA}VBPuJHI7uixaa6LQGWx4s+5GKNE",
            "{SHA}c2hvcnQ=",
        ] {
            assert!(
                matches!(
                    identify_hash_allowing_legacy(damaged),
                    Err(HashError::Malformed { .. })
                ),
                "{damaged}"
            );
            assert!(cheap().verify("x", damaged).is_err(), "{damaged}");
        }
        let argon2 = cheap().hash("pw").unwrap();
        assert_eq!(
            identify_hash_allowing_legacy(&argon2).unwrap(),
            HashKind::Argon2
        );
    }
}
