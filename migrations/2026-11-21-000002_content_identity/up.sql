-- Accounts, refresh-token families, regions and the video catalogue owned by `content`.

CREATE TABLE content.users (
    id            uuid PRIMARY KEY,
    email         text NOT NULL,
    username      text NOT NULL,
    password_hash text NOT NULL,
    role          text NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'admin')),
    display_name  text NOT NULL,
    bio           text NOT NULL DEFAULT '',
    avatar_url    text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
-- Case-insensitive uniqueness; the application stores e-mails lowercased already.
CREATE UNIQUE INDEX users_email_key ON content.users (lower(email));
CREATE UNIQUE INDEX users_username_key ON content.users (lower(username));

-- A refresh token is single-use: refreshing marks it used and issues the next one of the same
-- family. Presenting a used or revoked token revokes the whole family (it was stolen).
CREATE TABLE content.refresh_tokens (
    id          uuid PRIMARY KEY,
    family_id   uuid NOT NULL,
    user_id     uuid NOT NULL REFERENCES content.users (id) ON DELETE CASCADE,
    token_hash  bytea NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz,
    revoked_at  timestamptz
);
CREATE UNIQUE INDEX refresh_tokens_token_hash_key ON content.refresh_tokens (token_hash);
CREATE INDEX refresh_tokens_family_idx ON content.refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_idx ON content.refresh_tokens (user_id);

CREATE TABLE content.regions (
    id    integer PRIMARY KEY,
    slug  text NOT NULL UNIQUE,
    name  text NOT NULL
);
INSERT INTO content.regions (id, slug, name) VALUES
    (1, 'animation', 'Animation'),
    (2, 'music', 'Music'),
    (3, 'gaming', 'Gaming'),
    (4, 'tech', 'Tech'),
    (5, 'life', 'Life'),
    (6, 'food', 'Food'),
    (7, 'sports', 'Sports'),
    (8, 'film', 'Film & TV');

CREATE TABLE content.videos (
    id            uuid PRIMARY KEY,
    author_id     uuid NOT NULL REFERENCES content.users (id),
    region_id     integer NOT NULL REFERENCES content.regions (id),
    title         text NOT NULL,
    description   text NOT NULL DEFAULT '',
    cover_url     text,
    duration_secs integer NOT NULL CHECK (duration_secs >= 0),
    state         text NOT NULL DEFAULT 'published' CHECK (state IN ('draft', 'published', 'removed')),
    published_at  timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX videos_author_idx ON content.videos (author_id, published_at DESC);
CREATE INDEX videos_region_published_idx ON content.videos (region_id, published_at DESC) WHERE state = 'published';
