// @generated automatically by Diesel CLI.

pub mod ranking {
    diesel::table! {
        ranking.hot_weights (id) {
            id -> Int8,
            views -> Int4,
            likes -> Int4,
            coins -> Int4,
            favourites -> Int4,
            shares -> Int4,
            comments -> Int4,
            danmaku -> Int4,
            new_boost_percent -> Int4,
            new_boost_hours -> Int4,
            changed_by -> Nullable<Uuid>,
            changed_at -> Timestamptz,
        }
    }

    diesel::table! {
        ranking.processed_events (event_id) {
            event_id -> Uuid,
            processed_at -> Timestamptz,
        }
    }

    diesel::table! {
        ranking.recompute_runs (id) {
            id -> Uuid,
            reason -> Text,
            requested_by -> Nullable<Uuid>,
            status -> Text,
            as_of -> Timestamptz,
            weights_id -> Int8,
            checkpoint -> Nullable<Uuid>,
            videos_processed -> Int8,
            holder -> Nullable<Text>,
            lease_until -> Nullable<Timestamptz>,
            started_at -> Timestamptz,
            finished_at -> Nullable<Timestamptz>,
            error -> Nullable<Text>,
        }
    }

    diesel::table! {
        ranking.stat_buckets (video_id, bucket) {
            video_id -> Uuid,
            bucket -> Timestamptz,
            views -> Int8,
            likes -> Int8,
            coins -> Int8,
            favourites -> Int8,
            shares -> Int8,
            comments -> Int8,
            danmaku -> Int8,
        }
    }

    diesel::table! {
        ranking.videos (video_id) {
            video_id -> Uuid,
            author_id -> Uuid,
            region_id -> Int4,
            published_at -> Nullable<Timestamptz>,
            state -> Text,
            views -> Int8,
            likes -> Int8,
            coins -> Int8,
            favourites -> Int8,
            shares -> Int8,
            comments -> Int8,
            danmaku -> Int8,
            totals_at -> Timestamptz,
        }
    }

    diesel::joinable!(recompute_runs -> hot_weights (weights_id));

    diesel::allow_tables_to_appear_in_same_query!(hot_weights, processed_events, recompute_runs, stat_buckets, videos,);
}
