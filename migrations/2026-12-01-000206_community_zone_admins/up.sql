-- community: zone admins, who moderate their zone (delete with a reason, approve and reject,
-- pin) beside the site's admins.
CREATE TABLE community.zone_admins (
    zone_id  uuid NOT NULL REFERENCES community.zones,
    user_id  uuid NOT NULL,
    added_by uuid NOT NULL,
    added_at timestamptz NOT NULL,
    PRIMARY KEY (zone_id, user_id)
);
