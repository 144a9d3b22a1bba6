-- live: wallets (spendable balance and streamer income, integer minor units), the append-only
-- ledger they are the sum of, recharge orders, the gift catalogue and every gift sent.

CREATE TABLE live.wallets (
    user_id    uuid PRIMARY KEY,
    balance    bigint NOT NULL DEFAULT 0 CHECK (balance >= 0),
    income     bigint NOT NULL DEFAULT 0 CHECK (income >= 0),
    updated_at timestamptz NOT NULL
);

-- One row per credit or debit of one account of a wallet. Never updated or deleted:
-- `wallets.balance` = sum of the `balance` rows, `wallets.income` = sum of the `income` rows.
-- The unique key makes a second credit of the same order or gift impossible.
CREATE TABLE live.ledger (
    id           bigserial PRIMARY KEY,
    user_id      uuid NOT NULL,
    account      text NOT NULL CHECK (account IN ('balance', 'income')),
    amount       bigint NOT NULL CHECK (amount <> 0),
    kind         text NOT NULL CHECK (kind IN ('recharge', 'gift_sent', 'gift_received')),
    reference_id uuid NOT NULL,
    created_at   timestamptz NOT NULL,
    UNIQUE (reference_id, user_id, account, kind)
);
CREATE INDEX ledger_by_user ON live.ledger (user_id, id DESC);

CREATE TABLE live.recharge_orders (
    id           uuid PRIMARY KEY,
    user_id      uuid NOT NULL,
    amount       bigint NOT NULL CHECK (amount > 0),
    channel      text NOT NULL CHECK (channel IN ('alipay', 'wechat', 'card')),
    status       text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'paid')),
    provider_ref text,
    created_at   timestamptz NOT NULL,
    paid_at      timestamptz,
    CHECK ((status = 'paid') = (paid_at IS NOT NULL))
);
CREATE INDEX recharge_orders_by_user ON live.recharge_orders (user_id, created_at DESC);

-- The gift catalogue. The id is the slug week-star gift sets name (`rocket`, `flower`…).
CREATE TABLE live.gifts (
    id         text PRIMARY KEY CHECK (id ~ '^[a-z0-9-]{1,32}$'),
    name       text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 40),
    price      bigint NOT NULL CHECK (price > 0),
    icon_url   text CHECK (char_length(icon_url) <= 500),
    active     boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);

-- Every gift sent: its id is the gift event's id; (sender, idempotency key) answers a retry
-- with the first result.
CREATE TABLE live.gifts_sent (
    id              uuid PRIMARY KEY,
    sender_id       uuid NOT NULL,
    idempotency_key text NOT NULL CHECK (char_length(idempotency_key) BETWEEN 1 AND 64),
    room_id         uuid NOT NULL REFERENCES live.rooms (id),
    session_id      uuid NOT NULL REFERENCES live.sessions (id),
    streamer_id     uuid NOT NULL,
    channel_id      uuid NOT NULL,
    gift_id         text NOT NULL REFERENCES live.gifts (id),
    count           integer NOT NULL CHECK (count > 0),
    unit_price      bigint NOT NULL CHECK (unit_price > 0),
    total_value     bigint NOT NULL CHECK (total_value > 0),
    sent_at         timestamptz NOT NULL,
    UNIQUE (sender_id, idempotency_key)
);
CREATE INDEX gifts_sent_by_room ON live.gifts_sent (room_id, sent_at DESC);
