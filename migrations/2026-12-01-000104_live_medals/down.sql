DROP TABLE live.medal_worn;
DROP TABLE live.medal_grants;
DROP TABLE live.medals;
DROP TABLE live.medal_groups;
