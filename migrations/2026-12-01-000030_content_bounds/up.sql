-- Resource bounds of `content` (issue 14, item 5).

-- One writer per upload slot. A PUT claims a pending slot by writing a fresh `receiver` id
-- and `receiving_until` (now + the PUT's time limit) where no live claim exists; a second PUT
-- meanwhile finds the claim and is refused before it stages a byte. Only the claimant can
-- complete the slot (the completion is guarded on its `receiver`), so a PUT whose claim lapsed
-- and was taken over can never publish. The claim is released when the PUT fails.
ALTER TABLE content.uploads
    ADD COLUMN receiver        uuid,
    ADD COLUMN receiving_until timestamptz;

-- Per-user caps (pending slots, bytes per day) read the owner's recent slots.
CREATE INDEX uploads_owner_created_idx ON content.uploads (owner_id, created_at);

-- The periodic prune: anonymous view markers past their window (a signed-in viewer's marker
-- is also their `watched` flag and stays), and refresh tokens expired or revoked for longer
-- than the grace.
CREATE INDEX video_views_anonymous_age_idx ON content.video_views (last_counted_at) WHERE viewer_key LIKE 'addr:%';
CREATE INDEX refresh_tokens_expires_idx ON content.refresh_tokens (expires_at);
CREATE INDEX refresh_tokens_revoked_idx ON content.refresh_tokens (revoked_at) WHERE revoked_at IS NOT NULL;
