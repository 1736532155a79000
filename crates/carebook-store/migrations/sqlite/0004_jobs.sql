-- Carebook's durable job queue: work that runs after the request that caused it (sending a
-- message, planning reminders, expiring offers). Jobs are enqueued in the same transaction as
-- their cause and claimed by workers with a lease. See docs/data-model.md and
-- docs/architecture.md. SQLite form: a STRICT table, the uuid as a BLOB, times as INTEGER epoch
-- microseconds.

CREATE TABLE jobs (
    id              BLOB PRIMARY KEY,
    kind            TEXT NOT NULL CHECK (length(kind) BETWEEN 1 AND 100),
    payload         TEXT NOT NULL DEFAULT '{}',
    -- The same key enqueued twice is one job: the second enqueue does nothing.
    idempotency_key TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'succeeded', 'dead', 'cancelled')),
    run_at          INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    max_attempts    INTEGER NOT NULL DEFAULT 8 CHECK (max_attempts BETWEEN 1 AND 100),
    locked_by       TEXT,
    locked_until    INTEGER,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    finished_at     INTEGER,
    CONSTRAINT jobs_idempotency_key_key UNIQUE (idempotency_key),
    CHECK ((status = 'running') = (locked_until IS NOT NULL))
) STRICT;
-- What a claim looks for: due queued jobs, and running ones whose lease ran out.
CREATE INDEX jobs_due_idx ON jobs (run_at) WHERE status = 'queued';
CREATE INDEX jobs_lease_idx ON jobs (locked_until) WHERE status = 'running';
CREATE INDEX jobs_dead_idx ON jobs (updated_at) WHERE status = 'dead';

-- Operators see the dead letters and queue them again.
INSERT INTO permissions (name, description) VALUES
  ('jobs.manage', 'See dead background jobs and queue them again');
INSERT INTO role_permissions (role, permission) VALUES
  ('super_admin', 'jobs.manage'),
  ('support', 'jobs.manage');
