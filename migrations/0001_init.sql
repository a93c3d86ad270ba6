-- 0001_init: the whole data model of ARCHITECTURE.md, so later work adds behaviour, not rewrites.
-- Forward-only: never edit this file after it has landed; add 0002_... instead.
-- Runs inside one transaction with search_path = hostrun (see src/db/migrate.ts).

-- ---------------------------------------------------------------------------------------
-- Identity and tenancy
-- ---------------------------------------------------------------------------------------

CREATE TYPE member_role AS ENUM ('viewer', 'developer', 'admin', 'owner');

CREATE TABLE projects (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  slug        text NOT NULL CONSTRAINT projects_slug_key UNIQUE
                CONSTRAINT projects_slug_format CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
  name        text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- Every installation has one project to start in; `hostrun` commands use it unless told otherwise.
INSERT INTO projects (slug, name) VALUES ('default', 'Default');

CREATE TABLE users (
  id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  email          text NOT NULL,
  name           text,
  password_hash  text,                       -- argon2id; NULL for users who sign in elsewhere
  is_superadmin  boolean NOT NULL DEFAULT false,
  external_id    text,                       -- e.g. a Supabase `sub`
  created_at     timestamptz NOT NULL DEFAULT now(),
  disabled_at    timestamptz
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

CREATE TABLE project_members (
  project_id  uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  role        member_role NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (project_id, user_id)
);

-- Tokens are stored as sha256 of the secret part only; the secret is shown once at creation.
CREATE TABLE api_tokens (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name          text NOT NULL,
  token_hash    bytea NOT NULL CONSTRAINT api_tokens_hash_key UNIQUE,
  user_id       uuid REFERENCES users (id) ON DELETE CASCADE,
  project_id    uuid REFERENCES projects (id) ON DELETE CASCADE,
  role          member_role,
  -- A token with no user and no project is the installation's admin token (`hostrun start`).
  is_superadmin boolean NOT NULL DEFAULT false,
  created_at    timestamptz NOT NULL DEFAULT now(),
  expires_at    timestamptz,
  last_used_at  timestamptz,
  revoked_at    timestamptz,
  CONSTRAINT api_tokens_scope CHECK (is_superadmin OR user_id IS NOT NULL OR (project_id IS NOT NULL AND role IS NOT NULL))
);

-- ---------------------------------------------------------------------------------------
-- Targets and credentials
-- ---------------------------------------------------------------------------------------

CREATE TABLE secrets (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  project_id  uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  name        text NOT NULL CONSTRAINT secrets_name_format CHECK (name ~ '^[A-Za-z_][A-Za-z0-9_-]{0,127}$'),
  -- AES-256-GCM: ciphertext, 12-byte nonce, 16-byte tag; key_id names the key that sealed it.
  ciphertext  bytea NOT NULL,
  nonce       bytea NOT NULL,
  auth_tag    bytea NOT NULL,
  key_id      text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT secrets_project_name_key UNIQUE (project_id, name)
);

CREATE TABLE hosts (
  id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  project_id            uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  name                  text NOT NULL,
  address               text NOT NULL,
  port                  integer NOT NULL DEFAULT 22 CONSTRAINT hosts_port_range CHECK (port BETWEEN 1 AND 65535),
  username              text NOT NULL,
  os                    text NOT NULL DEFAULT 'linux' CONSTRAINT hosts_os CHECK (os IN ('linux', 'windows')),
  shell                 text CONSTRAINT hosts_shell CHECK (shell IN ('bash', 'sh', 'pwsh', 'powershell', 'cmd')),
  labels                text[] NOT NULL DEFAULT '{}',
  key_secret            text,       -- name of a secret holding a private key
  passphrase_secret     text,
  password_secret       text,
  host_key_fingerprint  text,       -- SHA256:... pinned on first contact or given at creation
  trust_on_first_use    boolean NOT NULL DEFAULT false,
  created_at            timestamptz NOT NULL DEFAULT now(),
  updated_at            timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT hosts_project_name_key UNIQUE (project_id, name)
);

-- ---------------------------------------------------------------------------------------
-- Definitions
-- ---------------------------------------------------------------------------------------

CREATE TABLE jobs (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  project_id   uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  name         text NOT NULL,
  description  text,
  spec         jsonb NOT NULL,             -- the validated, normalised JobSpec
  source       text NOT NULL,              -- what the user wrote (YAML or JSON), kept verbatim
  version      integer NOT NULL DEFAULT 1,
  enabled      boolean NOT NULL DEFAULT true,
  webhook_id   text CONSTRAINT jobs_webhook_id_key UNIQUE,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT jobs_project_name_key UNIQUE (project_id, name)
);

CREATE TABLE job_versions (
  job_id      uuid NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  version     integer NOT NULL,
  spec        jsonb NOT NULL,
  source      text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  created_by  uuid REFERENCES users (id) ON DELETE SET NULL,
  PRIMARY KEY (job_id, version)
);

CREATE TABLE schedules (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  project_id      uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  job_id          uuid NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  -- Schedules declared in a job spec are keyed by their position so re-applying the spec
  -- updates them in place (keeping next_fire_at) instead of recreating them.
  spec_index      integer,
  cron            text,
  every_seconds   integer CONSTRAINT schedules_every_positive CHECK (every_seconds > 0),
  timezone        text NOT NULL DEFAULT 'UTC',
  inputs          jsonb NOT NULL DEFAULT '{}',
  enabled         boolean NOT NULL DEFAULT true,
  misfire_policy  text NOT NULL DEFAULT 'once' CONSTRAINT schedules_misfire CHECK (misfire_policy IN ('skip', 'once', 'all')),
  -- Interval schedules fire at anchor_at + k * every_seconds, so they never drift.
  anchor_at       timestamptz NOT NULL DEFAULT now(),
  next_fire_at    timestamptz,
  last_fire_at    timestamptz,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT schedules_kind CHECK ((cron IS NULL) <> (every_seconds IS NULL)),
  CONSTRAINT schedules_job_spec_index_key UNIQUE (job_id, spec_index)
);
CREATE INDEX schedules_due_idx ON schedules (next_fire_at) WHERE enabled;

-- ---------------------------------------------------------------------------------------
-- Runs: the queue and the history in one table
-- ---------------------------------------------------------------------------------------

CREATE TYPE run_status AS ENUM ('queued', 'claimed', 'running', 'succeeded', 'failed', 'timed_out', 'canceled');

CREATE TABLE runs (
  id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  project_id          uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  -- Runs outlive their job: deleting a job keeps its history under job_name.
  job_id              uuid REFERENCES jobs (id) ON DELETE SET NULL,
  job_name            text NOT NULL,
  job_version         integer NOT NULL,
  parent_run_id       bigint REFERENCES runs (id) ON DELETE CASCADE,
  trigger             text NOT NULL CONSTRAINT runs_trigger CHECK (trigger IN ('manual', 'schedule', 'webhook', 'api', 'retry', 'rerun', 'host_test')),
  schedule_id         uuid REFERENCES schedules (id) ON DELETE SET NULL,
  fire_at             timestamptz,          -- the schedule's fire time this run stands for
  inputs              jsonb NOT NULL DEFAULT '{}',
  -- The spec of a run that belongs to no stored job (a host test, an ad-hoc command);
  -- runs of jobs read theirs from job_versions.
  spec                jsonb,
  target              text NOT NULL DEFAULT 'local',   -- `local`, a host name, or labels
  -- A worker may claim a run only if it has every label listed here.
  labels              text[] NOT NULL DEFAULT '{}',
  status              run_status NOT NULL DEFAULT 'queued',
  priority            integer NOT NULL DEFAULT 0,
  attempt             integer NOT NULL DEFAULT 0,    -- incremented by every claim; fences writes
  max_attempts        integer NOT NULL DEFAULT 1 CONSTRAINT runs_max_attempts_positive CHECK (max_attempts >= 1),
  run_after           timestamptz NOT NULL DEFAULT now(),
  concurrency_key     text,
  concurrency_max     integer CONSTRAINT runs_concurrency_max_positive CHECK (concurrency_max >= 1),
  timeout_seconds     integer,
  worker_id           text,
  lease_expires_at    timestamptz,
  cancel_requested_at timestamptz,
  created_by          uuid REFERENCES users (id) ON DELETE SET NULL,
  created_at          timestamptz NOT NULL DEFAULT now(),
  claimed_at          timestamptz,
  started_at          timestamptz,
  finished_at         timestamptz,
  exit_code           integer,
  error               text,
  outputs             jsonb,
  CONSTRAINT runs_concurrency_pair CHECK ((concurrency_key IS NULL) = (concurrency_max IS NULL))
);

-- The claim path: only queued rows, in claim order. Small and hot; history is not in it.
CREATE INDEX runs_queued_idx ON runs (priority DESC, run_after, id) WHERE status = 'queued';
-- The reaper: leases of runs in flight.
CREATE INDEX runs_lease_idx ON runs (lease_expires_at) WHERE status IN ('claimed', 'running');
-- Concurrency groups: how many runs of a group are in flight.
CREATE INDEX runs_concurrency_active_idx ON runs (concurrency_key) WHERE status IN ('claimed', 'running');
-- Listing history newest first, per project and per job.
CREATE INDEX runs_project_id_idx ON runs (project_id, id DESC);
CREATE INDEX runs_job_id_idx ON runs (job_id, id DESC);
CREATE INDEX runs_parent_idx ON runs (parent_run_id) WHERE parent_run_id IS NOT NULL;
-- Exactly one run per (schedule, fire time), however many schedulers race for it.
CREATE UNIQUE INDEX runs_schedule_fire_key ON runs (schedule_id, fire_at) WHERE schedule_id IS NOT NULL;

-- run_steps, run_logs and run_events carry no foreign key to runs on purpose: a key check
-- takes a row lock on the run for every inserted row, inside statements that have just
-- updated that same run (claim, start, complete), and that doubled the cost of the hot path.
-- Their rows are removed with their run by the runs_delete_children trigger (0002_queue.sql),
-- and the worker protocol only writes them for a run it holds (fenced by attempt).
CREATE TABLE run_steps (
  run_id       bigint NOT NULL,
  idx          integer NOT NULL,             -- 0-based position in the job's steps
  attempt      integer NOT NULL,
  step_id      text NOT NULL,
  name         text NOT NULL,
  status       text NOT NULL CONSTRAINT run_steps_status CHECK (status IN ('pending', 'running', 'succeeded', 'failed', 'timed_out', 'canceled', 'skipped')),
  exit_code    integer,
  started_at   timestamptz,
  finished_at  timestamptz,
  outputs      jsonb,
  error        text,
  PRIMARY KEY (run_id, idx)
);

CREATE TABLE run_logs (
  run_id   bigint NOT NULL,
  seq      integer NOT NULL,               -- per run, from 1, gap-free within an attempt
  attempt  integer NOT NULL,
  step_idx integer,                        -- NULL for the worker's own lines
  stream   text NOT NULL CONSTRAINT run_logs_stream CHECK (stream IN ('stdout', 'stderr', 'system')),
  at       timestamptz NOT NULL,
  text     text NOT NULL,
  PRIMARY KEY (run_id, seq)
);

-- Append-only: one row per status transition (written by the trigger below) and per notable
-- moment a worker wants on record. `id` doubles as the SSE event id, so streams resume.
CREATE TABLE run_events (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  run_id       bigint NOT NULL,
  project_id   uuid NOT NULL,
  attempt      integer NOT NULL,
  from_status  run_status,
  to_status    run_status,
  worker_id    text,
  at           timestamptz NOT NULL DEFAULT now(),
  message      text
);
CREATE INDEX run_events_run_idx ON run_events (run_id, id);
CREATE INDEX run_events_project_idx ON run_events (project_id, id);

CREATE TABLE run_artifacts (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  run_id      bigint NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  key         text NOT NULL,
  size        bigint NOT NULL,
  sha256      text NOT NULL,
  content     bytea,
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz,
  CONSTRAINT run_artifacts_run_key UNIQUE (run_id, key)
);

-- ---------------------------------------------------------------------------------------
-- Processes, audit, mirrors, apps
-- ---------------------------------------------------------------------------------------

CREATE TABLE workers (
  id                 text PRIMARY KEY,
  kind               text NOT NULL DEFAULT 'worker' CONSTRAINT workers_kind CHECK (kind IN ('worker', 'agent')),
  hostname           text NOT NULL,
  pid                integer,
  labels             text[] NOT NULL DEFAULT '{}',
  concurrency        integer NOT NULL DEFAULT 1,
  version            text,
  started_at         timestamptz NOT NULL DEFAULT now(),
  last_heartbeat_at  timestamptz NOT NULL DEFAULT now(),
  stopped_at         timestamptz
);

CREATE TABLE audit_log (
  id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  project_id     uuid REFERENCES projects (id) ON DELETE CASCADE,
  actor_user_id  uuid REFERENCES users (id) ON DELETE SET NULL,
  actor_token_id uuid REFERENCES api_tokens (id) ON DELETE SET NULL,
  action         text NOT NULL,           -- e.g. job.apply, run.cancel
  resource_type  text NOT NULL,
  resource_id    text,
  at             timestamptz NOT NULL DEFAULT now(),
  ip             text,
  details        jsonb
);
CREATE INDEX audit_log_project_idx ON audit_log (project_id, id DESC);

-- Crontab entries that agents discover on their hosts (seed 003).
CREATE TABLE cron_mirror (
  id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  project_id     uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  worker_id      text REFERENCES workers (id) ON DELETE SET NULL,
  entry_id       text NOT NULL,
  name           text NOT NULL,
  schedule_kind  text,
  schedule_expr  text,
  timezone       text,
  enabled        boolean NOT NULL DEFAULT true,
  command        text,
  next_run_at    timestamptz,
  last_run_at    timestamptz,
  last_status    text,
  updated_at     timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT cron_mirror_entry_key UNIQUE (project_id, entry_id)
);

-- Uploaded app bundles with a manifest.json, run in sandboxes (seed 001).
CREATE TABLE apps (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  project_id  uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  name        text NOT NULL,
  manifest    jsonb NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT apps_project_name_key UNIQUE (project_id, name)
);

CREATE TABLE app_builds (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  app_id        uuid NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
  version       text NOT NULL,
  status        text NOT NULL DEFAULT 'pending' CONSTRAINT app_builds_status CHECK (status IN ('pending', 'building', 'ready', 'failed')),
  bundle        bytea,
  size          bigint,
  sha256        text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  completed_at  timestamptz
);
