ALTER TABLE community.posts DROP COLUMN pinned_at;
