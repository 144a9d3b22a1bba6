-- When the video's state and region were changed in `content` (the commit time its lifecycle
-- event carries): an older event never overwrites a newer one, whatever the delivery order, and
-- `removed` is final. '-infinity' for rows only stat events created: any lifecycle event wins.
ALTER TABLE ranking.videos ADD COLUMN state_at timestamptz NOT NULL DEFAULT '-infinity';
-- The videos that changed while a recompute ran (it takes them out of its build again).
CREATE INDEX videos_state_at_idx ON ranking.videos (state_at);
