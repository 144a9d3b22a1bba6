-- What each signed-in viewer engages with, learned from the viewer ids content's stat events
-- carry: affinity points per author and per region, and the videos they watched (which
-- recommendations never repeat).
CREATE TABLE ranking.viewer_authors (
    viewer_id  uuid NOT NULL,
    author_id  uuid NOT NULL,
    points     bigint NOT NULL CHECK (points >= 0),
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (viewer_id, author_id)
);
CREATE TABLE ranking.viewer_regions (
    viewer_id  uuid NOT NULL,
    region_id  integer NOT NULL,
    points     bigint NOT NULL CHECK (points >= 0),
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (viewer_id, region_id)
);
CREATE TABLE ranking.viewer_watched (
    viewer_id  uuid NOT NULL,
    video_id   uuid NOT NULL,
    watched_at timestamptz NOT NULL,
    PRIMARY KEY (viewer_id, video_id)
);
-- Candidate lookups: an author's or a region's published videos, best first.
CREATE INDEX videos_author_published_idx ON ranking.videos (author_id) WHERE state = 'published';
CREATE INDEX videos_region_published_idx ON ranking.videos (region_id) WHERE state = 'published';
CREATE INDEX videos_fresh_idx ON ranking.videos (published_at DESC) WHERE state = 'published';
