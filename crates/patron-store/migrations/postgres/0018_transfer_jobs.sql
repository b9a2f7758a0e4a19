-- Customer imports and exports are jobs too: the format of their file, the exported file
-- once written, and the listing of an application's jobs of one kind, newest first.
ALTER TABLE jobs ADD COLUMN file_format TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN result_file TEXT;
CREATE INDEX jobs_listing ON jobs (application_id, kind, created_at);
