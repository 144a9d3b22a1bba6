CREATE OR REPLACE FUNCTION content.videos_search_columns() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.search_text := lower(NEW.title || ' ' || array_to_string(NEW.tags, ' ') || ' ' || NEW.description);
    NEW.search_doc :=
        setweight(to_tsvector('simple', NEW.title), 'A') ||
        setweight(to_tsvector('simple', array_to_string(NEW.tags, ' ')), 'B') ||
        setweight(to_tsvector('simple', NEW.description), 'C');
    RETURN NEW;
END $$;
DROP INDEX content.videos_search_doc_idx;
UPDATE content.videos SET search_doc =
    setweight(to_tsvector('simple', title), 'A') || setweight(to_tsvector('simple', array_to_string(tags, ' ')), 'B') ||
    setweight(to_tsvector('simple', description), 'C');
CREATE INDEX videos_search_doc_idx ON content.videos USING gin (search_doc) WHERE state = 'published';
DROP FUNCTION content.search_field(text, "char");
DROP FUNCTION content.cjk_bigrams(text);
