//! Identity: Ed25519 access tokens, the `Viewer` of a request, and the guards resolvers use.
//!
//! `content` signs with the private key; every subgraph verifies with the public JWKS, so a
//! verifier never holds anything that can mint a token.

mod keys;
mod token;
mod viewer;

pub use self::keys::{JWKS_FILE, Jwks, KeyError, KeyPair, PRIVATE_KEY_FILE};
pub use self::token::{AccessClaims, AuthError, TokenSigner, TokenVerifier};
pub use self::viewer::{AdminOnly, AuthUser, Role, SignedIn, Viewer, viewer};
