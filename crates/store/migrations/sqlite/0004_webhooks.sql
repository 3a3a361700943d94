-- Webhooks: endpoints, the fan-out cursor over the events outbox, the durable message queue
-- and the delivery log. SQLite flavour; timestamps are unix milliseconds, JSON is TEXT.

CREATE TABLE webhook_endpoints (
    id               TEXT PRIMARY KEY NOT NULL,
    labels           TEXT NOT NULL,
    spec             TEXT NOT NULL,
    version          INTEGER NOT NULL,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    failing_since    INTEGER,
    disabled_at      INTEGER,
    disabled_reason  TEXT
);

CREATE TABLE webhook_cursors (
    name  TEXT PRIMARY KEY NOT NULL,
    seq   INTEGER NOT NULL
);

CREATE TABLE webhook_messages (
    id               TEXT PRIMARY KEY NOT NULL,
    endpoint_id      TEXT NOT NULL,
    event_id         TEXT NOT NULL,
    event_type       TEXT NOT NULL,
    event            TEXT NOT NULL,
    status           TEXT NOT NULL,
    attempts         INTEGER NOT NULL,
    next_attempt_at  INTEGER,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    last_status      INTEGER,
    last_error       TEXT,
    UNIQUE (endpoint_id, event_id)
);
CREATE INDEX webhook_messages_due ON webhook_messages (status, next_attempt_at);
CREATE INDEX webhook_messages_endpoint ON webhook_messages (endpoint_id, status, next_attempt_at);
CREATE INDEX webhook_messages_created ON webhook_messages (endpoint_id, created_at);

CREATE TABLE webhook_attempts (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id       TEXT NOT NULL,
    endpoint_id      TEXT NOT NULL,
    attempt          INTEGER NOT NULL,
    started_at       INTEGER NOT NULL,
    duration_ms      INTEGER NOT NULL,
    outcome          TEXT NOT NULL,
    request          TEXT NOT NULL,
    response_status  INTEGER,
    response         TEXT,
    error            TEXT
);
CREATE INDEX webhook_attempts_message ON webhook_attempts (message_id, id);
CREATE INDEX webhook_attempts_endpoint ON webhook_attempts (endpoint_id, started_at);
