-- Loket schema v1: workspaces, API keys, integrations, tickets, messages, attachments, outbox.
-- Every row carries workspace_id (DESIGN.md "Tenancy").

CREATE TABLE workspaces (
  id          text PRIMARY KEY,
  name        text NOT NULL,
  ticket_seq  bigint NOT NULL DEFAULT 0,            -- last ticket number handed out
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_keys (
  id            text PRIMARY KEY,
  workspace_id  text NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  name          text NOT NULL DEFAULT '',
  prefix        text NOT NULL,                      -- first characters, for listing
  key_hash      bytea NOT NULL UNIQUE,              -- SHA-256 of the whole key
  created_at    timestamptz NOT NULL DEFAULT now(),
  last_used_at  timestamptz,
  revoked_at    timestamptz
);

CREATE TABLE integrations (
  id                  text PRIMARY KEY,
  workspace_id        text NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  provider            text NOT NULL,                -- telegram_bot, whatsapp_twilio, ...
  status              text NOT NULL CHECK (status IN ('pending','active','error','disconnected')),
  display_name        text NOT NULL DEFAULT '',
  routing_key         text NOT NULL,                -- bot id, number, phone_number_id, alias
  credentials         bytea,                        -- AES-256-GCM blob, AAD = id
  credentials_key_id  text,
  webhook_secret_hash bytea,                        -- SHA-256 of the webhook secret
  last_error          text,
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now()
);
-- One routing identity belongs to exactly one workspace while connected.
CREATE UNIQUE INDEX integrations_routing_live ON integrations (provider, routing_key)
  WHERE status <> 'disconnected';
CREATE INDEX integrations_workspace ON integrations (workspace_id);

CREATE TABLE tickets (
  id                  text PRIMARY KEY,
  workspace_id        text NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  number              bigint NOT NULL,
  subject             text NOT NULL,
  status              text NOT NULL CHECK (status IN ('open','pending','resolved','closed')),
  priority            text NOT NULL DEFAULT 'normal' CHECK (priority IN ('low','normal','high','urgent')),
  channel             text NOT NULL,
  integration_id      text REFERENCES integrations(id),
  external_thread_id  text,                         -- Telegram chat id, phone, ...
  requester_name      text,
  requester_email     text,
  requester_phone     text,
  assignee_id         text,
  tags                text[] NOT NULL DEFAULT '{}',
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now(),
  first_response_at   timestamptz,
  resolved_at         timestamptz,
  UNIQUE (workspace_id, number)
);
CREATE INDEX tickets_thread ON tickets (workspace_id, channel, external_thread_id, created_at DESC)
  WHERE status <> 'closed';
CREATE INDEX tickets_list ON tickets (workspace_id, created_at DESC, id DESC);

CREATE TABLE messages (
  id                   text PRIMARY KEY,
  workspace_id         text NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  ticket_id            text NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
  author_type          text NOT NULL CHECK (author_type IN ('requester','agent','system')),
  author_name          text NOT NULL DEFAULT '',
  body                 text NOT NULL,
  internal             boolean NOT NULL DEFAULT false,
  integration_id       text,
  external_message_id  text,                        -- provider identity, dedup key
  delivery_status      text CHECK (delivery_status IN ('pending','sent','failed','skipped')),
  delivery_error       text,
  delivered_at         timestamptz,
  delivery_attempts    integer NOT NULL DEFAULT 0,
  created_at           timestamptz NOT NULL DEFAULT now()
);
-- No duplicates: one provider message is one row, whatever is replayed.
CREATE UNIQUE INDEX messages_dedup ON messages (integration_id, external_message_id)
  WHERE external_message_id IS NOT NULL;
CREATE INDEX messages_ticket ON messages (ticket_id, created_at, id);

CREATE TABLE attachments (
  id            text PRIMARY KEY,
  workspace_id  text NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  message_id    text REFERENCES messages(id) ON DELETE CASCADE,
  filename      text NOT NULL,
  content_type  text NOT NULL,
  size          bigint NOT NULL,
  data          bytea,                              -- NULL when the provider could not serve it
  external_ref  text,
  status        text NOT NULL DEFAULT 'stored' CHECK (status IN ('stored','unavailable')),
  created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX attachments_message ON attachments (message_id);

-- Transactional outbox: rows written in the same transaction as the change they describe,
-- published to Kafka by the writer's relay, then deleted.
CREATE TABLE outbox (
  id          bigserial PRIMARY KEY,
  topic       text NOT NULL,
  key         text NOT NULL,
  payload     text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- RFC 3339 UTC with milliseconds, the API's timestamp format.
CREATE FUNCTION rfc3339(timestamptz) RETURNS text IMMUTABLE LANGUAGE sql AS
$$ SELECT to_char($1 AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') $$;
