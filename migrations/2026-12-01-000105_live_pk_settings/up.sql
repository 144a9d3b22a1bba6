-- live: the PK phase lengths admins set (one row; absent: the configured defaults). Every
-- replica caches them and reloads on the change event `setPkPhases` publishes.
CREATE TABLE live.pk_settings (
    id              boolean PRIMARY KEY DEFAULT true CHECK (id),
    invite_secs     integer NOT NULL CHECK (invite_secs > 0),
    score_secs      integer NOT NULL CHECK (score_secs > 0),
    punishment_secs integer NOT NULL CHECK (punishment_secs > 0),
    updated_by      uuid NOT NULL,
    updated_at      timestamptz NOT NULL
);
