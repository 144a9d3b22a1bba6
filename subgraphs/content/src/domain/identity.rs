//! Accounts and sessions: register, login, refresh-token rotation, logout, profile changes.

use super::ContentError;
use super::account::{Email, ProfileChange, Username};
use super::password::{self, Password};
use super::refresh::{RefreshSecret, hash_token};
use crate::events::{AccountEvents, UserEvents};
use crate::store::{refresh_tokens, users};
use chrono::{DateTime, Duration, Utc};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use platform::auth::{AuthUser, Role, TokenSigner};
use platform::config::AuthConfig;
use platform::db::Db;
use platform::rate_limit::{RateDecision, RateLimit};
use platform::redis::Redis;
use platform::request::ClientAddr;
use std::sync::Arc;
use uuid::Uuid;

/// What a refused login says before the wait.
const LOGIN_LIMITED: &str = "Too many login attempts";
/// What a refused registration says before the wait.
const REGISTER_LIMITED: &str = "Too many new accounts from your network";

/// A registration, parsed.
#[derive(Debug)]
pub struct Registration {
    /// E-mail.
    pub email: Email,
    /// Username.
    pub username: Username,
    /// Password meeting the policy.
    pub password: Password,
}

/// What a successful register, login or refresh hands the client.
#[derive(Debug)]
pub struct Session {
    /// Short-lived access JWT.
    pub access_token: String,
    /// Its expiry.
    pub access_expires_at: DateTime<Utc>,
    /// Single-use refresh token.
    pub refresh_token: String,
    /// Its expiry.
    pub refresh_expires_at: DateTime<Utc>,
    /// The account.
    pub user: users::User,
}

/// The identity service held in the schema data.
pub struct Identity {
    db: Db,
    redis: Redis,
    signer: Arc<TokenSigner>,
    config: AuthConfig,
    events: UserEvents,
    accounts: AccountEvents,
}

/// Outcome of presenting a refresh token, decided inside the transaction; a reuse must commit
/// its family revocation before the error is returned.
enum Rotation {
    Rotated(Box<Session>),
    Refused,
}

impl Identity {
    /// Builds the service.
    pub fn new(
        db: Db,
        redis: Redis,
        signer: Arc<TokenSigner>,
        config: AuthConfig,
        events: UserEvents,
        accounts: AccountEvents,
    ) -> Identity {
        Identity { db, redis, signer, config, events, accounts }
    }

    /// Creates an account (role `user`) and signs it in; the account, its first session and its
    /// account event (for other subgraphs' directories) are created atomically. Rate limited per
    /// client address (before the password is hashed, so a refused burst costs no hashing).
    pub async fn register(&self, registration: Registration, client: ClientAddr) -> Result<Session, ContentError> {
        let window = std::time::Duration::from_secs(self.config.register_window_secs);
        let per_address = RateLimit { name: "register:addr", max: self.config.register_limit_per_address, window };
        if let RateDecision::Limited { retry_after_secs } =
            per_address.hit(&self.redis, &client.subject()).await.map_err(ContentError::internal)?
        {
            return Err(ContentError::RateLimited { what: REGISTER_LIMITED, retry_after_secs });
        }
        let (email, username, hash) = registration.into_hashed().await?;
        let now = Utc::now();
        let config = &self.config;
        let mut conn = self.db.pool.get().await?;
        let (user, refresh) = conn
            .transaction(async |conn| {
                let user = insert_account(conn, &self.accounts, &email, &username, &hash, Role::User).await?;
                let refresh = issue_refresh(conn, user.id, Uuid::now_v7(), now, config).await?;
                Ok::<_, ContentError>((user, refresh))
            })
            .await?;
        self.accounts.committed();
        self.session(user, refresh, now)
    }

    /// Checks the password; rate limited per client address and per account. Both limits
    /// count the attempt (an atomic `INCR`) *before* the password is verified, so of any number
    /// of parallel attempts exactly the limit get a verdict and the rest `RATE_LIMITED`; a
    /// right password forgets the account's count.
    pub async fn login(&self, login: &str, candidate: String, client: ClientAddr) -> Result<Session, ContentError> {
        let window = std::time::Duration::from_secs(self.config.login_window_secs);
        let per_address = RateLimit { name: "login:addr", max: self.config.login_limit_per_address, window };
        let per_account = RateLimit { name: "login:account", max: self.config.login_limit_per_account, window };
        let account_key = login.trim().to_lowercase();

        for (limit, subject) in [(&per_address, client.subject()), (&per_account, account_key.clone())] {
            if let RateDecision::Limited { retry_after_secs } = limit.hit(&self.redis, &subject).await.map_err(ContentError::internal)? {
                return Err(ContentError::RateLimited { what: LOGIN_LIMITED, retry_after_secs });
            }
        }

        let mut conn = self.db.pool.get().await?;
        let found = users::find_by_login(&mut conn, &account_key).await?;
        drop(conn);
        let (user, stored) = match found {
            Some((user, hash)) => (Some(user), Some(hash)),
            None => (None, None),
        };
        // The decoy is hashed (once) inside the pool too, never on an async worker.
        let matches = password::hashing()
            .run(move || match stored {
                Some(stored) => password::verify(&candidate, &stored),
                None => password::verify(&candidate, password::decoy_hash()),
            })
            .await?;
        let Some(user) = user.filter(|_| matches) else {
            return Err(ContentError::InvalidCredentials);
        };
        per_account.reset(&self.redis, &account_key).await.map_err(ContentError::internal)?;

        let now = Utc::now();
        let mut conn = self.db.pool.get().await?;
        let refresh = issue_refresh(&mut conn, user.id, Uuid::now_v7(), now, &self.config).await?;
        self.session(user, refresh, now)
    }

    /// Exchanges a refresh token for a new pair. A token that was already used or revoked
    /// revokes its whole family: someone holds a copy.
    pub async fn refresh(&self, presented: &str) -> Result<Session, ContentError> {
        let now = Utc::now();
        let hash = hash_token(presented);
        let config = &self.config;
        let mut conn = self.db.pool.get().await?;
        let rotation = conn
            .transaction(async |conn| {
                let Some(token) = refresh_tokens::find_for_update(conn, &hash).await? else {
                    return Ok::<_, ContentError>(Rotation::Refused);
                };
                if token.used_at.is_some() || token.revoked_at.is_some() {
                    let revoked = refresh_tokens::revoke_family(conn, token.family_id, now).await?;
                    tracing::warn!(user.id = %token.user_id, family = %token.family_id, revoked, "refresh token reused; family revoked");
                    return Ok(Rotation::Refused);
                }
                if token.expires_at <= now {
                    return Ok(Rotation::Refused);
                }
                refresh_tokens::mark_used(conn, token.id, now).await?;
                let Some(user) = users::find(conn, token.user_id).await? else {
                    return Ok(Rotation::Refused);
                };
                let refresh = issue_refresh(conn, user.id, token.family_id, now, config).await?;
                Ok(Rotation::Rotated(Box::new(self.session(user, refresh, now)?)))
            })
            .await?;
        match rotation {
            Rotation::Rotated(session) => Ok(*session),
            Rotation::Refused => Err(ContentError::InvalidRefreshToken),
        }
    }

    /// Ends the session of this refresh token (its whole family). Idempotent: an unknown or
    /// already revoked token is not an error, so a retried logout succeeds.
    pub async fn logout(&self, presented: &str) -> Result<(), ContentError> {
        let now = Utc::now();
        let hash = hash_token(presented);
        let mut conn = self.db.pool.get().await?;
        conn.transaction(async |conn| {
            if let Some(token) = refresh_tokens::find_for_update(conn, &hash).await? {
                refresh_tokens::revoke_family(conn, token.family_id, now).await?;
            }
            Ok::<_, ContentError>(())
        })
        .await
    }

    /// Changes the viewer's own profile and tells subscribers.
    pub async fn update_profile(&self, user_id: Uuid, change: &ProfileChange) -> Result<users::User, ContentError> {
        let update = users::ProfileUpdate {
            display_name: change.display_name.as_ref().map(AsRef::as_ref),
            bio: change.bio.as_ref().map(AsRef::as_ref),
            avatar_url: change.avatar_url.as_ref().map(|url| url.as_ref().map(AsRef::as_ref)),
            updated_at: Utc::now(),
        };
        let mut conn = self.db.pool.get().await?;
        let user = users::update_profile(&mut conn, user_id, &update).await?.ok_or(ContentError::NotFound("User"))?;
        self.events.user_updated(&user).await;
        Ok(user)
    }

    fn session(&self, user: users::User, refresh: RefreshIssued, now: DateTime<Utc>) -> Result<Session, ContentError> {
        let auth = AuthUser { id: user.id, role: Role::from_stored(&user.role) };
        let access_token = self.signer.sign(&auth, now).map_err(ContentError::internal)?;
        Ok(Session {
            access_token,
            access_expires_at: now + Duration::seconds(self.signer.ttl_secs()),
            refresh_token: refresh.token,
            refresh_expires_at: refresh.expires_at,
            user,
        })
    }
}

/// Creates an admin, or promotes the account with this e-mail (the CLI's `create-admin`).
pub async fn create_admin(db: &Db, accounts: &AccountEvents, registration: Registration) -> Result<Uuid, ContentError> {
    let mut conn = db.pool.get().await?;
    if let Some((existing, _)) = users::find_by_login(&mut conn, registration.email.as_ref()).await? {
        drop(conn);
        set_role(db, accounts, existing.id, Role::Admin).await?;
        return Ok(existing.id);
    }
    let (email, username, hash) = registration.into_hashed().await?;
    let id = conn
        .transaction(async |conn| Ok::<_, ContentError>(insert_account(conn, accounts, &email, &username, &hash, Role::Admin).await?.id))
        .await?;
    accounts.committed();
    Ok(id)
}

/// Gives an account `role`, with its account event, in one transaction (`NOT_FOUND` for an
/// unknown account).
pub async fn set_role(db: &Db, accounts: &AccountEvents, id: Uuid, role: Role) -> Result<users::User, ContentError> {
    let mut conn = db.pool.get().await?;
    let user = conn
        .transaction(async |conn| {
            let (user, version) = users::set_role(conn, id, role.as_str()).await?.ok_or(ContentError::NotFound("User"))?;
            accounts.changed(conn, &user, version).await?;
            Ok::<_, ContentError>(user)
        })
        .await?;
    accounts.committed();
    Ok(user)
}

impl Registration {
    /// The parsed fields with the password hashed in the process's [hashing pool](password::hashing)
    /// (argon2 is deliberately slow and must not stall the async workers).
    async fn into_hashed(self) -> Result<(Email, Username, String), ContentError> {
        let Registration { email, username, password } = self;
        let hash = password::hashing().run(move || password.hash()).await??;
        Ok((email, username, hash))
    }
}

/// Inserts an account whose display name starts as its username, with its account event (the
/// caller's transaction; version 1, the column's default).
async fn insert_account(
    conn: &mut AsyncPgConnection,
    accounts: &AccountEvents,
    email: &Email,
    username: &Username,
    password_hash: &str,
    role: Role,
) -> Result<users::User, ContentError> {
    let new_user = users::NewUser {
        id: Uuid::now_v7(),
        email: email.as_ref(),
        username: username.as_ref(),
        password_hash,
        role: role.as_str(),
        display_name: username.as_ref(),
    };
    let user = users::insert(conn, &new_user).await.map_err(unique_violation)?;
    accounts.changed(conn, &user, 1).await?;
    Ok(user)
}

struct RefreshIssued {
    token: String,
    expires_at: DateTime<Utc>,
}

async fn issue_refresh(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
    family_id: Uuid,
    now: DateTime<Utc>,
    config: &AuthConfig,
) -> Result<RefreshIssued, ContentError> {
    let secret = RefreshSecret::generate();
    let expires_at = now + Duration::seconds(config.refresh_ttl_secs);
    refresh_tokens::insert(
        conn,
        &refresh_tokens::NewRefreshToken { id: Uuid::now_v7(), family_id, user_id, token_hash: &secret.hash, expires_at },
    )
    .await?;
    Ok(RefreshIssued { token: secret.token, expires_at })
}

/// Turns the unique indexes of `users` into conflicts the client understands.
fn unique_violation(error: DieselError) -> ContentError {
    if let DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) = &error {
        match info.constraint_name() {
            Some("users_email_key") => return ContentError::EmailTaken,
            Some("users_username_key") => return ContentError::UsernameTaken,
            _ => {}
        }
    }
    ContentError::internal(error)
}
