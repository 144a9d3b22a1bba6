-- The title hits of a query on their own (issue 11): relevance ranks them above every other
-- match, and when they do not fill a page from the newest videos, this finds all of them
-- without reading every match of the query.
CREATE INDEX videos_search_title_doc_idx ON content.videos USING gin (content.search_field(title, 'A')) WHERE state = 'published';
CREATE INDEX videos_search_title_trgm_idx ON content.videos USING gin (lower(title) gin_trgm_ops) WHERE state = 'published';
