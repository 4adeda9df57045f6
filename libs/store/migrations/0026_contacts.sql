-- Contacts (issue 20): a contact is one person across channels. Every ticket's requester is
-- linked to one (store::create_tickets); an email address, phone number or channel identity seen
-- before links to the same contact within the workspace. Merging moves identities and tickets to
-- the survivor; the merged contact stays as a pointer (merged_into_id).

CREATE TABLE contacts (
  id              text PRIMARY KEY,                                       -- con_ + 24 hex
  workspace_id    text NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  name            text,
  notes           text NOT NULL DEFAULT '',
  attributes      jsonb NOT NULL DEFAULT '{}',                            -- custom attributes
  merged_into_id  text REFERENCES contacts(id) ON DELETE SET NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX contacts_list ON contacts (workspace_id, created_at DESC, id DESC) WHERE merged_into_id IS NULL;
CREATE INDEX contacts_name ON contacts (workspace_id, lower(name) text_pattern_ops) WHERE merged_into_id IS NULL;

-- How a contact is recognised: kind 'email' (lower-cased address), 'phone' (E.164), or a channel
-- whose thread names the person (providers::ChannelDescriptor::person_thread; value = the
-- ticket's external_thread_id, with the integration it was seen on, which a reply on that
-- channel goes through). One identity belongs to one contact of the workspace.
CREATE TABLE contact_identities (
  workspace_id    text NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  kind            text NOT NULL,
  value           text NOT NULL,
  contact_id      text NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
  integration_id  text REFERENCES integrations(id) ON DELETE SET NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (workspace_id, kind, value)
);
CREATE INDEX contact_identities_contact ON contact_identities (contact_id);
CREATE INDEX contact_identities_search ON contact_identities (workspace_id, value text_pattern_ops);

ALTER TABLE tickets ADD COLUMN contact_id text REFERENCES contacts(id) ON DELETE SET NULL;
CREATE INDEX tickets_contact ON tickets (contact_id, created_at DESC) WHERE contact_id IS NOT NULL;

-- Existing tickets: one contact per address (else phone number, else channel thread), the
-- earliest ticket's name; its other identities join it unless another contact holds them.
CREATE TEMPORARY TABLE contact_keys ON COMMIT DROP AS
  SELECT t.id AS ticket_id, t.workspace_id, t.created_at, t.requester_name,
         lower(t.requester_email) AS email, t.requester_phone AS phone, t.channel, t.external_thread_id,
         t.integration_id,
         coalesce('email:' || lower(t.requester_email), 'phone:' || t.requester_phone,
                  t.channel || ':' || t.external_thread_id) AS key
  FROM tickets t
  WHERE t.requester_email IS NOT NULL OR t.requester_phone IS NOT NULL OR t.external_thread_id IS NOT NULL;
CREATE TEMPORARY TABLE contact_seed ON COMMIT DROP AS
  SELECT DISTINCT ON (workspace_id, key) workspace_id, key,
         'con_' || substr(md5(random()::text || key || clock_timestamp()::text), 1, 24) AS id,
         requester_name AS name, created_at
  FROM contact_keys ORDER BY workspace_id, key, created_at;
INSERT INTO contacts (id, workspace_id, name, created_at, updated_at)
  SELECT id, workspace_id, name, created_at, created_at FROM contact_seed;
UPDATE tickets t SET contact_id = s.id
  FROM contact_keys k JOIN contact_seed s USING (workspace_id, key) WHERE t.id = k.ticket_id;
INSERT INTO contact_identities (workspace_id, kind, value, contact_id)
  SELECT k.workspace_id, 'email', k.email, s.id FROM contact_keys k JOIN contact_seed s USING (workspace_id, key)
  WHERE k.email IS NOT NULL ORDER BY k.created_at
  ON CONFLICT DO NOTHING;
INSERT INTO contact_identities (workspace_id, kind, value, contact_id)
  SELECT k.workspace_id, 'phone', k.phone, s.id FROM contact_keys k JOIN contact_seed s USING (workspace_id, key)
  WHERE k.phone IS NOT NULL ORDER BY k.created_at
  ON CONFLICT DO NOTHING;
INSERT INTO contact_identities (workspace_id, kind, value, contact_id, integration_id)
  SELECT k.workspace_id, k.channel, k.external_thread_id, s.id, k.integration_id
  FROM contact_keys k JOIN contact_seed s USING (workspace_id, key)
  WHERE k.external_thread_id IS NOT NULL
    AND k.channel IN ('whatsapp', 'telegram', 'instagram', 'vk', 'chat', 'api')
  ORDER BY k.created_at
  ON CONFLICT DO NOTHING;
