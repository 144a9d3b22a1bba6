-- community: dynamics held back by the keyword filter go through the one review path of posts
-- and comments (store::review over the `Reviewed` row types): an admin approves one (it is
-- published and pushed then) or rejects it with a reason; who, when and why are recorded.
ALTER TABLE community.dynamics DROP CONSTRAINT dynamics_state_check;
ALTER TABLE community.dynamics ADD CONSTRAINT dynamics_state_check CHECK (state IN ('published', 'pending', 'rejected'));
ALTER TABLE community.dynamics ADD COLUMN reviewed_by uuid;
ALTER TABLE community.dynamics ADD COLUMN review_reason text;
ALTER TABLE community.dynamics ADD COLUMN reviewed_at timestamptz;
CREATE INDEX dynamics_review_idx ON community.dynamics (state, created_at DESC, id DESC) WHERE deleted_at IS NULL;
