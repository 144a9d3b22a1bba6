DROP TABLE community.zone_admins;
