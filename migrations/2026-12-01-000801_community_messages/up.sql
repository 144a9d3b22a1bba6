-- community: direct messages between two users, and blocks.

-- Who blocked whom: a blocked user cannot message the blocker.
CREATE TABLE community.blocks (
    blocker_id uuid NOT NULL,
    blocked_id uuid NOT NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (blocker_id, blocked_id),
    CONSTRAINT blocks_not_self CHECK (blocker_id <> blocked_id)
);
CREATE INDEX blocks_list_idx ON community.blocks (blocker_id, created_at DESC, blocked_id DESC);

-- One conversation per pair of users (`user_low` < `user_high`).
CREATE TABLE community.conversations (
    id         uuid PRIMARY KEY,
    user_low   uuid NOT NULL,
    user_high  uuid NOT NULL,
    created_at timestamptz NOT NULL,
    UNIQUE (user_low, user_high),
    CONSTRAINT conversations_ordered CHECK (user_low < user_high)
);

CREATE TABLE community.messages (
    id              uuid PRIMARY KEY,
    conversation_id uuid NOT NULL REFERENCES community.conversations,
    sender_id       uuid NOT NULL,
    recipient_id    uuid NOT NULL,
    body            text NOT NULL,
    -- the sender's retry key: a retried send returns the first message instead of a second one
    idempotency_key text NOT NULL,
    created_at      timestamptz NOT NULL,
    UNIQUE (sender_id, idempotency_key)
);
CREATE INDEX messages_history_idx ON community.messages (conversation_id, created_at DESC, id DESC);

-- Each member's view of a conversation: its last message (the list's order) and how many
-- messages arrived since the member last read it, changed in the transaction of the send.
CREATE TABLE community.conversation_members (
    conversation_id uuid NOT NULL REFERENCES community.conversations,
    user_id         uuid NOT NULL,
    other_user_id   uuid NOT NULL,
    last_message_id uuid NOT NULL,
    last_message_at timestamptz NOT NULL,
    unread_count    bigint NOT NULL DEFAULT 0,
    last_read_at    timestamptz,
    PRIMARY KEY (conversation_id, user_id)
);
CREATE INDEX conversation_members_list_idx ON community.conversation_members (user_id, last_message_at DESC, conversation_id DESC);
