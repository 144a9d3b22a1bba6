DROP TABLE IF EXISTS content.videos;
DROP TABLE IF EXISTS content.regions;
DROP TABLE IF EXISTS content.refresh_tokens;
DROP TABLE IF EXISTS content.users;
