//! Signed file URLs: `<base>/files/<task_id>?user=<user_id>&expires=<unix>&signature=<mac>`.
//!
//! The MAC is HMAC-SHA256 over `<task_id>|<user_id>|<expires>` (hyphenated lowercase ids),
//! base64url without padding, under `assets.file_url_secret` or, by default, a secret derived
//! from the platform's private signing key, so every replica verifies what any of them issued.
//! The route also checks that the task is still that user's finished download.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::fmt;
use uuid::Uuid;

/// Domain-separation label of the derived secret.
pub const SECRET_LABEL: &str = "vidgraph/assets/file-url/v1";

/// Why a signed URL was refused (403 either way).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// Missing, malformed, not ours, or an id or expiry was changed.
    #[error("the file URL's signature is invalid")]
    Invalid,
    /// Past its expiry.
    #[error("the file URL has expired")]
    Expired,
}

/// Signs and verifies file URLs.
#[derive(Clone)]
pub struct FileUrlSigner {
    secret: Vec<u8>,
}

impl fmt::Debug for FileUrlSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FileUrlSigner(..)")
    }
}

impl FileUrlSigner {
    /// A signer with this secret (at least 16 bytes are expected).
    pub fn new(secret: Vec<u8>) -> FileUrlSigner {
        FileUrlSigner { secret }
    }

    fn mac(&self, task_id: Uuid, user_id: Uuid, expires: i64) -> Hmac<Sha256> {
        // HMAC takes keys of any length.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.secret).expect("HMAC takes keys of any length");
        mac.update(format!("{}|{}|{expires}", task_id.hyphenated(), user_id.hyphenated()).as_bytes());
        mac
    }

    /// The signature.
    pub fn sign(&self, task_id: Uuid, user_id: Uuid, expires: i64) -> String {
        URL_SAFE_NO_PAD.encode(self.mac(task_id, user_id, expires).finalize().into_bytes())
    }

    /// Checks a signature in constant time, then the expiry.
    pub fn verify(&self, task_id: Uuid, user_id: Uuid, expires: i64, signature: &str, now: DateTime<Utc>) -> Result<(), SignatureError> {
        let bytes = URL_SAFE_NO_PAD.decode(signature).map_err(|_| SignatureError::Invalid)?;
        self.mac(task_id, user_id, expires).verify_slice(&bytes).map_err(|_| SignatureError::Invalid)?;
        if now.timestamp() >= expires { Err(SignatureError::Expired) } else { Ok(()) }
    }

    /// The URL under `base`.
    pub fn url(&self, base: &str, task_id: Uuid, user_id: Uuid, expires: DateTime<Utc>) -> String {
        let expires = expires.timestamp();
        format!(
            "{}/files/{}?user={}&expires={expires}&signature={}",
            base.trim_end_matches('/'),
            task_id.hyphenated(),
            user_id.hyphenated(),
            self.sign(task_id, user_id, expires)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn a_fresh_url_verifies_and_tampering_or_expiry_is_refused() {
        let signer = FileUrlSigner::new(b"0123456789abcdef0123456789abcdef".to_vec());
        let (task, user, other) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let now = Utc::now();
        let expires = (now + Duration::seconds(60)).timestamp();
        let signature = signer.sign(task, user, expires);
        assert_eq!(signer.verify(task, user, expires, &signature, now), Ok(()));
        assert_eq!(signer.verify(task, other, expires, &signature, now), Err(SignatureError::Invalid), "another user");
        assert_eq!(signer.verify(other, user, expires, &signature, now), Err(SignatureError::Invalid), "another file");
        assert_eq!(signer.verify(task, user, expires + 60, &signature, now), Err(SignatureError::Invalid), "extended");
        assert_eq!(signer.verify(task, user, expires, "garbage!", now), Err(SignatureError::Invalid));
        assert_eq!(signer.verify(task, user, expires, &signature, now + Duration::seconds(60)), Err(SignatureError::Expired));
        let foreign = FileUrlSigner::new(b"another secret of sixteen+ bytes".to_vec());
        assert_eq!(foreign.verify(task, user, expires, &signature, now), Err(SignatureError::Invalid));
        let url = signer.url("http://127.0.0.1:4005/", task, user, now + Duration::seconds(60));
        assert!(url.starts_with(&format!("http://127.0.0.1:4005/files/{task}?user={user}&expires={expires}&signature=")), "{url}");
    }
}
