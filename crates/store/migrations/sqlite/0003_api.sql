-- API support: rollups count the checks made during maintenance, which uptime leaves out.

ALTER TABLE rollups ADD COLUMN maintenance INTEGER NOT NULL DEFAULT 0;
