//! `User` (the entity other subgraphs extend), `me`, `user(id)`, `updateProfile`, `userUpdated`.

use super::{UserLoader, parse_id};
use crate::domain::ContentError;
use crate::domain::account::{AvatarUrl, Bio, DisplayName, ProfileChange};
use crate::domain::identity::Identity;
use crate::events::UserEvents;
use crate::store::users;
use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, Subscription};
use chrono::{DateTime, Utc};
use futures::{Stream, StreamExt};
use platform::auth::{Role, SignedIn, viewer};
use platform::batch::Batcher;
use platform::error::CodedResultExt;
use std::sync::Arc;

/// A registered account.
pub struct User {
    /// Shared with the batch or page that loaded it, which hands the same author to many videos.
    row: Arc<users::User>,
    /// Private fields are shown regardless of the viewer: the session payload of the account
    /// that just signed in (whose request is still anonymous).
    reveal_private: bool,
}

impl User {
    /// The account as anyone sees it (private fields only for itself and admins).
    pub fn public(row: impl Into<Arc<users::User>>) -> User {
        User { row: row.into(), reveal_private: false }
    }

    /// The account as its owner sees it.
    pub fn own(row: impl Into<Arc<users::User>>) -> User {
        User { row: row.into(), reveal_private: true }
    }

    fn private_visible(&self, ctx: &Context<'_>) -> bool {
        self.reveal_private || viewer(ctx).require_owner_or_admin(self.row.id).is_ok()
    }
}

#[Object(name = "User")]
impl User {
    /// Stable id.
    async fn id(&self) -> ID {
        ID(self.row.id.to_string())
    }

    /// Unique handle.
    async fn username(&self) -> &str {
        &self.row.username
    }

    /// Shown name.
    async fn display_name(&self) -> &str {
        &self.row.display_name
    }

    /// Profile text.
    async fn bio(&self) -> &str {
        &self.row.bio
    }

    /// Avatar image URL.
    async fn avatar_url(&self) -> Option<&str> {
        self.row.avatar_url.as_deref()
    }

    /// When the account was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.row.created_at
    }

    /// E-mail: visible to the account itself and to admins only, `null` for everyone else.
    async fn email(&self, ctx: &Context<'_>) -> Option<&str> {
        self.private_visible(ctx).then_some(self.row.email.as_str())
    }

    /// `USER` or `ADMIN`: visible to the account itself and to admins only.
    async fn role(&self, ctx: &Context<'_>) -> Option<UserRole> {
        self.private_visible(ctx).then(|| match Role::from_stored(&self.row.role) {
            Role::User => UserRole::User,
            Role::Admin => UserRole::Admin,
        })
    }
}

/// A platform role.
#[derive(async_graphql::Enum, Clone, Copy, PartialEq, Eq)]
pub enum UserRole {
    /// Everyone.
    User,
    /// Operators.
    Admin,
}

/// Account queries and the `User` entity resolver.
#[derive(Default)]
pub struct UserQuery;

#[Object]
impl UserQuery {
    /// The signed-in account, or `null` when anonymous.
    async fn me(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<User>> {
        let Some(id) = viewer(ctx).user_id() else { return Ok(None) };
        load_user(ctx, id).await
    }

    /// An account by id, or `null` when there is none.
    async fn user(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<User>> {
        let id = parse_id(&id).ok_or_else(|| ContentError::InvalidInput("`id` is not a user id.".into())).coded()?;
        load_user(ctx, id).await
    }

    /// Resolves `User` references from other subgraphs; batched through the loader.
    #[graphql(entity)]
    async fn find_user_by_id(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<User>> {
        match parse_id(&id) {
            Some(id) => load_user(ctx, id).await,
            None => Ok(None),
        }
    }
}

pub(crate) async fn load_user(ctx: &Context<'_>, id: uuid::Uuid) -> async_graphql::Result<Option<User>> {
    let loader = ctx.data::<Batcher<uuid::Uuid, UserLoader>>()?;
    Ok(loader.load_one(id).await.coded()?.map(User::public))
}

/// A change to the viewer's own profile; omitted fields stay as they are.
#[derive(InputObject)]
pub struct UpdateProfileInput {
    /// 1–40 characters.
    display_name: Option<String>,
    /// At most 500 characters.
    bio: Option<String>,
    /// An http(s) URL; `null` removes the avatar.
    avatar_url: MaybeUndefined<String>,
}

impl TryFrom<UpdateProfileInput> for ProfileChange {
    type Error = ContentError;

    fn try_from(input: UpdateProfileInput) -> Result<Self, Self::Error> {
        Ok(ProfileChange {
            display_name: input.display_name.as_deref().map(DisplayName::parse).transpose()?,
            bio: input.bio.as_deref().map(Bio::parse).transpose()?,
            avatar_url: match input.avatar_url {
                MaybeUndefined::Undefined => None,
                MaybeUndefined::Null => Some(None),
                MaybeUndefined::Value(url) => Some(Some(AvatarUrl::parse(&url)?)),
            },
        })
    }
}

/// Profile changes.
#[derive(Default)]
pub struct ProfileMutation;

#[Object]
impl ProfileMutation {
    /// Changes the signed-in account's profile.
    #[graphql(guard = "SignedIn")]
    async fn update_profile(&self, ctx: &Context<'_>, input: UpdateProfileInput) -> async_graphql::Result<User> {
        let user = viewer(ctx).require_user().coded()?;
        let change = ProfileChange::try_from(input).coded()?;
        let identity = ctx.data::<Identity>()?;
        identity.update_profile(user.id, &change).await.coded().map(User::own)
    }
}

/// Account subscriptions.
#[derive(Default)]
pub struct UserSubscription;

#[Subscription(name = "Subscription")]
impl UserSubscription {
    /// The account each time its profile changes (on any replica).
    async fn user_updated(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<User>> + use<>> {
        let id = parse_id(&id).ok_or_else(|| ContentError::InvalidInput("`id` is not a user id.".into())).coded()?;
        let events = ctx.data::<UserEvents>()?;
        let changes = events.subscribe_user(id).await.map_err(ContentError::internal).coded()?;
        Ok(changes.map(|user| Ok(User::public(user))))
    }
}
