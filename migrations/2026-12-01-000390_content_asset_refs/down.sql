DROP TABLE content.asset_refs;
