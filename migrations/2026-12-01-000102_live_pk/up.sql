-- live: PK link-mic. The whitelist, one row per link with its state machine, every transition
-- it made, the streamers currently in a link, and the durable timers of its deadlines.

CREATE TABLE live.pk_whitelist (
    user_id  uuid PRIMARY KEY,
    added_by uuid NOT NULL,
    added_at timestamptz NOT NULL
);

-- `version` grows with every state transition (timers expect one), `revision` with every change
-- (transitions and scores: subscribers drop an update older than one they have shown).
CREATE TABLE live.pks (
    id                 uuid PRIMARY KEY,
    mode               text NOT NULL CHECK (mode IN ('pk', 'link')),
    inviter_id         uuid NOT NULL,
    invitee_id         uuid NOT NULL,
    inviter_room_id    uuid NOT NULL REFERENCES live.rooms (id),
    invitee_room_id    uuid NOT NULL REFERENCES live.rooms (id),
    state              text NOT NULL CHECK (state IN ('invited', 'scoring', 'punishment', 'linked', 'ended', 'rejected', 'expired', 'closed')),
    version            bigint NOT NULL DEFAULT 0,
    revision           bigint NOT NULL DEFAULT 0,
    inviter_score      bigint NOT NULL DEFAULT 0 CHECK (inviter_score >= 0),
    invitee_score      bigint NOT NULL DEFAULT 0 CHECK (invitee_score >= 0),
    score_secs         integer NOT NULL CHECK (score_secs > 0),
    punishment_secs    integer NOT NULL CHECK (punishment_secs > 0),
    invited_at         timestamptz NOT NULL,
    invite_expires_at  timestamptz NOT NULL,
    started_at         timestamptz,
    score_ends_at      timestamptz,
    punishment_ends_at timestamptz,
    ended_at           timestamptz,
    winner_id          uuid,
    CHECK (inviter_id <> invitee_id)
);
CREATE INDEX pks_by_inviter_room ON live.pks (inviter_room_id, invited_at DESC);
CREATE INDEX pks_by_invitee_room ON live.pks (invitee_room_id, invited_at DESC);

-- A streamer is in at most one link that has not finished: both rows are inserted with the
-- invite and deleted by the transition to a final state.
CREATE TABLE live.pk_busy (
    user_id uuid PRIMARY KEY,
    pk_id   uuid NOT NULL REFERENCES live.pks (id)
);
CREATE INDEX pk_busy_by_pk ON live.pk_busy (pk_id);

-- Every transition: who (a user) or what (a timer, and the replica that fired it) caused it,
-- when. A state is entered at most once per link: the key proves a transition fired once.
CREATE TABLE live.pk_transitions (
    id         bigserial PRIMARY KEY,
    pk_id      uuid NOT NULL REFERENCES live.pks (id),
    from_state text,
    to_state   text NOT NULL,
    cause      text NOT NULL,
    actor_id   uuid,
    fired_by   text,
    at         timestamptz NOT NULL,
    UNIQUE (pk_id, to_state)
);

-- Durable deadlines. Claimed with FOR UPDATE SKIP LOCKED by the poller of any replica; the
-- effect is a conditional update of the link on (expected_state, expected_version).
CREATE TABLE live.pk_timers (
    pk_id            uuid NOT NULL REFERENCES live.pks (id),
    kind             text NOT NULL CHECK (kind IN ('invite_expiry', 'score_end', 'punishment_end')),
    due_at           timestamptz NOT NULL,
    expected_state   text NOT NULL,
    expected_version bigint NOT NULL,
    PRIMARY KEY (pk_id, kind)
);
CREATE INDEX pk_timers_due ON live.pk_timers (due_at);

-- The link a gift scored in (NULL: it scored in none).
ALTER TABLE live.gifts_sent ADD COLUMN pk_id uuid REFERENCES live.pks (id);
