-- community: reports of posts and comments. Several reports of one item are one open queue
-- entry with a count (a report after the entry was resolved opens a new one); the entry copies
-- the reported text, so a later edit cannot hide it; resolving records who, when and how.
CREATE TABLE community.reports (
    id                uuid PRIMARY KEY,
    target_kind       text NOT NULL CHECK (target_kind IN ('post', 'comment')),
    target_id         uuid NOT NULL,
    target_author     uuid NOT NULL,
    excerpt           text NOT NULL,
    status            text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved')),
    report_count      integer NOT NULL DEFAULT 0,
    first_reported_at timestamptz NOT NULL,
    last_reported_at  timestamptz NOT NULL,
    resolved_by       uuid,
    resolved_at       timestamptz,
    resolution        text CHECK (resolution IN ('dismiss', 'remove', 'remove_and_mute', 'remove_and_ban')),
    resolution_note   text
);
CREATE UNIQUE INDEX reports_open_item_key ON community.reports (target_kind, target_id) WHERE status = 'open';
CREATE INDEX reports_queue_idx ON community.reports (status, last_reported_at DESC, id DESC);

-- Who reported an entry and why (one reason per reporter and entry).
CREATE TABLE community.report_reasons (
    report_id   uuid NOT NULL REFERENCES community.reports,
    reporter_id uuid NOT NULL,
    reason      text NOT NULL,
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (report_id, reporter_id)
);
