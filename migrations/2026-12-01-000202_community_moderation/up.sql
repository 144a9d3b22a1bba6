-- community: mutes and bans, and the moderation log (one table for every moderator action).

-- A user's standing: muted until a time (cannot post, comment or like), or banned (cannot use
-- community features at all). One row per user who was ever sanctioned.
CREATE TABLE community.sanctions (
    user_id     uuid PRIMARY KEY,
    muted_until timestamptz,
    banned      boolean NOT NULL DEFAULT false,
    updated_at  timestamptz NOT NULL
);
CREATE INDEX sanctions_muted_idx ON community.sanctions (muted_until DESC, user_id) WHERE muted_until IS NOT NULL;
CREATE INDEX sanctions_banned_idx ON community.sanctions (updated_at DESC, user_id) WHERE banned;

-- Who did what to whom or which item, why and when (and until when, for mutes). Written in
-- the transaction of the action.
CREATE TABLE community.moderation_log (
    id          uuid PRIMARY KEY,
    actor_id    uuid NOT NULL,
    action      text NOT NULL,
    target_user uuid,
    target_kind text,
    target_id   uuid,
    reason      text,
    expires_at  timestamptz,
    created_at  timestamptz NOT NULL
);
CREATE INDEX moderation_log_newest_idx ON community.moderation_log (created_at DESC, id DESC);
