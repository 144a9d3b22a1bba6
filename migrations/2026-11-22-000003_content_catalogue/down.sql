DROP TABLE content.outbox, content.follows, content.uploads, content.danmaku, content.comment_likes,
    content.comments, content.video_views, content.video_shares, content.video_favourites,
    content.video_coins, content.video_likes, content.video_stats;
DROP INDEX content.videos_upload_key, content.videos_published_idx, content.videos_search_trgm_idx,
    content.videos_search_doc_idx, content.videos_author_idx;
CREATE INDEX videos_author_idx ON content.videos (author_id, published_at DESC);
DROP TRIGGER videos_search_columns ON content.videos;
DROP FUNCTION content.videos_search_columns();
ALTER TABLE content.videos DROP COLUMN search_doc, DROP COLUMN search_text, DROP COLUMN removed_at,
    DROP COLUMN updated_at, DROP COLUMN upload_id, DROP COLUMN asset_ref, DROP COLUMN source_url, DROP COLUMN tags;
