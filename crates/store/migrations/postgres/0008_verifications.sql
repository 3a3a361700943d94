-- Verifications (deployment gates): the spec as a versioned resource, and the status the
-- server computes beside it (state, progress per monitor as JSON), kept apart so the spec's
-- version never moves while a verification runs. PostgreSQL flavour.

CREATE TABLE verifications (
    id          TEXT PRIMARY KEY NOT NULL,
    labels      TEXT NOT NULL,
    spec        TEXT NOT NULL,
    source      TEXT NOT NULL,
    version     BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE verification_statuses (
    id          TEXT PRIMARY KEY NOT NULL,
    state       TEXT NOT NULL,
    status      TEXT NOT NULL,
    updated_at  BIGINT NOT NULL
);
