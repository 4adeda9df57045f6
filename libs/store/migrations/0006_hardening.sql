-- Issue 15: stored idempotent responses are encrypted with the master keyring (a retried
-- POST /api-keys, /me/password or /channels answers with a new secret). The plaintext ones
-- are dropped: keys are honoured for 24 hours only, and some of those rows held secrets.
DELETE FROM idempotency_keys;
ALTER TABLE idempotency_keys DROP COLUMN response;
ALTER TABLE idempotency_keys ADD COLUMN response bytea;          -- crypto::Keyring ciphertext
ALTER TABLE idempotency_keys ADD COLUMN response_key_id text;
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
