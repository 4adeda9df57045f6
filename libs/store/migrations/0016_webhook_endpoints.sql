-- Issue 18: outgoing webhooks for integrators (docs/webhooks.md). An endpoint subscribes to
-- ticket event types; every matching event becomes one delivery per endpoint, signed per the
-- Standard Webhooks spec with the delivery id as `webhook-id` (stable across attempts), sent in
-- event order per ticket, retried on a schedule of about three days.
CREATE TABLE webhook_endpoints (
  id                    text PRIMARY KEY,                 -- whe_…
  workspace_id          text NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  url                   text NOT NULL,
  description           text NOT NULL DEFAULT '',
  events                text[] NOT NULL,
  enabled               boolean NOT NULL DEFAULT true,
  disabled_reason       text,
  secret                bytea NOT NULL,                   -- AES-256-GCM of whsec_…, AAD = id
  secret_key_id         text NOT NULL,
  previous_secret       bytea,                            -- still signs until previous_until
  previous_secret_key_id text,
  previous_until        timestamptz,
  failing_since         timestamptz,                      -- first failure since the last success
  created_at            timestamptz NOT NULL DEFAULT now(),
  updated_at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_endpoints_workspace ON webhook_endpoints (workspace_id);

CREATE TABLE webhook_deliveries (
  id                text PRIMARY KEY,                     -- msg_…: the webhook-id header
  seq               bigserial NOT NULL UNIQUE,            -- event order
  endpoint_id       text NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
  workspace_id      text NOT NULL,
  event_id          text NOT NULL,
  event_type        text NOT NULL,
  ticket_id         text NOT NULL,
  payload           text NOT NULL,                        -- the ticket.events record, as published
  status            text NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts          integer NOT NULL DEFAULT 0,
  next_attempt_at   timestamptz NOT NULL DEFAULT now(),
  leased_until      timestamptz,                          -- an attempt in flight
  last_status_code  integer,
  last_latency_ms   integer,
  last_error        text,
  response_excerpt  text,
  created_at        timestamptz NOT NULL DEFAULT now(),
  delivered_at      timestamptz,
  UNIQUE (endpoint_id, event_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_order ON webhook_deliveries (endpoint_id, ticket_id, seq) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_log ON webhook_deliveries (endpoint_id, seq DESC);
