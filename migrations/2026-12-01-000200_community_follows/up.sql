-- community: the user follow graph, the per-user counters, and the outbox of community's events.

-- Events that must reach JetStream (`platform::outbox`), written in the transaction of the change
-- they report and published by the relay after commit.
CREATE TABLE community.outbox (
    seq        bigserial PRIMARY KEY,
    event_id   uuid NOT NULL UNIQUE,
    subject    text NOT NULL,
    payload    jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- One row per (follower, followee) pair that ever followed; `following` is the current state.
-- The row outlives an unfollow so that `changed_at` keeps growing for the pair: consumers of
-- `FollowEvent` keep the latest change per pair by that time, so two changes of one pair never
-- carry the same time. `followed_at` orders the lists (when the current follow began).
CREATE TABLE community.user_follows (
    follower_id uuid NOT NULL,
    followee_id uuid NOT NULL,
    following   boolean NOT NULL,
    followed_at timestamptz NOT NULL,
    changed_at  timestamptz NOT NULL,
    PRIMARY KEY (follower_id, followee_id),
    CONSTRAINT user_follows_not_self CHECK (follower_id <> followee_id)
);
CREATE INDEX user_follows_following_idx ON community.user_follows (follower_id, followed_at DESC, followee_id) WHERE following;
CREATE INDEX user_follows_followers_idx ON community.user_follows (followee_id, followed_at DESC, follower_id) WHERE following;

-- Per-user counters, changed in the transaction of the action that changes them (never a
-- COUNT(*) on read); `vidgraph community-check` recomputes them from the tables above.
-- No CHECK (>= 0): writers change them with one upsert of deltas, and Postgres checks the
-- proposed row of an upsert before it finds the conflict, so a decrement of an existing row
-- (-1) would fail a CHECK it never breaks. The recompute check is the net instead.
CREATE TABLE community.user_stats (
    user_id         uuid PRIMARY KEY,
    following_count bigint NOT NULL DEFAULT 0,
    follower_count  bigint NOT NULL DEFAULT 0,
    likes_received  bigint NOT NULL DEFAULT 0
);
