-- Self-service deletion: when a customer asked for it, and when the grace window ends and
-- the job runner anonymises them (their contacts stay held until then).
ALTER TABLE customers ADD COLUMN deleted_at BIGINT;
ALTER TABLE customers ADD COLUMN purge_at BIGINT;
CREATE INDEX customers_purge ON customers (purge_at);
