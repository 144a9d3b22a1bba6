DROP TABLE community.push_settings;
DELETE FROM community.likes WHERE target_kind = 'dynamic';
ALTER TABLE community.likes DROP CONSTRAINT likes_target_kind_check;
ALTER TABLE community.likes ADD CONSTRAINT likes_target_kind_check CHECK (target_kind IN ('post', 'comment'));
DROP TABLE community.dynamic_comments;
DROP TABLE community.dynamics;
