-- community: streamer dynamics (hand-written, or made from live's room events and content's
-- video events), their comments and likes, and the push switch.

CREATE TABLE community.dynamics (
    id            uuid PRIMARY KEY,
    author_id     uuid NOT NULL,
    -- 'post' (written by hand), 'live' (went live), 'video' (published a video)
    kind          text NOT NULL CHECK (kind IN ('post', 'live', 'video')),
    body          text NOT NULL,
    image_urls    text[] NOT NULL DEFAULT '{}',
    video_id      uuid,
    room_id       uuid,
    -- The event a system dynamic was made from: ('live_session', session id) or ('video', video
    -- id). Unique, so a redelivered or repeated event makes no second dynamic (NULLs, the
    -- hand-written ones, never conflict).
    source_kind   text,
    source_id     uuid,
    -- 'pending': flagged by the keyword filter, shown to its author only and never pushed
    state         text NOT NULL DEFAULT 'published' CHECK (state IN ('published', 'pending')),
    -- sum of the weights of its likes (1 per user, 5 per admin), in `community.likes`
    like_score    bigint NOT NULL DEFAULT 0,
    -- its live comments
    comment_count bigint NOT NULL DEFAULT 0,
    created_at    timestamptz NOT NULL,
    -- The writing transaction: `dynamicsSince` pages by (txid, id) and only up to the oldest
    -- transaction still running, so a dynamic that commits late is never skipped by a poller.
    txid          xid8 NOT NULL DEFAULT pg_current_xact_id(),
    deleted_at    timestamptz,
    deleted_by    uuid,
    delete_reason text,
    CONSTRAINT dynamics_source_key UNIQUE (source_kind, source_id),
    CONSTRAINT dynamics_source_pair CHECK ((source_kind IS NULL) = (source_id IS NULL))
);
CREATE INDEX dynamics_author_newest_idx ON community.dynamics (author_id, created_at DESC, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX dynamics_author_txid_idx ON community.dynamics (author_id, txid, id) WHERE deleted_at IS NULL;

CREATE TABLE community.dynamic_comments (
    id            uuid PRIMARY KEY,
    dynamic_id    uuid NOT NULL REFERENCES community.dynamics,
    author_id     uuid NOT NULL,
    body          text NOT NULL,
    created_at    timestamptz NOT NULL,
    deleted_at    timestamptz,
    deleted_by    uuid,
    delete_reason text
);
CREATE INDEX dynamic_comments_newest_idx ON community.dynamic_comments (dynamic_id, created_at DESC, id DESC) WHERE deleted_at IS NULL;

-- Likes of dynamics are rows of `community.likes` (kind 'dynamic'), with the same weight rule
-- and the same likes-received counter as posts and comments.
ALTER TABLE community.likes DROP CONSTRAINT likes_target_kind_check;
ALTER TABLE community.likes ADD CONSTRAINT likes_target_kind_check CHECK (target_kind IN ('post', 'comment', 'dynamic'));

-- The push switch (one row): off under overload, clients poll `dynamicsSince` every
-- `poll_interval_secs` instead. Read in the transaction that publishes a dynamic, so every
-- replica follows a change from its next dynamic on.
CREATE TABLE community.push_settings (
    singleton          boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    enabled            boolean NOT NULL,
    poll_interval_secs integer NOT NULL CHECK (poll_interval_secs BETWEEN 5 AND 3600),
    updated_by         uuid,
    updated_at         timestamptz NOT NULL
);
INSERT INTO community.push_settings (enabled, poll_interval_secs, updated_at) VALUES (true, 30, now());
