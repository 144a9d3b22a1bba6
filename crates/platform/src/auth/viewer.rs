use crate::error::{ApiError, ErrorCode};
use async_graphql::{Context, ErrorExtensions, Guard};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A platform role. Streamers are users with a live room, not a role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everyone who registered.
    User,
    /// Operators and moderators.
    Admin,
}

impl Role {
    /// The stored and serialized name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Admin => "admin",
        }
    }

    /// Parses a stored name; unknown names are plain users (never accidentally admins).
    pub fn from_stored(name: &str) -> Role {
        if name == "admin" { Role::Admin } else { Role::User }
    }
}

/// A verified, signed-in user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthUser {
    /// The user id.
    pub id: Uuid,
    /// The role at the time the token was issued.
    pub role: Role,
}

impl AuthUser {
    /// Whether this user may act on something `owners` own: one of them, or an admin.
    pub fn is_owner_or_admin(&self, owners: &[Uuid]) -> bool {
        self.role == Role::Admin || owners.contains(&self.id)
    }
}

/// Who is asking: set once per request (or per WebSocket connection) from a verified token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Viewer {
    /// No token was presented.
    #[default]
    Anonymous,
    /// A valid token was presented.
    User(AuthUser),
}

impl Viewer {
    /// The signed-in user, or `UNAUTHENTICATED`.
    pub fn require_user(&self) -> Result<AuthUser, ApiError> {
        match self {
            Viewer::User(user) => Ok(*user),
            Viewer::Anonymous => Err(ApiError::new(ErrorCode::Unauthenticated, "Sign in to do this.")),
        }
    }

    /// The signed-in admin, or `UNAUTHENTICATED`/`FORBIDDEN`.
    pub fn require_admin(&self) -> Result<AuthUser, ApiError> {
        let user = self.require_user()?;
        if user.role == Role::Admin { Ok(user) } else { Err(ApiError::new(ErrorCode::Forbidden, "Only an admin can do this.")) }
    }

    /// The signed-in user if they own the resource or are an admin, else `FORBIDDEN`.
    pub fn require_owner_or_admin(&self, owner: Uuid) -> Result<AuthUser, ApiError> {
        let user = self.require_user()?;
        if user.is_owner_or_admin(&[owner]) {
            Ok(user)
        } else {
            Err(ApiError::new(ErrorCode::Forbidden, "Only the owner or an admin can do this."))
        }
    }

    /// The user id, if signed in.
    pub fn user_id(&self) -> Option<Uuid> {
        match self {
            Viewer::User(user) => Some(user.id),
            Viewer::Anonymous => None,
        }
    }
}

/// The viewer of the current request (anonymous when the transport attached none).
pub fn viewer<'a>(ctx: &Context<'a>) -> &'a Viewer {
    static ANONYMOUS: Viewer = Viewer::Anonymous;
    ctx.data_opt::<Viewer>().unwrap_or(&ANONYMOUS)
}

/// Guard: the field needs a signed-in user.
pub struct SignedIn;

impl Guard for SignedIn {
    async fn check(&self, ctx: &Context<'_>) -> async_graphql::Result<()> {
        viewer(ctx).require_user().map(|_| ()).map_err(|e| e.extend())
    }
}

/// Guard: the field needs an admin.
pub struct AdminOnly;

impl Guard for AdminOnly {
    async fn check(&self, ctx: &Context<'_>) -> async_graphql::Result<()> {
        viewer(ctx).require_admin().map(|_| ()).map_err(|e| e.extend())
    }
}
