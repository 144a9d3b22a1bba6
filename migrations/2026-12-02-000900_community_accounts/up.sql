-- community: its directory of accounts, projected from content's account events (and the
-- backfill of `vidgraph seed`), so that follows, messages and blocks can refuse an unknown user
-- id and the admin list can name the site's admins without reading content's schema. A row
-- keeps the highest `version` it was told of.
CREATE TABLE community.accounts (
    user_id uuid PRIMARY KEY,
    username text NOT NULL,
    role text NOT NULL,
    version bigint NOT NULL,
    changed_at timestamptz NOT NULL
);
CREATE INDEX accounts_admins_idx ON community.accounts (username) WHERE role = 'admin';
