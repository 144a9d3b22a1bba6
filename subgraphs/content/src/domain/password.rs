//! Password policy and argon2id hashing.

use super::ContentError;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

/// A password that meets the policy: 8–128 characters with at least one letter and one digit.
pub struct Password(String);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(***)")
    }
}

impl Password {
    /// Checks the policy.
    pub fn parse(raw: &str) -> Result<Password, ContentError> {
        let length = raw.chars().count();
        let has_letter = raw.chars().any(char::is_alphabetic);
        let has_digit = raw.chars().any(|c| c.is_ascii_digit());
        if (8..=128).contains(&length) && has_letter && has_digit {
            Ok(Password(raw.to_owned()))
        } else {
            Err(ContentError::InvalidInput("A password has 8 to 128 characters with at least one letter and one digit.".into()))
        }
    }

    /// The argon2id PHC string to store.
    pub fn hash(&self) -> Result<String, ContentError> {
        let salt = SaltString::generate(&mut OsRng);
        hasher()
            .hash_password(self.0.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|e| ContentError::internal(anyhow::anyhow!("argon2: {e}")))
    }
}

/// argon2id with OWASP's second recommended setting (19 MiB, 2 passes, 1 lane).
fn hasher() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Whether `candidate` matches the stored PHC string. Hashing is CPU-heavy: call it from a
/// blocking task.
pub fn verify(candidate: &str, stored: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|hash| hasher().verify_password(candidate.as_bytes(), &hash).is_ok())
}

/// A hash of a random password, verified against when the login names no account, so a
/// missing account takes as long as a wrong password.
pub fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| Password("decoy-password-1".into()).hash().unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_needs_length_a_letter_and_a_digit() {
        assert!(Password::parse("abcdefg1").is_ok());
        for weak in ["short1", "abcdefgh", "12345678", ""] {
            assert!(Password::parse(weak).is_err(), "{weak:?} should be weak");
        }
    }

    #[test]
    fn hashes_verify_only_the_right_password() {
        let hash = Password::parse("correct horse 1").expect("valid").hash().expect("hash");
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify("correct horse 1", &hash));
        assert!(!verify("correct horse 2", &hash));
        assert!(!verify("anything", "not a hash"));
    }
}
