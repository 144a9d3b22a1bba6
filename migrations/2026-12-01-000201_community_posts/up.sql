-- community: zones, posts, comments (replies, quote replies), likes and per-zone points.
-- Every counter below is changed in the transaction of the action that changes it, in the lock
-- order written down in `subgraphs/community/src/store/mod.rs`; `vidgraph community-check`
-- recomputes each from the rows it counts. (No CHECK (>= 0) on counters changed by upserts of
-- deltas: see `community.user_stats`.)

CREATE TABLE community.zones (
    id             uuid PRIMARY KEY,
    name           text NOT NULL,
    description    text NOT NULL,
    created_by     uuid NOT NULL,
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    -- live (not deleted) posts in the zone
    post_count     bigint NOT NULL DEFAULT 0,
    follower_count bigint NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX zones_name_key ON community.zones (lower(name));

CREATE TABLE community.zone_follows (
    user_id     uuid NOT NULL,
    zone_id     uuid NOT NULL REFERENCES community.zones,
    followed_at timestamptz NOT NULL,
    PRIMARY KEY (user_id, zone_id)
);
CREATE INDEX zone_follows_zone_idx ON community.zone_follows (zone_id);

CREATE TABLE community.posts (
    id            uuid PRIMARY KEY,
    zone_id       uuid NOT NULL REFERENCES community.zones,
    author_id     uuid NOT NULL,
    body          text NOT NULL,
    image_urls    text[] NOT NULL DEFAULT '{}',
    video_id      uuid,
    -- sum of the weights of its likes (1 per user, 5 per admin)
    like_score    bigint NOT NULL DEFAULT 0,
    -- its live comments and replies
    comment_count bigint NOT NULL DEFAULT 0,
    -- the points it earns its author in its zone while it is live
    points        bigint NOT NULL,
    created_at    timestamptz NOT NULL,
    edited_at     timestamptz,
    deleted_at    timestamptz,
    deleted_by    uuid,
    delete_reason text
);
CREATE INDEX posts_newest_idx ON community.posts (zone_id, created_at DESC, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX posts_home_idx ON community.posts (created_at DESC, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX posts_hot_idx ON community.posts (zone_id, (like_score + 2 * comment_count) DESC, id DESC) WHERE deleted_at IS NULL;

CREATE TABLE community.comments (
    id          uuid PRIMARY KEY,
    post_id     uuid NOT NULL REFERENCES community.posts,
    -- the top-level comment of a reply's thread (NULL: this is a top-level comment)
    thread_id   uuid REFERENCES community.comments,
    -- the reply of the same thread a quote reply quotes
    quote_id    uuid REFERENCES community.comments,
    author_id   uuid NOT NULL,
    body        text NOT NULL,
    like_score  bigint NOT NULL DEFAULT 0,
    -- live replies in its thread (top-level comments only)
    reply_count bigint NOT NULL DEFAULT 0,
    points      bigint NOT NULL,
    created_at  timestamptz NOT NULL,
    deleted_at  timestamptz,
    deleted_by  uuid,
    delete_reason text
);
CREATE INDEX comments_top_idx ON community.comments (post_id, created_at DESC, id DESC) WHERE thread_id IS NULL AND deleted_at IS NULL;
CREATE INDEX comments_thread_idx ON community.comments (thread_id, created_at DESC, id DESC) WHERE deleted_at IS NULL;

-- One like per user and item; `weight` is what it added (and what an unlike takes back).
CREATE TABLE community.likes (
    user_id     uuid NOT NULL,
    target_kind text NOT NULL CHECK (target_kind IN ('post', 'comment')),
    target_id   uuid NOT NULL,
    weight      integer NOT NULL CHECK (weight > 0),
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (user_id, target_kind, target_id)
);
CREATE INDEX likes_target_idx ON community.likes (target_kind, target_id);

-- Points, posts and replies of a user in a zone (live content of live posts only): the hall of fame.
CREATE TABLE community.zone_points (
    zone_id     uuid NOT NULL,
    user_id     uuid NOT NULL,
    points      bigint NOT NULL DEFAULT 0,
    post_count  bigint NOT NULL DEFAULT 0,
    reply_count bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (zone_id, user_id)
);
CREATE INDEX zone_points_fame_idx ON community.zone_points (zone_id, points DESC, user_id);
