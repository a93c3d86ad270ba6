-- 0003_identity_api: users who sign in, sessions, the first-user setup token, webhook
-- deliveries, the trigger payload of a run, and what the project event stream needs.
-- Forward-only: never edit this file after it has landed; add 0004_... instead.

-- ---------------------------------------------------------------------------------------
-- Identity
-- ---------------------------------------------------------------------------------------

-- A Supabase (or other external) account maps to at most one Hostrun user.
CREATE UNIQUE INDEX users_external_id_key ON users (external_id) WHERE external_id IS NOT NULL;

-- Who made a token, and a few characters of it so people can tell tokens apart in a list
-- without the secret ever being stored.
ALTER TABLE api_tokens
  ADD COLUMN created_by uuid REFERENCES users (id) ON DELETE SET NULL,
  ADD COLUMN hint text;
CREATE INDEX api_tokens_project_idx ON api_tokens (project_id) WHERE project_id IS NOT NULL;
CREATE INDEX api_tokens_user_idx ON api_tokens (user_id) WHERE user_id IS NOT NULL;

-- Browser sessions. Like tokens, only the sha256 of the cookie value is kept. The CSRF token
-- is not a credential on its own (it is useless without the HttpOnly cookie), so it is kept
-- as is and compared in constant time.
CREATE TABLE sessions (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  token_hash    bytea NOT NULL CONSTRAINT sessions_hash_key UNIQUE,
  user_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  csrf_token    text NOT NULL,
  ip            text,
  user_agent    text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  last_seen_at  timestamptz NOT NULL DEFAULT now(),
  expires_at    timestamptz NOT NULL,
  revoked_at    timestamptz
);
CREATE INDEX sessions_user_idx ON sessions (user_id);

-- The one-time token `hostrun start` prints while there is no user yet. At most one is live:
-- a new one replaces the old, and creating the first user consumes it.
CREATE TABLE setup_tokens (
  token_hash  bytea PRIMARY KEY,
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL,
  used_at     timestamptz
);

-- ---------------------------------------------------------------------------------------
-- Webhooks
-- ---------------------------------------------------------------------------------------

-- The HMAC secret of a job's webhook. Kept readable because verifying an HMAC needs the key;
-- it never leaves the server after it is set (the API shows only whether one is set).
ALTER TABLE jobs ADD COLUMN webhook_secret text;

-- Signed deliveries accepted so far, keyed by the signature: the same signed body arriving
-- again is a replay and is refused. Unsigned webhooks record nothing here.
CREATE TABLE webhook_deliveries (
  job_id          uuid NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  signature_hash  bytea NOT NULL,
  delivery_id     text,
  run_id          bigint,
  received_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (job_id, signature_hash)
);

-- What started the run, for `${{ trigger.payload }}`: a webhook's body (JSON, or a JSON
-- string when the body was not JSON). NULL for every other trigger.
ALTER TABLE runs ADD COLUMN trigger_payload jsonb;

-- ---------------------------------------------------------------------------------------
-- Audit
-- ---------------------------------------------------------------------------------------

-- Installation-wide entries (users, projects being created) have no project; admins of the
-- installation read them. `actor` is a label kept even when the user or token is deleted.
ALTER TABLE audit_log ADD COLUMN actor text;
CREATE INDEX audit_log_at_idx ON audit_log (id DESC) WHERE project_id IS NULL;
