-- live: mutes of a user in a room (by the room's streamer or an admin). A mute ends at `until`;
-- a new mute of the same user in the same room replaces the old one.
CREATE TABLE live.room_mutes (
    room_id    uuid NOT NULL REFERENCES live.rooms (id),
    user_id    uuid NOT NULL,
    muted_by   uuid NOT NULL,
    reason     text NOT NULL CHECK (char_length(reason) <= 200),
    until      timestamptz NOT NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (room_id, user_id)
);
