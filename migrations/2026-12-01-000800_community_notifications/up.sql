-- community: notifications (a like of one's post or comment, a reply to it, a new follower),
-- written in the transaction of the action (`domain::notifications::record`).
--
-- Repeated events of one kind on one subject fold into one row (`fold_key`): every like of a
-- post is one "alice, bob and 12 others liked your post". `actor_count` counts the distinct
-- actors folded in (each at most once: `notification_actors`), `latest_actor_ids` holds the
-- three most recent, newest first. A new actor folding in bumps `updated_at` (the list's order)
-- and makes the row unread again.
CREATE TABLE community.notifications (
    id               uuid PRIMARY KEY,
    recipient_id     uuid NOT NULL,
    -- `like`, `reply`, `follow`
    kind             text NOT NULL CHECK (kind IN ('like', 'reply', 'follow')),
    -- what it is about: `post`, `comment`, `dynamic` (the recipient's item), `user` (a follow)
    subject_kind     text NOT NULL CHECK (subject_kind IN ('post', 'comment', 'dynamic', 'user')),
    subject_id       uuid NOT NULL,
    -- the reply (a comment) of a `reply` notification
    reply_id         uuid,
    fold_key         text NOT NULL,
    actor_count      bigint NOT NULL DEFAULT 0,
    latest_actor_ids uuid[] NOT NULL DEFAULT '{}',
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    read_at          timestamptz
);
CREATE UNIQUE INDEX notifications_fold_key ON community.notifications (recipient_id, fold_key);
CREATE INDEX notifications_list_idx ON community.notifications (recipient_id, updated_at DESC, id DESC);
CREATE INDEX notifications_unread_idx ON community.notifications (recipient_id) WHERE read_at IS NULL;

-- Who has folded into a notification (so an unlike and a like again does not count twice).
CREATE TABLE community.notification_actors (
    notification_id uuid NOT NULL REFERENCES community.notifications ON DELETE CASCADE,
    actor_id        uuid NOT NULL,
    PRIMARY KEY (notification_id, actor_id)
);
