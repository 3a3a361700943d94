-- Status pages: a versioned resource like monitors; the public pages are rendered from them.

CREATE TABLE status_pages (
    id          TEXT PRIMARY KEY NOT NULL,
    labels      TEXT NOT NULL,
    spec        TEXT NOT NULL,
    source      TEXT NOT NULL,
    version     BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
