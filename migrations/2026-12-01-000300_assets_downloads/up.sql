-- The download centre: one row per download task (its history entry), the outbox of its
-- events (work-queue messages, archive events) and the level of each user for quotas.

-- One download task. `status` moves queued → running → completed | failed | cancelled; a
-- running task is held by `worker` until `lease_until`, renewed while it works, so a task whose
-- worker died is taken over (and never stays "running"). `attempts` counts the attempts made.
CREATE TABLE assets.downloads (
    id              uuid PRIMARY KEY,
    user_id         uuid NOT NULL,
    idempotency_key text,
    url             text NOT NULL CHECK (length(url) <= 2048),
    platform        text NOT NULL,
    extractor       text NOT NULL,
    format_id       text NOT NULL,
    mode            text NOT NULL CHECK (mode IN ('quick', 'archive')),
    status          text NOT NULL CHECK (status IN ('queued', 'running', 'completed', 'failed', 'cancelled')),
    title           text NOT NULL,
    attempts        integer NOT NULL DEFAULT 0,
    error_code      text,
    error_message   text,
    worker          text,
    lease_until     timestamptz,
    bytes_done      bigint NOT NULL DEFAULT 0,
    bytes_total     bigint,
    file_path       text,
    file_name       text,
    content_type    text,
    size_bytes      bigint,
    sha256          text,
    quota_day       date NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    started_at      timestamptz,
    completed_at    timestamptz,
    expires_at      timestamptz,
    deleted_at      timestamptz,
    UNIQUE (user_id, idempotency_key)
);
CREATE INDEX downloads_user_idx ON assets.downloads (user_id, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX downloads_quota_idx ON assets.downloads (user_id, quota_day);
CREATE INDEX downloads_active_idx ON assets.downloads (status, lease_until) WHERE status IN ('queued', 'running');
CREATE INDEX downloads_expiry_idx ON assets.downloads (expires_at) WHERE mode = 'quick' AND deleted_at IS NULL;

-- A user's level for the daily quota (absent: level 0). Admins are unlimited whatever it says.
CREATE TABLE assets.user_levels (
    user_id    uuid PRIMARY KEY,
    level      integer NOT NULL CHECK (level >= 0),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Events that must reach JetStream (the shape `platform::outbox` expects).
CREATE TABLE assets.outbox (
    seq        bigserial PRIMARY KEY,
    event_id   uuid NOT NULL UNIQUE,
    subject    text NOT NULL,
    payload    jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
