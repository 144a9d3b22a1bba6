-- The video catalogue: metadata, soft delete, search, stats, interactions, comments, VOD
-- danmaku, uploads, the follow projection and the event outbox.

-- Trigram matching for partial words and CJK text (which has no word boundaries for tsvector).
-- Extensions are database-wide; it lives in `public` like every stock extension.
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;

ALTER TABLE content.videos
    ADD COLUMN tags        text[] NOT NULL DEFAULT '{}',
    ADD COLUMN source_url  text,
    ADD COLUMN asset_ref   text,
    ADD COLUMN upload_id   uuid,
    ADD COLUMN updated_at  timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN removed_at  timestamptz,
    -- Everything search matches on, in one string: title, tags, description.
    ADD COLUMN search_text text NOT NULL DEFAULT '',
    -- Weighted words: title (A), tags (B), description (C).
    ADD COLUMN search_doc  tsvector NOT NULL DEFAULT ''::tsvector;

-- `array_to_string` is not immutable, so a generated column cannot use it: a trigger keeps
-- the two search columns in step with the row instead.
CREATE FUNCTION content.videos_search_columns() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.search_text := lower(NEW.title || ' ' || array_to_string(NEW.tags, ' ') || ' ' || NEW.description);
    NEW.search_doc :=
        setweight(to_tsvector('simple', NEW.title), 'A') ||
        setweight(to_tsvector('simple', array_to_string(NEW.tags, ' ')), 'B') ||
        setweight(to_tsvector('simple', NEW.description), 'C');
    RETURN NEW;
END $$;
CREATE TRIGGER videos_search_columns BEFORE INSERT OR UPDATE OF title, tags, description ON content.videos
    FOR EACH ROW EXECUTE FUNCTION content.videos_search_columns();
UPDATE content.videos SET title = title;

CREATE INDEX videos_search_doc_idx ON content.videos USING gin (search_doc) WHERE state = 'published';
CREATE INDEX videos_search_trgm_idx ON content.videos USING gin (search_text gin_trgm_ops) WHERE state = 'published';
CREATE INDEX videos_published_idx ON content.videos (published_at DESC, id DESC) WHERE state = 'published';
DROP INDEX content.videos_author_idx;
CREATE INDEX videos_author_idx ON content.videos (author_id, published_at DESC, id DESC);
CREATE UNIQUE INDEX videos_upload_key ON content.videos (upload_id) WHERE upload_id IS NOT NULL;

-- Counters of one video, apart from its metadata: they change on every interaction, and a
-- narrow row keeps those updates cheap. Changed only in the transaction of the interaction.
CREATE TABLE content.video_stats (
    video_id    uuid PRIMARY KEY REFERENCES content.videos (id) ON DELETE CASCADE,
    views       bigint NOT NULL DEFAULT 0 CHECK (views >= 0),
    likes       bigint NOT NULL DEFAULT 0 CHECK (likes >= 0),
    coins       bigint NOT NULL DEFAULT 0 CHECK (coins >= 0),
    favourites  bigint NOT NULL DEFAULT 0 CHECK (favourites >= 0),
    shares      bigint NOT NULL DEFAULT 0 CHECK (shares >= 0),
    comments    bigint NOT NULL DEFAULT 0 CHECK (comments >= 0),
    danmaku     bigint NOT NULL DEFAULT 0 CHECK (danmaku >= 0),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
INSERT INTO content.video_stats (video_id) SELECT id FROM content.videos;
CREATE INDEX video_stats_views_idx ON content.video_stats (views DESC);

-- One row per (viewer, video) interaction; the primary keys make each action idempotent.
CREATE TABLE content.video_likes (
    video_id   uuid NOT NULL REFERENCES content.videos (id) ON DELETE CASCADE,
    user_id    uuid NOT NULL REFERENCES content.users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (video_id, user_id)
);
CREATE TABLE content.video_coins (
    video_id   uuid NOT NULL REFERENCES content.videos (id) ON DELETE CASCADE,
    user_id    uuid NOT NULL REFERENCES content.users (id) ON DELETE CASCADE,
    coins      smallint NOT NULL CHECK (coins BETWEEN 1 AND 2),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (video_id, user_id)
);
CREATE TABLE content.video_favourites (
    video_id   uuid NOT NULL REFERENCES content.videos (id) ON DELETE CASCADE,
    user_id    uuid NOT NULL REFERENCES content.users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (video_id, user_id)
);
CREATE TABLE content.video_shares (
    video_id   uuid NOT NULL REFERENCES content.videos (id) ON DELETE CASCADE,
    user_id    uuid NOT NULL REFERENCES content.users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (video_id, user_id)
);
-- A view counts once per viewer (account, or client address when anonymous) per window.
CREATE TABLE content.video_views (
    video_id        uuid NOT NULL REFERENCES content.videos (id) ON DELETE CASCADE,
    viewer_key      text NOT NULL,
    last_counted_at timestamptz NOT NULL,
    PRIMARY KEY (video_id, viewer_key)
);

-- Threads: a root comment has no parent; a reply points at its root (threads are two levels
-- deep, as on most video sites) and, optionally, at the reply it answers.
CREATE TABLE content.comments (
    id           uuid PRIMARY KEY,
    video_id     uuid NOT NULL REFERENCES content.videos (id) ON DELETE CASCADE,
    author_id    uuid NOT NULL REFERENCES content.users (id),
    root_id      uuid REFERENCES content.comments (id) ON DELETE CASCADE,
    reply_to_id  uuid REFERENCES content.comments (id) ON DELETE SET NULL,
    body         text NOT NULL,
    like_count   bigint NOT NULL DEFAULT 0 CHECK (like_count >= 0),
    reply_count  bigint NOT NULL DEFAULT 0 CHECK (reply_count >= 0),
    created_at   timestamptz NOT NULL DEFAULT now(),
    deleted_at   timestamptz
);
CREATE INDEX comments_roots_newest_idx ON content.comments (video_id, created_at DESC, id DESC) WHERE root_id IS NULL AND deleted_at IS NULL;
CREATE INDEX comments_roots_hottest_idx ON content.comments (video_id, like_count DESC, id DESC) WHERE root_id IS NULL AND deleted_at IS NULL;
CREATE INDEX comments_replies_idx ON content.comments (root_id, created_at, id) WHERE deleted_at IS NULL;
CREATE TABLE content.comment_likes (
    comment_id uuid NOT NULL REFERENCES content.comments (id) ON DELETE CASCADE,
    user_id    uuid NOT NULL REFERENCES content.users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (comment_id, user_id)
);

-- Bullet comments bound to a playback position.
CREATE TABLE content.danmaku (
    id         uuid PRIMARY KEY,
    video_id   uuid NOT NULL REFERENCES content.videos (id) ON DELETE CASCADE,
    author_id  uuid NOT NULL REFERENCES content.users (id),
    offset_ms  integer NOT NULL CHECK (offset_ms >= 0),
    body       text NOT NULL,
    color      integer NOT NULL CHECK (color BETWEEN 0 AND 16777215),
    mode       text NOT NULL CHECK (mode IN ('scroll', 'top', 'bottom')),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX danmaku_playback_idx ON content.danmaku (video_id, offset_ms, id);

-- An upload slot: created by `createVideoUpload`, filled by one HTTP PUT, then attached to
-- one video. Pending slots past their expiry (and their partial files) are swept.
CREATE TABLE content.uploads (
    id            uuid PRIMARY KEY,
    owner_id      uuid NOT NULL REFERENCES content.users (id) ON DELETE CASCADE,
    state         text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'complete', 'attached')),
    content_type  text NOT NULL,
    max_bytes     bigint NOT NULL CHECK (max_bytes > 0),
    size_bytes    bigint,
    sha256        text,
    storage_key   text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    completed_at  timestamptz
);
CREATE INDEX uploads_sweep_idx ON content.uploads (expires_at) WHERE state <> 'attached';

-- The follow graph lives in `community`; content keeps this projection of it, fed by the
-- follow events, for the following feed. `changed_at` orders redelivered or late events.
CREATE TABLE content.follows (
    follower_id uuid NOT NULL,
    followee_id uuid NOT NULL,
    following   boolean NOT NULL,
    changed_at  timestamptz NOT NULL,
    PRIMARY KEY (follower_id, followee_id)
);
CREATE INDEX follows_following_idx ON content.follows (follower_id) WHERE following;

-- Events that must reach JetStream, written in the transaction of the change they report and
-- published by the relay after commit (at least once; `event_id` lets consumers de-duplicate).
CREATE TABLE content.outbox (
    seq        bigserial PRIMARY KEY,
    event_id   uuid NOT NULL UNIQUE,
    subject    text NOT NULL,
    payload    jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
