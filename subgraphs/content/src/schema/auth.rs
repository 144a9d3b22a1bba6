//! `register`, `login`, `refreshToken`, `logout`.

use super::User;
use crate::domain::ContentError;
use crate::domain::account::{Email, Username};
use crate::domain::identity::{Identity, Registration, Session};
use crate::domain::password::Password;
use async_graphql::{Context, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use platform::error::CodedResultExt;
use platform::request::ClientAddr;

/// A new account.
#[derive(InputObject)]
pub struct RegisterInput {
    /// Unique e-mail address.
    email: String,
    /// Unique handle: 3–32 letters, digits, `_`, `-`.
    username: String,
    /// 8+ characters with a letter and a digit.
    password: String,
}

impl TryFrom<RegisterInput> for Registration {
    type Error = ContentError;

    fn try_from(input: RegisterInput) -> Result<Self, Self::Error> {
        Ok(Registration {
            email: Email::parse(&input.email)?,
            username: Username::parse(&input.username)?,
            password: Password::parse(&input.password)?,
        })
    }
}

/// Credentials.
#[derive(InputObject)]
pub struct LoginInput {
    /// E-mail or username.
    login: String,
    /// Password.
    password: String,
}

/// A signed-in session: keep the refresh token secret, send the access token as
/// `Authorization: Bearer …`, refresh before `accessTokenExpiresAt`.
#[derive(SimpleObject)]
pub struct AuthPayload {
    /// Short-lived JWT.
    access_token: String,
    /// When the access token stops working.
    access_token_expires_at: DateTime<Utc>,
    /// Single-use token for `refreshToken`.
    refresh_token: String,
    /// When the refresh token stops working.
    refresh_token_expires_at: DateTime<Utc>,
    /// The account.
    user: User,
}

impl From<Session> for AuthPayload {
    fn from(session: Session) -> Self {
        AuthPayload {
            access_token: session.access_token,
            access_token_expires_at: session.access_expires_at,
            refresh_token: session.refresh_token,
            refresh_token_expires_at: session.refresh_expires_at,
            user: User::own(session.user),
        }
    }
}

/// Session mutations.
#[derive(Default)]
pub struct AuthMutation;

#[Object]
impl AuthMutation {
    /// Creates an account and signs it in. `CONFLICT` when the e-mail or username is taken,
    /// `RATE_LIMITED` after too many new accounts from one network.
    async fn register(&self, ctx: &Context<'_>, input: RegisterInput) -> async_graphql::Result<AuthPayload> {
        let registration = Registration::try_from(input).coded()?;
        let client = ctx.data::<ClientAddr>()?;
        ctx.data::<Identity>()?.register(registration, *client).await.coded().map(AuthPayload::from)
    }

    /// Signs in. `UNAUTHENTICATED` on wrong credentials, `RATE_LIMITED` after too many tries.
    async fn login(&self, ctx: &Context<'_>, input: LoginInput) -> async_graphql::Result<AuthPayload> {
        let client = ctx.data::<ClientAddr>()?;
        let identity = ctx.data::<Identity>()?;
        identity.login(&input.login, input.password, *client).await.coded().map(AuthPayload::from)
    }

    /// Exchanges a refresh token for a new session; each refresh token works once.
    async fn refresh_token(&self, ctx: &Context<'_>, refresh_token: String) -> async_graphql::Result<AuthPayload> {
        ctx.data::<Identity>()?.refresh(&refresh_token).await.coded().map(AuthPayload::from)
    }

    /// Ends the session this refresh token belongs to. Access tokens already issued stay valid
    /// until they expire (minutes); refreshing is no longer possible.
    async fn logout(&self, ctx: &Context<'_>, refresh_token: String) -> async_graphql::Result<bool> {
        ctx.data::<Identity>()?.logout(&refresh_token).await.coded().map(|()| true)
    }
}
