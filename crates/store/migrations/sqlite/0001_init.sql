-- Vedette schema, SQLite flavour. Timestamps are unix milliseconds, JSON is TEXT.

CREATE TABLE monitors (
    id          TEXT PRIMARY KEY NOT NULL,
    labels      TEXT NOT NULL,
    spec        TEXT NOT NULL,
    source      TEXT NOT NULL,
    version     INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

CREATE TABLE maintenance_windows (
    id          TEXT PRIMARY KEY NOT NULL,
    labels      TEXT NOT NULL,
    spec        TEXT NOT NULL,
    source      TEXT NOT NULL,
    version     INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

CREATE TABLE monitor_status (
    monitor_id            TEXT PRIMARY KEY NOT NULL,
    state                 TEXT NOT NULL,
    since                 INTEGER NOT NULL,
    consecutive_failures  INTEGER NOT NULL,
    consecutive_successes INTEGER NOT NULL,
    last_result_at        INTEGER,
    last_outcome          TEXT,
    last_message          TEXT,
    last_latency_ms       REAL,
    open_incident         TEXT
);

CREATE TABLE results (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    monitor_id  TEXT NOT NULL,
    started_at  INTEGER NOT NULL,
    outcome     TEXT NOT NULL,
    latency_ms  REAL NOT NULL,
    body        TEXT NOT NULL
);
CREATE INDEX results_monitor_time ON results (monitor_id, started_at, id);
CREATE INDEX results_time ON results (started_at);

CREATE TABLE rollups (
    monitor_id      TEXT NOT NULL,
    resolution_ms   INTEGER NOT NULL,
    bucket_start    INTEGER NOT NULL,
    checks          INTEGER NOT NULL,
    failures        INTEGER NOT NULL,
    degraded        INTEGER NOT NULL,
    latency_sum_ms  REAL NOT NULL,
    latency_min_ms  REAL,
    latency_max_ms  REAL,
    histogram       TEXT NOT NULL,
    PRIMARY KEY (monitor_id, resolution_ms, bucket_start)
);
CREATE INDEX rollups_retention ON rollups (resolution_ms, bucket_start);

CREATE TABLE incidents (
    id             TEXT PRIMARY KEY NOT NULL,
    monitor_id     TEXT NOT NULL,
    state          TEXT NOT NULL,
    opened_at      INTEGER NOT NULL,
    resolved_at    INTEGER,
    cause          TEXT,
    message        TEXT NOT NULL,
    first_failure  TEXT
);
CREATE INDEX incidents_monitor ON incidents (monitor_id, opened_at);
CREATE INDEX incidents_opened ON incidents (opened_at);

CREATE TABLE events (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    id           TEXT NOT NULL UNIQUE,
    event_type   TEXT NOT NULL,
    monitor_id   TEXT,
    occurred_at  INTEGER NOT NULL,
    body         TEXT NOT NULL
);
CREATE INDEX events_monitor ON events (monitor_id, occurred_at);

CREATE TABLE heartbeat_tokens (
    monitor_id    TEXT PRIMARY KEY NOT NULL,
    token         TEXT NOT NULL,
    token_sha256  TEXT NOT NULL UNIQUE
);

CREATE TABLE heartbeat_pings (
    monitor_id  TEXT PRIMARY KEY NOT NULL,
    at          INTEGER NOT NULL,
    up          INTEGER NOT NULL,
    message     TEXT
);
