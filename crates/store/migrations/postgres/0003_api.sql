-- API support: rollups count the checks made during maintenance, which uptime leaves out.

ALTER TABLE rollups ADD COLUMN maintenance BIGINT NOT NULL DEFAULT 0;
