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
        ranking.leases (name) {
            name -> Text,
            holder -> Text,
            epoch -> Int8,
            lease_until -> Timestamptz,
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
            state_at -> Timestamptz,
        }
    }

    diesel::table! {
        ranking.viewer_authors (viewer_id, author_id) {
            viewer_id -> Uuid,
            author_id -> Uuid,
            points -> Int8,
            updated_at -> Timestamptz,
        }
    }

    diesel::table! {
        ranking.viewer_regions (viewer_id, region_id) {
            viewer_id -> Uuid,
            region_id -> Int4,
            points -> Int8,
            updated_at -> Timestamptz,
        }
    }

    diesel::table! {
        ranking.viewer_watched (viewer_id, video_id) {
            viewer_id -> Uuid,
            video_id -> Uuid,
            watched_at -> Timestamptz,
        }
    }

    diesel::table! {
        ranking.weekstar_channels (channel_id) {
            channel_id -> Uuid,
            web_visible -> Bool,
            app_visible -> Bool,
            updated_by -> Uuid,
            updated_at -> Timestamptz,
        }
    }

    diesel::table! {
        ranking.weekstar_gift_sets (id) {
            id -> Int8,
            channel_id -> Uuid,
            effective_year -> Int4,
            effective_week -> Int4,
            gift_ids -> Array<Nullable<Text>>,
            changed_by -> Uuid,
            changed_at -> Timestamptz,
        }
    }

    diesel::table! {
        ranking.weekstar_late_gifts (event_id) {
            event_id -> Uuid,
            iso_year -> Int4,
            iso_week -> Int4,
            channel_id -> Uuid,
            gift_id -> Text,
            streamer_id -> Uuid,
            sender_id -> Uuid,
            gift_count -> Int8,
            sent_at -> Timestamptz,
            recorded_at -> Timestamptz,
        }
    }

    diesel::table! {
        ranking.weekstar_processed_gifts (event_id) {
            event_id -> Uuid,
            processed_at -> Timestamptz,
        }
    }

    diesel::table! {
        ranking.weekstar_settled_boards (iso_year, iso_week, channel_id, gift_id) {
            iso_year -> Int4,
            iso_week -> Int4,
            channel_id -> Uuid,
            gift_id -> Text,
            skipped -> Bool,
            best_supporter_id -> Nullable<Uuid>,
            best_supporter_count -> Nullable<Int8>,
            best_supporter_reached_at -> Nullable<Timestamptz>,
        }
    }

    diesel::table! {
        ranking.weekstar_settled_entries (iso_year, iso_week, channel_id, gift_id, rank) {
            iso_year -> Int4,
            iso_week -> Int4,
            channel_id -> Uuid,
            gift_id -> Text,
            rank -> Int4,
            streamer_id -> Uuid,
            gift_count -> Int8,
            reached_at -> Timestamptz,
        }
    }

    diesel::table! {
        ranking.weekstar_settlements (iso_year, iso_week) {
            iso_year -> Int4,
            iso_week -> Int4,
            settled_at -> Timestamptz,
            boards -> Int4,
        }
    }

    diesel::table! {
        ranking.weekstar_streamer_counts (iso_year, iso_week, channel_id, gift_id, streamer_id) {
            iso_year -> Int4,
            iso_week -> Int4,
            channel_id -> Uuid,
            gift_id -> Text,
            streamer_id -> Uuid,
            gift_count -> Int8,
            reached_at -> Timestamptz,
            updated_at -> Timestamptz,
        }
    }

    diesel::table! {
        ranking.weekstar_supporter_counts (iso_year, iso_week, channel_id, gift_id, streamer_id, sender_id) {
            iso_year -> Int4,
            iso_week -> Int4,
            channel_id -> Uuid,
            gift_id -> Text,
            streamer_id -> Uuid,
            sender_id -> Uuid,
            gift_count -> Int8,
            reached_at -> Timestamptz,
        }
    }

    diesel::table! {
        ranking.weekstar_visibility_changes (id) {
            id -> Int8,
            channel_id -> Uuid,
            web_visible -> Bool,
            app_visible -> Bool,
            changed_by -> Uuid,
            changed_at -> Timestamptz,
        }
    }

    diesel::joinable!(recompute_runs -> hot_weights (weights_id));

    diesel::allow_tables_to_appear_in_same_query!(
        hot_weights,
        leases,
        processed_events,
        recompute_runs,
        stat_buckets,
        videos,
        viewer_authors,
        viewer_regions,
        viewer_watched,
        weekstar_channels,
        weekstar_gift_sets,
        weekstar_late_gifts,
        weekstar_processed_gifts,
        weekstar_settled_boards,
        weekstar_settled_entries,
        weekstar_settlements,
        weekstar_streamer_counts,
        weekstar_supporter_counts,
        weekstar_visibility_changes,
    );
}
