-- Week-star boards: weekly gift leaderboards per (ISO week, channel, gift).
-- Weeks are ISO weeks in the platform's calendar time zone, stored as (iso_year, iso_week).

-- A channel's current switches. Rows appear on the first configuration or switch change.
CREATE TABLE ranking.weekstar_channels (
    channel_id  uuid PRIMARY KEY,
    web_visible boolean NOT NULL,
    app_visible boolean NOT NULL,
    updated_by  uuid NOT NULL,
    updated_at  timestamptz NOT NULL
);

-- Every gift-set change, append-only (who, when, from which week). The set in force for a week
-- is the latest change whose effective week is not after it: a change never rewrites a week
-- that has started, except a channel's first configuration, which takes effect at once.
CREATE TABLE ranking.weekstar_gift_sets (
    id             bigserial PRIMARY KEY,
    channel_id     uuid NOT NULL,
    effective_year int NOT NULL,
    effective_week int NOT NULL CHECK (effective_week BETWEEN 1 AND 53),
    gift_ids       text[] NOT NULL CHECK (cardinality(gift_ids) <= 4),
    changed_by     uuid NOT NULL,
    changed_at     timestamptz NOT NULL
);
CREATE INDEX weekstar_gift_sets_channel_week ON ranking.weekstar_gift_sets (channel_id, effective_year DESC, effective_week DESC, id DESC);

-- Every switch change, append-only. Counting for a gift looks up the switches in force when it
-- was sent; settlement looks up whether counting was off at any time in the week.
CREATE TABLE ranking.weekstar_visibility_changes (
    id          bigserial PRIMARY KEY,
    channel_id  uuid NOT NULL,
    web_visible boolean NOT NULL,
    app_visible boolean NOT NULL,
    changed_by  uuid NOT NULL,
    changed_at  timestamptz NOT NULL
);
CREATE INDEX weekstar_visibility_changes_channel_time ON ranking.weekstar_visibility_changes (channel_id, changed_at DESC, id DESC);

-- Gift events already counted: the idempotency record, written in the counting transaction.
CREATE TABLE ranking.weekstar_processed_gifts (
    event_id     uuid PRIMARY KEY,
    processed_at timestamptz NOT NULL
);
CREATE INDEX weekstar_processed_gifts_time ON ranking.weekstar_processed_gifts (processed_at);

-- What each streamer received of a week-star gift in a week, and when they reached that total
-- (the send time of their latest counted gift): the source of truth the Redis boards mirror.
CREATE TABLE ranking.weekstar_streamer_counts (
    iso_year    int NOT NULL,
    iso_week    int NOT NULL,
    channel_id  uuid NOT NULL,
    gift_id     text NOT NULL,
    streamer_id uuid NOT NULL,
    gift_count  bigint NOT NULL CHECK (gift_count > 0),
    reached_at  timestamptz NOT NULL,
    -- when a gift was last counted here: settlement waits until a week's boards are quiet
    updated_at  timestamptz NOT NULL,
    PRIMARY KEY (iso_year, iso_week, channel_id, gift_id, streamer_id)
);

-- The same per sender, for the best supporter of each board's winner.
CREATE INDEX weekstar_streamer_counts_board_rank
    ON ranking.weekstar_streamer_counts (iso_year, iso_week, channel_id, gift_id, gift_count DESC, reached_at);

CREATE TABLE ranking.weekstar_supporter_counts (
    iso_year    int NOT NULL,
    iso_week    int NOT NULL,
    channel_id  uuid NOT NULL,
    gift_id     text NOT NULL,
    streamer_id uuid NOT NULL,
    sender_id   uuid NOT NULL,
    gift_count  bigint NOT NULL CHECK (gift_count > 0),
    reached_at  timestamptz NOT NULL,
    PRIMARY KEY (iso_year, iso_week, channel_id, gift_id, streamer_id, sender_id)
);

-- One row per settled week. Its primary key is the settlement's lease: the transaction that
-- inserts it settles the week; a concurrent replica's insert waits, then finds it and stops.
CREATE TABLE ranking.weekstar_settlements (
    iso_year   int NOT NULL,
    iso_week   int NOT NULL,
    settled_at timestamptz NOT NULL,
    boards     int NOT NULL DEFAULT 0,
    PRIMARY KEY (iso_year, iso_week)
);

-- Frozen boards of settled weeks.
CREATE TABLE ranking.weekstar_settled_boards (
    iso_year                  int NOT NULL,
    iso_week                  int NOT NULL,
    channel_id                uuid NOT NULL,
    gift_id                   text NOT NULL,
    -- counting was switched off (web and app) at some time in the week: no rewards
    skipped                   boolean NOT NULL,
    best_supporter_id         uuid,
    best_supporter_count      bigint,
    best_supporter_reached_at timestamptz,
    PRIMARY KEY (iso_year, iso_week, channel_id, gift_id),
    FOREIGN KEY (iso_year, iso_week) REFERENCES ranking.weekstar_settlements (iso_year, iso_week)
);

CREATE TABLE ranking.weekstar_settled_entries (
    iso_year    int NOT NULL,
    iso_week    int NOT NULL,
    channel_id  uuid NOT NULL,
    gift_id     text NOT NULL,
    rank        int NOT NULL,
    streamer_id uuid NOT NULL,
    gift_count  bigint NOT NULL,
    reached_at  timestamptz NOT NULL,
    PRIMARY KEY (iso_year, iso_week, channel_id, gift_id, rank),
    FOREIGN KEY (iso_year, iso_week, channel_id, gift_id)
        REFERENCES ranking.weekstar_settled_boards (iso_year, iso_week, channel_id, gift_id)
);
