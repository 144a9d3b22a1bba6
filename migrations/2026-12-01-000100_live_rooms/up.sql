-- live: the event outbox and leases (the shapes `platform::outbox` and `platform::lease` expect),
-- channels, rooms and their live sessions.

CREATE TABLE live.outbox (
    seq        bigserial PRIMARY KEY,
    event_id   uuid NOT NULL UNIQUE,
    subject    text NOT NULL,
    payload    jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE live.leases (
    name        text PRIMARY KEY,
    holder      text NOT NULL,
    epoch       bigint NOT NULL,
    lease_until timestamptz NOT NULL
);

-- The categories rooms belong to (games, music, chat…). Week-star boards rank streamers across
-- all rooms of a channel, so a channel's id is the `channel_id` of gift events.
CREATE TABLE live.channels (
    id         uuid PRIMARY KEY,
    slug       text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9-]{1,32}$'),
    name       text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 40),
    position   integer NOT NULL DEFAULT 0,
    active     boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);

-- One room per user. `live_session_id` is the open session while the room is live.
CREATE TABLE live.rooms (
    id              uuid PRIMARY KEY,
    owner_id        uuid NOT NULL UNIQUE,
    channel_id      uuid NOT NULL REFERENCES live.channels (id),
    title           text NOT NULL CHECK (char_length(title) BETWEEN 1 AND 60),
    cover_url       text CHECK (char_length(cover_url) <= 500),
    live_session_id uuid,
    live_since      timestamptz,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    CHECK ((live_session_id IS NULL) = (live_since IS NULL))
);
CREATE INDEX rooms_live_by_channel ON live.rooms (channel_id, live_since, id) WHERE live_session_id IS NOT NULL;

-- Every live session of a room: start, end (NULL while open) and the most viewers seen at once.
CREATE TABLE live.sessions (
    id           uuid PRIMARY KEY,
    room_id      uuid NOT NULL REFERENCES live.rooms (id),
    started_at   timestamptz NOT NULL,
    ended_at     timestamptz,
    peak_viewers integer NOT NULL DEFAULT 0 CHECK (peak_viewers >= 0),
    CHECK (ended_at IS NULL OR ended_at >= started_at)
);
-- At most one open session per room, whatever the application does.
CREATE UNIQUE INDEX sessions_one_open_per_room ON live.sessions (room_id) WHERE ended_at IS NULL;
CREATE INDEX sessions_by_room ON live.sessions (room_id, started_at DESC, id DESC);
