-- `content`'s projection of `assets`' archive events: which asset references exist, whose they
-- are and whether they may still be published. `createVideo(assetRef:)` checks it instead of
-- calling `assets`. The latest event per reference wins (`changed_at`).
CREATE TABLE content.asset_refs (
    asset_ref  text PRIMARY KEY,
    owner_id   uuid NOT NULL,
    task_id    uuid NOT NULL,
    archived   boolean NOT NULL,
    changed_at timestamptz NOT NULL
);
