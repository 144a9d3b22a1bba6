// @generated automatically by Diesel CLI.

pub mod content {
    diesel::table! {
        content.comment_likes (comment_id, user_id) {
            comment_id -> Uuid,
            user_id -> Uuid,
            created_at -> Timestamptz,
        }
    }

    diesel::table! {
        content.comments (id) {
            id -> Uuid,
            video_id -> Uuid,
            author_id -> Uuid,
            root_id -> Nullable<Uuid>,
            reply_to_id -> Nullable<Uuid>,
            body -> Text,
            like_count -> Int8,
            reply_count -> Int8,
            created_at -> Timestamptz,
            deleted_at -> Nullable<Timestamptz>,
        }
    }

    diesel::table! {
        content.danmaku (id) {
            id -> Uuid,
            video_id -> Uuid,
            author_id -> Uuid,
            offset_ms -> Int4,
            body -> Text,
            color -> Int4,
            mode -> Text,
            created_at -> Timestamptz,
        }
    }

    diesel::table! {
        content.follows (follower_id, followee_id) {
            follower_id -> Uuid,
            followee_id -> Uuid,
            following -> Bool,
            changed_at -> Timestamptz,
        }
    }

    diesel::table! {
        content.outbox (seq) {
            seq -> Int8,
            event_id -> Uuid,
            subject -> Text,
            payload -> Jsonb,
            created_at -> Timestamptz,
        }
    }

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
        content.uploads (id) {
            id -> Uuid,
            owner_id -> Uuid,
            state -> Text,
            content_type -> Text,
            max_bytes -> Int8,
            size_bytes -> Nullable<Int8>,
            sha256 -> Nullable<Text>,
            storage_key -> Text,
            created_at -> Timestamptz,
            expires_at -> Timestamptz,
            completed_at -> Nullable<Timestamptz>,
            receiver -> Nullable<Uuid>,
            receiving_until -> Nullable<Timestamptz>,
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
            version -> Int8,
        }
    }

    diesel::table! {
        content.video_coins (video_id, user_id) {
            video_id -> Uuid,
            user_id -> Uuid,
            coins -> Int2,
            updated_at -> Timestamptz,
        }
    }

    diesel::table! {
        content.video_favourites (video_id, user_id) {
            video_id -> Uuid,
            user_id -> Uuid,
            created_at -> Timestamptz,
        }
    }

    diesel::table! {
        content.video_likes (video_id, user_id) {
            video_id -> Uuid,
            user_id -> Uuid,
            created_at -> Timestamptz,
        }
    }

    diesel::table! {
        content.video_shares (video_id, user_id) {
            video_id -> Uuid,
            user_id -> Uuid,
            created_at -> Timestamptz,
        }
    }

    diesel::table! {
        content.video_stats (video_id) {
            video_id -> Uuid,
            views -> Int8,
            likes -> Int8,
            coins -> Int8,
            favourites -> Int8,
            shares -> Int8,
            comments -> Int8,
            danmaku -> Int8,
            updated_at -> Timestamptz,
        }
    }

    diesel::table! {
        content.video_views (video_id, viewer_key) {
            video_id -> Uuid,
            viewer_key -> Text,
            last_counted_at -> Timestamptz,
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
            tags -> Array<Text>,
            source_url -> Nullable<Text>,
            asset_ref -> Nullable<Text>,
            upload_id -> Nullable<Uuid>,
            updated_at -> Timestamptz,
            removed_at -> Nullable<Timestamptz>,
        }
    }

    diesel::joinable!(comment_likes -> comments (comment_id));
    diesel::joinable!(comment_likes -> users (user_id));
    diesel::joinable!(comments -> users (author_id));
    diesel::joinable!(comments -> videos (video_id));
    diesel::joinable!(danmaku -> users (author_id));
    diesel::joinable!(danmaku -> videos (video_id));
    diesel::joinable!(refresh_tokens -> users (user_id));
    diesel::joinable!(uploads -> users (owner_id));
    diesel::joinable!(video_coins -> users (user_id));
    diesel::joinable!(video_coins -> videos (video_id));
    diesel::joinable!(video_favourites -> users (user_id));
    diesel::joinable!(video_favourites -> videos (video_id));
    diesel::joinable!(video_likes -> users (user_id));
    diesel::joinable!(video_likes -> videos (video_id));
    diesel::joinable!(video_shares -> users (user_id));
    diesel::joinable!(video_shares -> videos (video_id));
    diesel::joinable!(video_stats -> videos (video_id));
    diesel::joinable!(video_views -> videos (video_id));
    diesel::joinable!(videos -> regions (region_id));
    diesel::joinable!(videos -> users (author_id));

    diesel::allow_tables_to_appear_in_same_query!(
        comment_likes,
        comments,
        danmaku,
        follows,
        outbox,
        refresh_tokens,
        regions,
        uploads,
        users,
        video_coins,
        video_favourites,
        video_likes,
        video_shares,
        video_stats,
        video_views,
        videos,
    );
}
