-- community: "today's hot", up to four pinned posts per zone that lead its list.
ALTER TABLE community.posts ADD COLUMN pinned_at timestamptz;
CREATE INDEX posts_pinned_idx ON community.posts (zone_id, pinned_at DESC) WHERE pinned_at IS NOT NULL AND deleted_at IS NULL;
