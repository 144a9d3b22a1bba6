ALTER TABLE ranking.recompute_runs ADD COLUMN lease_until timestamptz;
DROP TABLE ranking.leases;
