DROP TABLE live.room_mutes;
