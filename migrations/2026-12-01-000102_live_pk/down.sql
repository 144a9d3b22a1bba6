ALTER TABLE live.gifts_sent DROP COLUMN pk_id;
DROP TABLE live.pk_timers;
DROP TABLE live.pk_transitions;
DROP TABLE live.pk_busy;
DROP TABLE live.pks;
DROP TABLE live.pk_whitelist;
