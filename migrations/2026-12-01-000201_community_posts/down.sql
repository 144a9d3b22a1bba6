DROP TABLE community.zone_points;
DROP TABLE community.likes;
DROP TABLE community.comments;
DROP TABLE community.posts;
DROP TABLE community.zone_follows;
DROP TABLE community.zones;
