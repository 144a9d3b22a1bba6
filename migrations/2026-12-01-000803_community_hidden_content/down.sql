DROP INDEX community.sanctions_hiding_idx;
ALTER TABLE community.sanctions DROP COLUMN hides_content;
