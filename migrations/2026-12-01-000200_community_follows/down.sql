DROP TABLE community.user_stats;
DROP TABLE community.user_follows;
DROP TABLE community.outbox;
