-- Background jobs (large bulk attribute updates, group member files). A runner leases a job
-- (lease_owner, lease_until) and advances `cursor` in the same transaction as each batch's
-- writes, so a crashed runner's job is taken over after the lease and resumes where the
-- last committed batch ended, without redoing finished rows.
CREATE TABLE jobs (
    id             TEXT PRIMARY KEY,
    application_id TEXT NOT NULL REFERENCES applications (id),
    company_id     TEXT NOT NULL,
    kind           TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('pending', 'running', 'done', 'failed')),
    payload        TEXT NOT NULL,
    file_name      TEXT NOT NULL,
    created_by     TEXT NOT NULL,
    cursor         BIGINT NOT NULL DEFAULT 0,
    total          BIGINT NOT NULL,
    succeeded      BIGINT NOT NULL DEFAULT 0,
    failed         BIGINT NOT NULL DEFAULT 0,
    lease_owner    TEXT,
    lease_until    BIGINT,
    error          TEXT,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    finished_at    BIGINT
);
CREATE INDEX jobs_due ON jobs (status, lease_until);

-- Rows a job could not apply; `row_index` is the row's position in the job's input
-- (negative for rows refused before the job started), so a resumed batch cannot add twice.
CREATE TABLE job_failures (
    job_id    TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    row_index BIGINT NOT NULL,
    user_id   TEXT NOT NULL,
    error     TEXT NOT NULL,
    reason    TEXT NOT NULL,
    PRIMARY KEY (job_id, row_index)
);
