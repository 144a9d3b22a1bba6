-- community: review of posts and comments (post-then-review or review-then-post, per zone with
-- a site default) and the keyword filter's word lists.
--
-- An item is counted (in points, post/comment/reply counts) while it is `published` and not
-- deleted. `pending` items wait for approval (review-then-post, or flagged by the filter);
-- `rejected` ones were refused, or taken down after publishing.
ALTER TABLE community.posts
    ADD COLUMN state         text NOT NULL DEFAULT 'published' CHECK (state IN ('published', 'pending', 'rejected')),
    ADD COLUMN reviewed_by   uuid,
    ADD COLUMN reviewed_at   timestamptz,
    ADD COLUMN review_reason text;
ALTER TABLE community.comments
    ADD COLUMN state         text NOT NULL DEFAULT 'published' CHECK (state IN ('published', 'pending', 'rejected')),
    ADD COLUMN reviewed_by   uuid,
    ADD COLUMN reviewed_at   timestamptz,
    ADD COLUMN review_reason text;
CREATE INDEX posts_review_idx ON community.posts (state, created_at DESC, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX comments_review_idx ON community.comments (state, created_at DESC, id DESC) WHERE deleted_at IS NULL;

-- NULL: the site default (`community.settings`).
ALTER TABLE community.zones
    ADD COLUMN post_review    text CHECK (post_review IN ('post_then_review', 'review_then_post')),
    ADD COLUMN comment_review text CHECK (comment_review IN ('post_then_review', 'review_then_post'));

CREATE TABLE community.settings (
    key   text PRIMARY KEY,
    value text NOT NULL
);
INSERT INTO community.settings (key, value) VALUES ('post_review', 'post_then_review'), ('comment_review', 'post_then_review');

-- The keyword filter: `blocked` words refuse the text, `flagged` ones send it to review.
CREATE TABLE community.moderation_words (
    word  text PRIMARY KEY,
    level text NOT NULL CHECK (level IN ('blocked', 'flagged'))
);
