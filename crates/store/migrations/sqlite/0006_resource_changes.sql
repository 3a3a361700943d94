-- The change feed of versioned resources: one row per committed write or delete of a monitor,
-- maintenance window or later kind, written in the same transaction, numbered in commit order.
-- Readers (every server's engine) page through it by `seq`. SQLite flavour.

CREATE TABLE resource_changes (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    kind        TEXT NOT NULL,
    id          TEXT NOT NULL,
    version     INTEGER NOT NULL,
    changed_at  INTEGER NOT NULL
);
CREATE INDEX resource_changes_changed_at ON resource_changes (changed_at);
