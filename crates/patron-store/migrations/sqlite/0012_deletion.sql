-- Self-service deletion: when a customer asked for it, and when the grace window ends and
-- the job runner anonymises them (their contacts stay held until then).
ALTER TABLE customers ADD COLUMN deleted_at INTEGER;
ALTER TABLE customers ADD COLUMN purge_at INTEGER;
CREATE INDEX customers_purge ON customers (purge_at);
