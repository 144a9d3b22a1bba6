//! Refresh-token secrets: random, shown to the client once, stored only as a SHA-256 hash.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// A freshly generated refresh secret and its stored hash.
pub struct RefreshSecret {
    /// What the client receives.
    pub token: String,
    /// What the database keeps.
    pub hash: Vec<u8>,
}

impl RefreshSecret {
    /// 256 random bits, base64url.
    pub fn generate() -> RefreshSecret {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let token = URL_SAFE_NO_PAD.encode(bytes);
        let hash = hash_token(&token);
        RefreshSecret { token, hash }
    }
}

/// The stored form of a presented token.
pub fn hash_token(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_unique_and_hash_consistently() {
        let a = RefreshSecret::generate();
        let b = RefreshSecret::generate();
        assert_ne!(a.token, b.token);
        assert_eq!(a.hash, hash_token(&a.token));
        assert_eq!(a.token.len(), 43);
    }
}
