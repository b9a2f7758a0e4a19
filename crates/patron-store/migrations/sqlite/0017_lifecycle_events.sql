-- Lifecycle events for other systems, written in the same transaction as the change they
-- announce (the audit record's), delivered at least once by the events worker.
CREATE TABLE lifecycle_events (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    type            TEXT NOT NULL,
    company_id      TEXT NOT NULL,
    application_id  TEXT NOT NULL,
    customer_id     TEXT,
    action          TEXT NOT NULL,
    actor           TEXT NOT NULL,
    reason          TEXT,
    reason_id       TEXT,
    occurred_at     INTEGER NOT NULL,
    status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    delivered_at    INTEGER,
    last_error      TEXT
);
CREATE INDEX lifecycle_events_due ON lifecycle_events (status, next_attempt_at);
CREATE INDEX lifecycle_events_time ON lifecycle_events (occurred_at);
