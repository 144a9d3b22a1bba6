ALTER TABLE ranking.videos DROP COLUMN state_at;
