-- Webhook endpoints are versioned resources like monitors and maintenance windows: they record
-- who wrote them last. Every endpoint so far came through the API.

ALTER TABLE webhook_endpoints ADD COLUMN source TEXT NOT NULL DEFAULT 'api';
