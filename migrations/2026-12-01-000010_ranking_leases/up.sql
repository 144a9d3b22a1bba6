-- Leases of ranking's singleton work (the shape `platform::lease` expects): today the full
-- recompute of the hot rankings, under the name `hot-recompute`. `epoch` grows with every grant
-- and fences off a holder that lost its lease.
CREATE TABLE ranking.leases (
    name        text PRIMARY KEY,
    holder      text NOT NULL,
    epoch       bigint NOT NULL,
    lease_until timestamptz NOT NULL
);

-- A run's lease now lives in `ranking.leases`; `holder` stays, as the replica that last worked
-- on the run (for admins).
ALTER TABLE ranking.recompute_runs DROP COLUMN lease_until;
