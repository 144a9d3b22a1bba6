DROP INDEX ranking.videos_state_at_idx;
ALTER TABLE ranking.videos DROP COLUMN state_at;
