-- Hot rankings: what `ranking` knows of each video (from content's stat and lifecycle
-- events), hourly growth buckets for the day/week/month ranges, the weights of the hot value
-- with their history, processed event ids, and the runs of the full recompute job.

-- One row per video: its latest committed counters and where it is filed.
CREATE TABLE ranking.videos (
    video_id     uuid PRIMARY KEY,
    author_id    uuid NOT NULL,
    region_id    integer NOT NULL,
    published_at timestamptz,
    state        text NOT NULL CHECK (state IN ('draft', 'published', 'removed')),
    views        bigint NOT NULL DEFAULT 0,
    likes        bigint NOT NULL DEFAULT 0,
    coins        bigint NOT NULL DEFAULT 0,
    favourites   bigint NOT NULL DEFAULT 0,
    shares       bigint NOT NULL DEFAULT 0,
    comments     bigint NOT NULL DEFAULT 0,
    danmaku      bigint NOT NULL DEFAULT 0,
    -- When the counters above were committed in `content`: an older event never overwrites them.
    totals_at    timestamptz NOT NULL
);

-- Growth of a video's counters per hour: a range (day, week, month) sums the buckets inside it.
CREATE TABLE ranking.stat_buckets (
    video_id   uuid NOT NULL,
    bucket     timestamptz NOT NULL,
    views      bigint NOT NULL DEFAULT 0,
    likes      bigint NOT NULL DEFAULT 0,
    coins      bigint NOT NULL DEFAULT 0,
    favourites bigint NOT NULL DEFAULT 0,
    shares     bigint NOT NULL DEFAULT 0,
    comments   bigint NOT NULL DEFAULT 0,
    danmaku    bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (video_id, bucket)
);
CREATE INDEX stat_buckets_bucket_idx ON ranking.stat_buckets (bucket);

-- Event ids already applied (delivery is at least once). Kept a little longer than the
-- stream keeps messages, then pruned.
CREATE TABLE ranking.processed_events (
    event_id     uuid PRIMARY KEY,
    processed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX processed_events_age_idx ON ranking.processed_events (processed_at);

-- Every version of the hot-value weights; the newest row is in force. Integers only: a hot
-- value is an integer score.
CREATE TABLE ranking.hot_weights (
    id                 bigserial PRIMARY KEY,
    views              integer NOT NULL CHECK (views >= 0),
    likes              integer NOT NULL CHECK (likes >= 0),
    coins              integer NOT NULL CHECK (coins >= 0),
    favourites         integer NOT NULL CHECK (favourites >= 0),
    shares             integer NOT NULL CHECK (shares >= 0),
    comments           integer NOT NULL CHECK (comments >= 0),
    danmaku            integer NOT NULL CHECK (danmaku >= 0),
    new_boost_percent  integer NOT NULL CHECK (new_boost_percent >= 100),
    new_boost_hours    integer NOT NULL CHECK (new_boost_hours >= 0),
    changed_by         uuid,
    changed_at         timestamptz NOT NULL DEFAULT now()
);
INSERT INTO ranking.hot_weights (views, likes, coins, favourites, shares, comments, danmaku, new_boost_percent, new_boost_hours)
VALUES (1, 10, 20, 15, 25, 5, 2, 150, 24);

-- Runs of the full recompute job. A run checkpoints the last video it ranked, so a run that
-- died resumes there; `lease_until` is how long its holder may work without renewing.
CREATE TABLE ranking.recompute_runs (
    id               uuid PRIMARY KEY,
    reason           text NOT NULL,
    requested_by     uuid,
    status           text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
    as_of            timestamptz NOT NULL,
    weights_id       bigint NOT NULL REFERENCES ranking.hot_weights (id),
    checkpoint       uuid,
    videos_processed bigint NOT NULL DEFAULT 0,
    holder           text,
    lease_until      timestamptz,
    started_at       timestamptz NOT NULL DEFAULT now(),
    finished_at      timestamptz,
    error            text
);
-- At most one run at a time: the lease that makes one replica the runner.
CREATE UNIQUE INDEX recompute_runs_one_running ON ranking.recompute_runs ((true)) WHERE status = 'running';
CREATE INDEX recompute_runs_started_idx ON ranking.recompute_runs (started_at DESC);
