-- Two-character CJK queries as index lookups (issue 11). pg_trgm extracts no trigram from a
-- pattern of two characters, so `search_text LIKE '%原神%'` could only scan every row. As
-- Lucene's CJK analyzer does, every run of CJK characters also goes into `search_doc` as its
-- overlapping bigrams (手把手教你做红烧肉 → 手把 把手 手教 教你 你做 做红 红烧 烧肉), with the weight
-- of the field it came from; a text contains a two-character CJK string exactly when its
-- bigrams include it, so that query is a lookup in the existing GIN index.

-- The overlapping bigrams of every run of two or more Han, kana or Hangul characters in
-- `input`, separated by spaces (so the 'simple' parser makes one lexeme of each).
CREATE FUNCTION content.cjk_bigrams(input text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(string_agg(substr(m.run[1], i, 2), ' '), '')
    FROM regexp_matches(input, '[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]{2,}', 'g') AS m(run)
    CROSS JOIN LATERAL generate_series(1, char_length(m.run[1]) - 1) AS i
$$;

-- The weighted words of one field, and its bigrams.
CREATE FUNCTION content.search_field(input text, weight "char") RETURNS tsvector LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT setweight(to_tsvector('simple', input) || to_tsvector('simple', content.cjk_bigrams(input)), weight)
$$;

CREATE OR REPLACE FUNCTION content.videos_search_columns() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.search_text := lower(NEW.title || ' ' || array_to_string(NEW.tags, ' ') || ' ' || NEW.description);
    NEW.search_doc :=
        content.search_field(NEW.title, 'A') ||
        content.search_field(array_to_string(NEW.tags, ' '), 'B') ||
        content.search_field(NEW.description, 'C');
    RETURN NEW;
END $$;

-- Rewrite every row's `search_doc` without the index (rebuilding it once is far cheaper than
-- a million index insertions). The trigger fires only on title, tags and description.
DROP INDEX content.videos_search_doc_idx;
UPDATE content.videos SET search_doc =
    content.search_field(title, 'A') || content.search_field(array_to_string(tags, ' '), 'B') ||
    content.search_field(description, 'C');
CREATE INDEX videos_search_doc_idx ON content.videos USING gin (search_doc) WHERE state = 'published';
