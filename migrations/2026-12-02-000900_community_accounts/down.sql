DROP TABLE community.accounts;
