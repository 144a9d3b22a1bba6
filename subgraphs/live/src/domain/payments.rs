//! The payment provider's callback, modelled honestly: the provider POSTs a JSON body and an
//! HMAC-SHA256 of exactly those bytes, keyed with a secret we share with it, in
//! `X-Payment-Signature: sha256=<hex>`. Nothing in a body counts before its signature checks.

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use uuid::Uuid;

/// The header the signature travels in.
pub const SIGNATURE_HEADER: &str = "x-payment-signature";

/// What the provider tells us: an order was paid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PaymentNotice {
    /// The order `createRechargeOrder` returned.
    pub order_id: Uuid,
    /// What was paid, minor units (must equal the order's amount).
    pub amount: i64,
    /// The provider's own transaction reference.
    pub provider_ref: String,
}

/// Signs and verifies callback bodies.
#[derive(Clone)]
pub struct CallbackSigner {
    secret: Vec<u8>,
}

/// Why a callback body was refused before anything else was looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// No signature header.
    #[error("the callback is not signed")]
    Missing,
    /// A signature that does not match the body.
    #[error("the callback's signature does not match its body")]
    Invalid,
}

impl CallbackSigner {
    /// A signer with the shared secret.
    pub fn new(secret: &str) -> CallbackSigner {
        CallbackSigner { secret: secret.as_bytes().to_vec() }
    }

    fn mac(&self, body: &[u8]) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.secret).expect("HMAC takes keys of any length");
        mac.update(body);
        mac
    }

    /// The header value for `body`.
    pub fn sign(&self, body: &[u8]) -> String {
        format!("sha256={}", hex(&self.mac(body).finalize().into_bytes()))
    }

    /// Checks the header value against `body`, in constant time.
    pub fn verify(&self, body: &[u8], header: Option<&str>) -> Result<(), SignatureError> {
        let header = header.ok_or(SignatureError::Missing)?;
        let digest = header.trim().strip_prefix("sha256=").and_then(unhex).ok_or(SignatureError::Invalid)?;
        self.mac(body).verify_slice(&digest).map_err(|_| SignatureError::Invalid)
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.is_ascii() {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_body_verifies_and_any_change_does_not() {
        let signer = CallbackSigner::new("shh");
        let body = br#"{"orderId":"0190b2a4-0000-7000-8000-000000000001","amount":1000,"providerRef":"tx-1"}"#;
        let signature = signer.sign(body);
        assert_eq!(signer.verify(body, Some(&signature)), Ok(()));
        let tampered = String::from_utf8_lossy(body).replace("1000", "9000");
        assert_eq!(signer.verify(tampered.as_bytes(), Some(&signature)), Err(SignatureError::Invalid));
        assert_eq!(signer.verify(body, None), Err(SignatureError::Missing));
        assert_eq!(signer.verify(body, Some("sha256=zz")), Err(SignatureError::Invalid));
        assert_eq!(signer.verify(body, Some(&signature.replace("sha256=", ""))), Err(SignatureError::Invalid));
        assert_eq!(CallbackSigner::new("other").verify(body, Some(&signature)), Err(SignatureError::Invalid), "another key");
    }
}
