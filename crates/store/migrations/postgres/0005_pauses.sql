-- Runtime pauses: an operational state beside the spec (`vedette pause`), kept apart from the
-- monitor's spec and version so applying files never clears it. PostgreSQL flavour.

CREATE TABLE monitor_pauses (
    monitor_id  TEXT PRIMARY KEY NOT NULL,
    paused_at   BIGINT NOT NULL,
    paused_by   TEXT NOT NULL,
    reason      TEXT
);
