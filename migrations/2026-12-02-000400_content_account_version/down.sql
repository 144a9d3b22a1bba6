ALTER TABLE content.users DROP COLUMN version;
