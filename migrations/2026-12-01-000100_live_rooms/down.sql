DROP TABLE live.sessions;
DROP TABLE live.rooms;
DROP TABLE live.channels;
DROP TABLE live.leases;
DROP TABLE live.outbox;
