-- Indexes for the retention purge: finished outbox messages and jobs, old reset codes.
CREATE INDEX outbox_sent ON outbox (status, sent_at);
CREATE INDEX jobs_finished ON jobs (status, finished_at);
CREATE INDEX password_reset_codes_expiry ON password_reset_codes (expires_at);
