-- Gifts counted after their week was settled: recorded here, visibly, instead of being added
-- to the settled week's counters (which stay as they were frozen). One row per gift event.
CREATE TABLE ranking.weekstar_late_gifts (
    event_id uuid PRIMARY KEY,
    iso_year int NOT NULL,
    iso_week int NOT NULL,
    channel_id uuid NOT NULL,
    gift_id text NOT NULL,
    streamer_id uuid NOT NULL,
    sender_id uuid NOT NULL,
    gift_count bigint NOT NULL CHECK (gift_count > 0),
    sent_at timestamptz NOT NULL,
    recorded_at timestamptz NOT NULL
);

CREATE INDEX weekstar_late_gifts_board ON ranking.weekstar_late_gifts (iso_year, iso_week, channel_id, gift_id);
