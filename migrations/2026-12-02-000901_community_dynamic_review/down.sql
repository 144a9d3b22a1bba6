DROP INDEX community.dynamics_review_idx;
ALTER TABLE community.dynamics DROP COLUMN reviewed_at;
ALTER TABLE community.dynamics DROP COLUMN review_reason;
ALTER TABLE community.dynamics DROP COLUMN reviewed_by;
UPDATE community.dynamics SET state = 'pending' WHERE state = 'rejected';
ALTER TABLE community.dynamics DROP CONSTRAINT dynamics_state_check;
ALTER TABLE community.dynamics ADD CONSTRAINT dynamics_state_check CHECK (state IN ('published', 'pending'));
