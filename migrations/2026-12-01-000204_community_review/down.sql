DROP TABLE community.moderation_words;
DROP TABLE community.settings;
ALTER TABLE community.zones DROP COLUMN post_review, DROP COLUMN comment_review;
ALTER TABLE community.comments DROP COLUMN state, DROP COLUMN reviewed_by, DROP COLUMN reviewed_at, DROP COLUMN review_reason;
ALTER TABLE community.posts DROP COLUMN state, DROP COLUMN reviewed_by, DROP COLUMN reviewed_at, DROP COLUMN review_reason;
