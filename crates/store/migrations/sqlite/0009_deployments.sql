-- Deployments: a versioned resource like monitors (pipelines record them through the API), and
-- the deployment an incident opened shortly after, as JSON (absent for most incidents).

CREATE TABLE deployments (
    id          TEXT PRIMARY KEY NOT NULL,
    labels      TEXT NOT NULL,
    spec        TEXT NOT NULL,
    source      TEXT NOT NULL,
    version     INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

ALTER TABLE incidents ADD COLUMN deployment TEXT;
