-- Issue 18, the API channel (docs/channels/api-channel.md): an integration of provider "api" is
-- an inbox the integrator's backend pushes its users' messages into through the public client
-- API, scoped by the inbox identifier (the integration's routing key).
--
-- A contact is one of the integrator's users, known by the integrator's own id (`sourceId`).
-- Their conversations are tickets with channel 'api', integration_id = the inbox and
-- external_thread_id = the contact id.
CREATE TABLE api_contacts (
  id              text PRIMARY KEY,                                   -- ctc_…
  workspace_id    text NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  integration_id  text NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
  source_id       text NOT NULL,
  name            text,
  email           text,
  phone           text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (integration_id, source_id)
);
CREATE INDEX api_contacts_workspace ON api_contacts (workspace_id);

-- Agents' public replies on an inbox's conversations go to the inbox's webhookUrl through the
-- integrators' webhook machinery: an endpoint owned by the integration, which ticket events do
-- not fan out to (outbound queues the replies itself).
ALTER TABLE webhook_endpoints ADD COLUMN integration_id text REFERENCES integrations(id) ON DELETE CASCADE;
CREATE UNIQUE INDEX webhook_endpoints_integration ON webhook_endpoints (integration_id)
  WHERE integration_id IS NOT NULL;
