-- content: a version per account, +1 on every change of what other subgraphs project from it
-- (its role), assigned under the row's lock. The account events carry it, so a consumer keeps
-- the highest version per account whatever the delivery order.
ALTER TABLE content.users ADD COLUMN version bigint NOT NULL DEFAULT 1;
