//! Signed upload URLs: `<base>/uploads/<id>?expires=<unix>&signature=<mac>`.
//!
//! The MAC is HMAC-SHA256 over `<id>|<expires>` (the id in its hyphenated lowercase form),
//! base64url without padding. Its key is derived from the content subgraph's Ed25519 private
//! key ([`KeyPair::derive_secret`]), so every replica that loads the same key directory
//! verifies URLs any of them issued, and no other subgraph (which holds only the public key)
//! can mint one.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use platform::auth::KeyPair;
use sha2::Sha256;
use std::fmt;
use uuid::Uuid;

/// Domain-separation label of the derived secret: a MAC for upload URLs verifies nothing else.
const SECRET_LABEL: &str = "vidgraph/content/upload-url/v1";

/// Why a signed URL was refused. Both are `FORBIDDEN` to the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// Missing, malformed or not ours (or the id or expiry was changed).
    #[error("the upload URL's signature is invalid")]
    Invalid,
    /// Ours, but past its expiry.
    #[error("the upload URL has expired")]
    Expired,
}

/// Signs and verifies upload URLs.
#[derive(Clone)]
pub struct UploadUrlSigner {
    secret: [u8; 32],
}

impl fmt::Debug for UploadUrlSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("UploadUrlSigner(..)")
    }
}

impl UploadUrlSigner {
    /// A signer keyed from the subgraph's signing key.
    pub fn new(keys: &KeyPair) -> UploadUrlSigner {
        UploadUrlSigner { secret: keys.derive_secret(SECRET_LABEL) }
    }

    fn mac(&self, id: Uuid, expires: i64) -> Hmac<Sha256> {
        // HMAC accepts keys of any length; 32 bytes cannot fail.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.secret).expect("HMAC takes keys of any length");
        mac.update(format!("{}|{expires}", id.hyphenated()).as_bytes());
        mac
    }

    /// The signature of `id` valid until `expires` (unix seconds).
    pub fn sign(&self, id: Uuid, expires: i64) -> String {
        URL_SAFE_NO_PAD.encode(self.mac(id, expires).finalize().into_bytes())
    }

    /// Checks a signature (in constant time), then the expiry against `now`.
    pub fn verify(&self, id: Uuid, expires: i64, signature: &str, now: DateTime<Utc>) -> Result<(), SignatureError> {
        let bytes = URL_SAFE_NO_PAD.decode(signature).map_err(|_| SignatureError::Invalid)?;
        self.mac(id, expires).verify_slice(&bytes).map_err(|_| SignatureError::Invalid)?;
        if now.timestamp() >= expires { Err(SignatureError::Expired) } else { Ok(()) }
    }

    /// The full URL under `base` (no trailing slash needed).
    pub fn url(&self, base: &str, id: Uuid, expires: DateTime<Utc>) -> String {
        let expires = expires.timestamp();
        format!("{}/uploads/{}?expires={expires}&signature={}", base.trim_end_matches('/'), id.hyphenated(), self.sign(id, expires))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn signer() -> UploadUrlSigner {
        UploadUrlSigner::new(&KeyPair::generate().expect("key"))
    }

    #[test]
    fn a_fresh_signature_verifies_and_the_url_carries_it() {
        let signer = signer();
        let id = Uuid::now_v7();
        let now = Utc::now();
        let expires = now + Duration::seconds(60);
        let url = signer.url("http://127.0.0.1:4001/", id, expires);
        let signature = url.split("signature=").nth(1).expect("signature");
        assert!(url.starts_with(&format!("http://127.0.0.1:4001/uploads/{id}?expires={}&", expires.timestamp())), "{url}");
        assert_eq!(signer.verify(id, expires.timestamp(), signature, now), Ok(()));
    }

    #[test]
    fn tampered_signatures_ids_expiries_and_foreign_keys_are_invalid() {
        let signer = signer();
        let id = Uuid::now_v7();
        let now = Utc::now();
        let expires = (now + Duration::seconds(60)).timestamp();
        let signature = signer.sign(id, expires);
        let mut flipped = signature.clone().into_bytes();
        flipped[0] = if flipped[0] == b'A' { b'B' } else { b'A' };
        let flipped = String::from_utf8(flipped).expect("ascii");
        assert_eq!(signer.verify(id, expires, &flipped, now), Err(SignatureError::Invalid));
        assert_eq!(signer.verify(id, expires + 3600, &signature, now), Err(SignatureError::Invalid), "expiry extended");
        assert_eq!(signer.verify(Uuid::now_v7(), expires, &signature, now), Err(SignatureError::Invalid), "other upload");
        assert_eq!(signer.verify(id, expires, "not base64!", now), Err(SignatureError::Invalid));
        assert_eq!(signer.verify(id, expires, "", now), Err(SignatureError::Invalid));
        assert_eq!(super::tests::signer().verify(id, expires, &signature, now), Err(SignatureError::Invalid), "other key");
    }

    #[test]
    fn an_expired_signature_is_refused_and_replicas_with_one_key_agree() {
        let keys = KeyPair::generate().expect("key");
        let replica_a = UploadUrlSigner::new(&keys);
        let replica_b = UploadUrlSigner::new(&KeyPair::from_pkcs8(keys.pkcs8_der().to_vec()).expect("same key"));
        let id = Uuid::now_v7();
        let now = Utc::now();
        let expires = (now + Duration::seconds(60)).timestamp();
        let signature = replica_a.sign(id, expires);
        assert_eq!(replica_b.verify(id, expires, &signature, now), Ok(()));
        assert_eq!(replica_b.verify(id, expires, &signature, now + Duration::seconds(61)), Err(SignatureError::Expired));
        assert_eq!(replica_b.verify(id, expires, &signature, now + Duration::seconds(60)), Err(SignatureError::Expired));
    }
}
