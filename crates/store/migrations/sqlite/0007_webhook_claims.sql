-- Webhook claims carry their owner: the dispatcher that claimed a message, so it can release
-- its own claims at once when it stops (or, after a crash, a successor that knows the owner is
-- dead can), instead of leaving them to their lease. SQLite flavour.

ALTER TABLE webhook_messages ADD COLUMN claimed_by TEXT;
CREATE INDEX webhook_messages_claimed ON webhook_messages (claimed_by) WHERE claimed_by IS NOT NULL;
