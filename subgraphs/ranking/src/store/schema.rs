// @generated automatically by Diesel CLI.

pub mod ranking {
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
            gift_ids -> Array<Text>,
            changed_by -> Uuid,
            changed_at -> Timestamptz,
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

    diesel::allow_tables_to_appear_in_same_query!(
        weekstar_channels,
        weekstar_gift_sets,
        weekstar_processed_gifts,
        weekstar_settled_boards,
        weekstar_settled_entries,
        weekstar_settlements,
        weekstar_streamer_counts,
        weekstar_supporter_counts,
        weekstar_visibility_changes,
    );
}
