use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::SystemRandom;
use ring::signature::{Ed25519KeyPair, KeyPair as _};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// File name of the private signing key (PKCS#8 DER) inside the key directory.
pub const PRIVATE_KEY_FILE: &str = "jwt-ed25519.pk8";
/// File name of the public JWKS inside the key directory (the router reads it too).
pub const JWKS_FILE: &str = "jwks.json";

/// Keys could not be created, read or parsed.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Reading or writing a key file failed.
    #[error("key file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The private key is not an Ed25519 PKCS#8 document.
    #[error("private key is not Ed25519 PKCS#8")]
    BadPrivateKey,
    /// The JWKS does not parse or holds no usable key.
    #[error("invalid JWKS: {0}")]
    BadJwks(String),
}

/// An Ed25519 signing key with its key id.
pub struct KeyPair {
    pkcs8: Vec<u8>,
    public: Vec<u8>,
}

impl KeyPair {
    /// A fresh random key pair.
    pub fn generate() -> Result<Self, KeyError> {
        let doc = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).map_err(|_| KeyError::BadPrivateKey)?;
        Self::from_pkcs8(doc.as_ref().to_vec())
    }

    /// Parses a PKCS#8 DER private key.
    pub fn from_pkcs8(pkcs8: Vec<u8>) -> Result<Self, KeyError> {
        let pair = Ed25519KeyPair::from_pkcs8(&pkcs8).map_err(|_| KeyError::BadPrivateKey)?;
        let public = pair.public_key().as_ref().to_vec();
        Ok(Self { pkcs8, public })
    }

    /// Reads the private key from `dir`.
    pub fn load(dir: &Path) -> Result<Self, KeyError> {
        let path = dir.join(PRIVATE_KEY_FILE);
        let pkcs8 = std::fs::read(&path).map_err(|source| KeyError::Io { path, source })?;
        Self::from_pkcs8(pkcs8)
    }

    /// Reads the key pair from `dir`, creating both files first if there is no private key yet.
    pub fn load_or_create(dir: &Path) -> Result<Self, KeyError> {
        if dir.join(PRIVATE_KEY_FILE).exists() {
            return Self::load(dir);
        }
        let pair = Self::generate()?;
        pair.save(dir)?;
        Ok(pair)
    }

    /// Writes the private key (mode 0600) and the public JWKS into `dir`.
    pub fn save(&self, dir: &Path) -> Result<(), KeyError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| KeyError::Io { path, source }
        };
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let private = dir.join(PRIVATE_KEY_FILE);
        write_private(&private, &self.pkcs8).map_err(io(&private))?;
        let jwks = dir.join(JWKS_FILE);
        std::fs::write(&jwks, self.jwks().to_json()).map_err(io(&jwks))?;
        Ok(())
    }

    /// The key id: a short hash of the public key, so rotated keys never collide.
    pub fn kid(&self) -> String {
        let digest = Sha256::digest(&self.public);
        digest[..8].iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The private key as PKCS#8 DER.
    pub fn pkcs8_der(&self) -> &[u8] {
        &self.pkcs8
    }

    /// A 32-byte symmetric secret for one purpose, derived from the private key:
    /// SHA-256 of `label`, a zero byte and the PKCS#8 document.
    ///
    /// Every replica that loads the same key directory derives the same secret (so one can
    /// verify what another signed), rotating the key rotates it, and distinct labels give
    /// unrelated secrets, so a MAC made for one purpose never verifies for another. It never
    /// leaves the process that holds the private key.
    pub fn derive_secret(&self, label: &str) -> [u8; 32] {
        let mut hasher = Sha256::new();
        hasher.update(label.as_bytes());
        hasher.update([0u8]);
        hasher.update(&self.pkcs8);
        hasher.finalize().into()
    }

    /// The public half as a JWKS.
    pub fn jwks(&self) -> Jwks {
        Jwks {
            keys: vec![Jwk {
                kty: "OKP".into(),
                crv: "Ed25519".into(),
                alg: "EdDSA".into(),
                key_use: "sig".into(),
                kid: self.kid(),
                x: URL_SAFE_NO_PAD.encode(&self.public),
            }],
        }
    }
}

/// A JSON Web Key Set of Ed25519 public keys.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Jwks {
    /// The keys.
    pub keys: Vec<Jwk>,
}

/// One Ed25519 public key in JWK form.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Jwk {
    /// Always `OKP`.
    pub kty: String,
    /// Always `Ed25519`.
    pub crv: String,
    /// Always `EdDSA`.
    pub alg: String,
    /// Always `sig`.
    #[serde(rename = "use")]
    pub key_use: String,
    /// Key id, matched against the token header.
    pub kid: String,
    /// The public key, base64url.
    pub x: String,
}

impl Jwks {
    /// Reads `jwks.json` from `dir`.
    pub fn load(dir: &Path) -> Result<Self, KeyError> {
        let path = dir.join(JWKS_FILE);
        let text = std::fs::read_to_string(&path).map_err(|source| KeyError::Io { path, source })?;
        serde_json::from_str(&text).map_err(|e| KeyError::BadJwks(e.to_string()))
    }

    /// The JWKS as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

/// Writes the private key so that it is never readable by others, not even for an instant: the
/// file is created with mode 0600 (a chmod after writing would leave a window under the default
/// umask), and an existing file is first narrowed to 0600, then truncated and rewritten.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(0o600);
        if path.exists() {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
        }
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).expect("metadata").permissions().mode() & 0o777
    }

    #[test]
    fn the_private_key_is_created_and_rewritten_owner_only() {
        let dir = std::env::temp_dir().join(format!("vidgraph-keys-{}", uuid::Uuid::new_v4().simple()));
        let pair = KeyPair::generate().expect("keys");
        pair.save(&dir).expect("save");
        let private = dir.join(PRIVATE_KEY_FILE);
        assert_eq!(mode(&private), 0o600);

        // A key file someone left world-readable is narrowed before the new key is written into it.
        std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        pair.save(&dir).expect("save again");
        assert_eq!(mode(&private), 0o600);
        assert_eq!(KeyPair::load(&dir).expect("load").kid(), pair.kid());
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }
}
