DROP TABLE live.pk_settings;
