//! `content.users`.

use super::schema::content::users;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

/// A stored account, without its password hash (which only login reads, see
/// [`find_by_login`]), so it can travel in events.
#[derive(Debug, Clone, Queryable, Selectable, Identifiable, serde::Serialize, serde::Deserialize)]
#[diesel(table_name = users, check_for_backend(diesel::pg::Pg))]
pub struct User {
    /// Id.
    pub id: Uuid,
    /// Lowercased e-mail.
    pub email: String,
    /// Unique username.
    pub username: String,
    /// `user` or `admin`.
    pub role: String,
    /// Shown name.
    pub display_name: String,
    /// Profile text.
    pub bio: String,
    /// Avatar.
    pub avatar_url: Option<String>,
    /// Registration time.
    pub created_at: DateTime<Utc>,
    /// Last profile change.
    pub updated_at: DateTime<Utc>,
}

/// A new account.
#[derive(Debug, Insertable)]
#[diesel(table_name = users, check_for_backend(diesel::pg::Pg))]
pub struct NewUser<'a> {
    /// Id (v7: time-ordered, index friendly).
    pub id: Uuid,
    /// Lowercased e-mail.
    pub email: &'a str,
    /// Username.
    pub username: &'a str,
    /// argon2id hash.
    pub password_hash: &'a str,
    /// `user` or `admin`.
    pub role: &'a str,
    /// Initially the username.
    pub display_name: &'a str,
}

/// A profile update; `None` fields are left as they are.
#[derive(Debug, AsChangeset)]
#[diesel(table_name = users)]
pub struct ProfileUpdate<'a> {
    /// New display name.
    pub display_name: Option<&'a str>,
    /// New bio.
    pub bio: Option<&'a str>,
    /// New avatar (`Some(None)` clears it).
    pub avatar_url: Option<Option<&'a str>>,
    /// Always set.
    pub updated_at: DateTime<Utc>,
}

/// Inserts an account; a unique violation names `users_email_key` or `users_username_key`.
pub async fn insert(conn: &mut AsyncPgConnection, user: &NewUser<'_>) -> QueryResult<User> {
    diesel::insert_into(users::table).values(user).returning(User::as_returning()).get_result(conn).await
}

/// One account by id.
pub async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<User>> {
    users::table.find(id).select(User::as_select()).first(conn).await.optional()
}

/// Accounts by ids, in one statement (the dataloader's batch).
pub async fn find_many(conn: &mut AsyncPgConnection, ids: &[Uuid]) -> QueryResult<Vec<User>> {
    users::table.filter(users::id.eq_any(ids)).select(User::as_select()).load(conn).await
}

/// Up to `limit` accounts whose username starts with `prefix`, by username (load-test tooling).
pub async fn find_by_username_prefix(conn: &mut AsyncPgConnection, prefix: &str, limit: i64) -> QueryResult<Vec<User>> {
    users::table
        .filter(users::username.like(format!("{}%", prefix.replace('%', "\\%").replace('_', "\\_"))))
        .order(users::username)
        .limit(limit)
        .select(User::as_select())
        .load(conn)
        .await
}

/// The account whose e-mail or username (case-insensitively) is `login`, with its password hash.
pub async fn find_by_login(conn: &mut AsyncPgConnection, login: &str) -> QueryResult<Option<(User, String)>> {
    let login = login.trim().to_lowercase();
    users::table
        .filter(
            diesel::dsl::sql::<diesel::sql_types::Bool>("lower(email) = ")
                .bind::<diesel::sql_types::Text, _>(login.clone())
                .or(diesel::dsl::sql::<diesel::sql_types::Bool>("lower(username) = ").bind::<diesel::sql_types::Text, _>(login)),
        )
        .select((User::as_select(), users::password_hash))
        .first(conn)
        .await
        .optional()
}

/// Applies a profile update and returns the new row.
pub async fn update_profile(conn: &mut AsyncPgConnection, id: Uuid, update: &ProfileUpdate<'_>) -> QueryResult<Option<User>> {
    diesel::update(users::table.find(id)).set(update).returning(User::as_returning()).get_result(conn).await.optional()
}

/// Sets the role of an account and bumps its version (under the row's lock, so versions order
/// the changes); returns the account and its new version, or `None` when there is none.
pub async fn set_role(conn: &mut AsyncPgConnection, id: Uuid, role: &str) -> QueryResult<Option<(User, i64)>> {
    diesel::update(users::table.find(id))
        .set((users::role.eq(role), users::version.eq(users::version + 1)))
        .returning((User::as_returning(), users::version))
        .get_result(conn)
        .await
        .optional()
}

/// Up to `limit` accounts after `after` (by id) with their versions: the backfill of other
/// subgraphs' account directories walks every account with it.
pub async fn versions_after(conn: &mut AsyncPgConnection, after: Option<Uuid>, limit: i64) -> QueryResult<Vec<(User, i64)>> {
    let mut query = users::table.select((User::as_select(), users::version)).order(users::id).limit(limit).into_boxed();
    if let Some(after) = after {
        query = query.filter(users::id.gt(after));
    }
    query.load(conn).await
}
