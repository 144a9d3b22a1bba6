DROP TABLE community.moderation_log;
DROP TABLE community.sanctions;
