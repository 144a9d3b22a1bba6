// @generated automatically by Diesel CLI.

pub mod content {
    diesel::table! {
        content.refresh_tokens (id) {
            id -> Uuid,
            family_id -> Uuid,
            user_id -> Uuid,
            token_hash -> Bytea,
            created_at -> Timestamptz,
            expires_at -> Timestamptz,
            used_at -> Nullable<Timestamptz>,
            revoked_at -> Nullable<Timestamptz>,
        }
    }

    diesel::table! {
        content.regions (id) {
            id -> Int4,
            slug -> Text,
            name -> Text,
        }
    }

    diesel::table! {
        content.users (id) {
            id -> Uuid,
            email -> Text,
            username -> Text,
            password_hash -> Text,
            role -> Text,
            display_name -> Text,
            bio -> Text,
            avatar_url -> Nullable<Text>,
            created_at -> Timestamptz,
            updated_at -> Timestamptz,
        }
    }

    diesel::table! {
        content.videos (id) {
            id -> Uuid,
            author_id -> Uuid,
            region_id -> Int4,
            title -> Text,
            description -> Text,
            cover_url -> Nullable<Text>,
            duration_secs -> Int4,
            state -> Text,
            published_at -> Nullable<Timestamptz>,
            created_at -> Timestamptz,
        }
    }

    diesel::joinable!(refresh_tokens -> users (user_id));
    diesel::joinable!(videos -> regions (region_id));
    diesel::joinable!(videos -> users (author_id));

    diesel::allow_tables_to_appear_in_same_query!(refresh_tokens, regions, users, videos,);
}
