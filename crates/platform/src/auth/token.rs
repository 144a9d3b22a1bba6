use super::keys::{Jwks, KeyError, KeyPair};
use super::viewer::{AuthUser, Role};
use crate::config::AuthConfig;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use uuid::Uuid;

/// The claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessClaims {
    /// The user id.
    pub sub: Uuid,
    /// `user` or `admin`.
    pub role: Role,
    /// Issuer.
    pub iss: String,
    /// Audience.
    pub aud: String,
    /// Issued at (seconds since the epoch).
    pub iat: i64,
    /// Expires at (seconds since the epoch).
    pub exp: i64,
}

/// Why a presented token was refused. Every variant is `UNAUTHENTICATED` for the client; the
/// variants exist for the log.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// Expired: the client should refresh.
    #[error("access token expired")]
    Expired,
    /// Malformed, wrong algorithm, unknown key, bad signature, wrong issuer/audience.
    #[error("invalid access token")]
    Invalid(#[source] jsonwebtoken::errors::Error),
    /// The header names a key we do not have.
    #[error("access token signed by an unknown key")]
    UnknownKey,
}

/// Verifies access tokens against the public keys of a JWKS.
pub struct TokenVerifier {
    keys: HashMap<String, DecodingKey>,
    validation: Validation,
}

impl TokenVerifier {
    /// A verifier for the keys of `jwks`, checking issuer and audience from `config`.
    pub fn new(jwks: &Jwks, config: &AuthConfig) -> Result<Self, KeyError> {
        let mut keys = HashMap::new();
        for jwk in &jwks.keys {
            if jwk.kty != "OKP" || jwk.crv != "Ed25519" {
                continue;
            }
            let key = DecodingKey::from_ed_components(&jwk.x).map_err(|e| KeyError::BadJwks(e.to_string()))?;
            keys.insert(jwk.kid.clone(), key);
        }
        if keys.is_empty() {
            return Err(KeyError::BadJwks("no Ed25519 key".into()));
        }
        // Only EdDSA: `alg: none` and HMAC-with-the-public-key tricks fail before any signature check.
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[&config.issuer]);
        validation.set_audience(&[&config.audience]);
        validation.set_required_spec_claims(&["exp", "sub", "iss", "aud"]);
        validation.leeway = 5;
        Ok(Self { keys, validation })
    }

    /// Loads the JWKS from the configured key directory.
    pub fn from_config(config: &AuthConfig) -> Result<Self, KeyError> {
        Self::new(&Jwks::load(&config.key_dir)?, config)
    }

    /// Checks signature, algorithm, expiry, issuer and audience.
    pub fn verify(&self, token: &str) -> Result<AuthUser, AuthError> {
        let header = jsonwebtoken::decode_header(token).map_err(AuthError::Invalid)?;
        let key = match header.kid {
            Some(kid) => self.keys.get(&kid).ok_or(AuthError::UnknownKey)?,
            None => return Err(AuthError::UnknownKey),
        };
        let data = jsonwebtoken::decode::<AccessClaims>(token, key, &self.validation).map_err(|e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::ExpiredSignature => AuthError::Expired,
            _ => AuthError::Invalid(e),
        })?;
        Ok(AuthUser { id: data.claims.sub, role: data.claims.role })
    }
}

/// Signs access tokens (held by `content` only).
pub struct TokenSigner {
    key: EncodingKey,
    kid: String,
    issuer: String,
    audience: String,
    ttl_secs: i64,
}

impl TokenSigner {
    /// A signer for `pair`.
    pub fn new(pair: &KeyPair, config: &AuthConfig) -> Self {
        Self {
            key: EncodingKey::from_ed_der(pair.pkcs8_der()),
            kid: pair.kid(),
            issuer: config.issuer.clone(),
            audience: config.audience.clone(),
            ttl_secs: config.access_ttl_secs,
        }
    }

    /// Lifetime of the tokens this signer issues, in seconds.
    pub fn ttl_secs(&self) -> i64 {
        self.ttl_secs
    }

    /// An access token for `user`, valid from `now` for the configured lifetime.
    pub fn sign(&self, user: &AuthUser, now: chrono::DateTime<chrono::Utc>) -> Result<String, jsonwebtoken::errors::Error> {
        self.sign_claims(&AccessClaims {
            sub: user.id,
            role: user.role,
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            iat: now.timestamp(),
            exp: now.timestamp() + self.ttl_secs,
        })
    }

    /// Signs arbitrary claims (tests use it to mint expired tokens).
    pub fn sign_claims(&self, claims: &AccessClaims) -> Result<String, jsonwebtoken::errors::Error> {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup() -> (TokenSigner, TokenVerifier) {
        let config = AuthConfig::default();
        let pair = KeyPair::generate().expect("key");
        (TokenSigner::new(&pair, &config), TokenVerifier::new(&pair.jwks(), &config).expect("verifier"))
    }

    #[test]
    fn a_signed_token_verifies_and_carries_the_user() {
        let (signer, verifier) = setup();
        let user = AuthUser { id: Uuid::new_v4(), role: Role::Admin };
        let token = signer.sign(&user, chrono::Utc::now()).expect("sign");
        assert_eq!(verifier.verify(&token).expect("verify"), user);
    }

    #[test]
    fn expired_foreign_and_unsigned_tokens_are_refused() {
        let (signer, verifier) = setup();
        let user = AuthUser { id: Uuid::new_v4(), role: Role::User };
        let old = signer.sign(&user, chrono::Utc::now() - chrono::Duration::hours(2)).expect("sign");
        assert!(matches!(verifier.verify(&old), Err(AuthError::Expired)));

        let (other_signer, _) = setup();
        let foreign = other_signer.sign(&user, chrono::Utc::now()).expect("sign");
        assert!(verifier.verify(&foreign).is_err());

        let claims = base64::Engine::encode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            format!(r#"{{"sub":"{}","role":"admin","iss":"vidgraph","aud":"vidgraph","iat":0,"exp":9999999999}}"#, user.id),
        );
        let none = format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{claims}.");
        assert!(verifier.verify(&none).is_err());
        assert!(verifier.verify("garbage").is_err());
    }
}
