DROP TABLE ranking.weekstar_late_gifts;
