DROP TABLE assets.outbox;
DROP TABLE assets.user_levels;
DROP TABLE assets.downloads;
