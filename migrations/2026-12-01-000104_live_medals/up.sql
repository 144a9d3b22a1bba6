-- live: medal groups and medals (admin-managed), grants with expiry and revocation (who, why,
-- when), and the medal a user wears in each group.

CREATE TABLE live.medal_groups (
    id         uuid PRIMARY KEY,
    name       text NOT NULL UNIQUE CHECK (char_length(name) BETWEEN 1 AND 40),
    kind       text NOT NULL CHECK (kind IN ('site', 'limited')),
    created_at timestamptz NOT NULL
);

-- `validity_days` NULL: permanent once granted.
CREATE TABLE live.medals (
    id                 uuid PRIMARY KEY,
    group_id           uuid NOT NULL REFERENCES live.medal_groups (id),
    name               text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 40),
    description        text NOT NULL CHECK (char_length(description) <= 500),
    web_image_locked   text CHECK (char_length(web_image_locked) <= 500),
    web_image_unlocked text CHECK (char_length(web_image_unlocked) <= 500),
    app_image_locked   text CHECK (char_length(app_image_locked) <= 500),
    app_image_unlocked text CHECK (char_length(app_image_unlocked) <= 500),
    unlock_condition   text NOT NULL CHECK (char_length(unlock_condition) <= 200),
    validity_days      integer CHECK (validity_days > 0),
    weight             integer NOT NULL DEFAULT 0,
    visible            boolean NOT NULL DEFAULT true,
    created_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL
);
CREATE INDEX medals_by_group ON live.medals (group_id);

-- Every grant, kept after revocation. At most one unrevoked grant per (medal, user); granting
-- again renews it.
CREATE TABLE live.medal_grants (
    id            bigserial PRIMARY KEY,
    medal_id      uuid NOT NULL REFERENCES live.medals (id),
    user_id       uuid NOT NULL,
    granted_by    uuid NOT NULL,
    reason        text NOT NULL CHECK (char_length(reason) <= 200),
    granted_at    timestamptz NOT NULL,
    expires_at    timestamptz,
    revoked_by    uuid,
    revoke_reason text CHECK (char_length(revoke_reason) <= 200),
    revoked_at    timestamptz,
    CHECK ((revoked_at IS NULL) = (revoked_by IS NULL))
);
CREATE UNIQUE INDEX medal_grants_one_open ON live.medal_grants (medal_id, user_id) WHERE revoked_at IS NULL;
CREATE INDEX medal_grants_by_user ON live.medal_grants (user_id);

-- What a user wears: at most one medal per group (the key), swapped in one statement.
CREATE TABLE live.medal_worn (
    user_id  uuid NOT NULL,
    group_id uuid NOT NULL REFERENCES live.medal_groups (id),
    medal_id uuid NOT NULL REFERENCES live.medals (id),
    worn_at  timestamptz NOT NULL,
    PRIMARY KEY (user_id, group_id)
);
