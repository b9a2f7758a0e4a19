-- Live (non-archived) customers per application, split over shards so that concurrent
-- writers on PostgreSQL rarely touch the same row. The unfiltered customer list reads
-- SUM(live) instead of counting a million rows. Maintained in the same transaction as
-- every create, import, archive and restore.
CREATE TABLE customer_counts (
    application_id TEXT NOT NULL,
    shard          INTEGER NOT NULL,
    live           INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (application_id, shard)
);
INSERT INTO customer_counts (application_id, shard, live)
    SELECT application_id, 0, COUNT(*) FROM customers WHERE archived = FALSE GROUP BY application_id;
