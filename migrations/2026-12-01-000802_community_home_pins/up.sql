-- community: "today's hot" of the home list, up to four posts of any zone pinned site-wide by
-- admins, leading the home list (the per-zone pins are `posts.pinned_at`).
CREATE TABLE community.home_pins (
    post_id        uuid PRIMARY KEY REFERENCES community.posts,
    home_pinned_by uuid NOT NULL,
    home_pinned_at timestamptz NOT NULL
);
