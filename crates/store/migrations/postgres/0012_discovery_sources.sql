-- Discovery sources (gateways whose routes become monitors): the spec as a versioned
-- resource, and what the reconciler keeps beside it (its last run, errors, and since when each
-- owned monitor's route has been missing), kept apart so the spec's version never moves
-- when a run ends. PostgreSQL flavour.

CREATE TABLE discovery_sources (
    id          TEXT PRIMARY KEY NOT NULL,
    labels      TEXT NOT NULL,
    spec        TEXT NOT NULL,
    source      TEXT NOT NULL,
    version     BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE discovery_statuses (
    id          TEXT PRIMARY KEY NOT NULL,
    status      TEXT NOT NULL,
    updated_at  BIGINT NOT NULL
);
