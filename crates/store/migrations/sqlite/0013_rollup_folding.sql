-- Rollups are folded from raw results in the background (once a minute) instead of with every
-- batch write. Results after `folded_through` are not in the rollups yet; readers add them from
-- `results`, starting at `pending_from` (the earliest start among them, NULL when there is none).
ALTER TABLE results ADD COLUMN in_maintenance INTEGER NOT NULL DEFAULT 0;

CREATE TABLE rollup_progress (
    id              INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    folded_through  INTEGER NOT NULL,
    pending_from    INTEGER
);
-- Every result stored so far is already in the rollups.
INSERT INTO rollup_progress (id, folded_through, pending_from)
SELECT 1, COALESCE(MAX(id), 0), NULL FROM results;
