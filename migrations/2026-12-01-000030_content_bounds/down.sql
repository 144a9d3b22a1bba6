DROP INDEX content.refresh_tokens_revoked_idx, content.refresh_tokens_expires_idx, content.video_views_anonymous_age_idx,
    content.uploads_owner_created_idx;
ALTER TABLE content.uploads DROP COLUMN receiving_until, DROP COLUMN receiver;
