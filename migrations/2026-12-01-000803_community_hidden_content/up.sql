-- community: a ban may hide the banned user's posts and comments from everyone but admins
-- (a view: the content, its counters and its points stay, and an unban shows it again).
ALTER TABLE community.sanctions ADD COLUMN hides_content boolean NOT NULL DEFAULT false;
CREATE INDEX sanctions_hiding_idx ON community.sanctions (user_id) WHERE banned AND hides_content;
