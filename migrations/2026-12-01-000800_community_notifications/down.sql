DROP TABLE community.notification_actors;
DROP TABLE community.notifications;
