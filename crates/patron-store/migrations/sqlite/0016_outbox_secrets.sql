-- Queued messages are sealed, and scrubbed once their codes and links have expired; the
-- scrub finds old messages by the time they were queued.
CREATE INDEX outbox_created ON outbox (created_at);
