-- Who a customer is at a social provider: one (provider, subject) per application.
CREATE TABLE social_identities (
    application_id TEXT NOT NULL REFERENCES applications (id),
    provider       TEXT NOT NULL,
    subject        TEXT NOT NULL,
    customer_id    TEXT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    created_at     INTEGER NOT NULL,
    PRIMARY KEY (application_id, provider, subject)
);
CREATE INDEX social_identities_customer ON social_identities (customer_id);
