-- Issue 16: an email's original (message_sources.data) and attachment bytes (attachments.data)
-- are the largest values Loket writes, many per second when mail arrives in bulk. PostgreSQL's
-- default TOAST compression (pglz) spent a sixth of the database's CPU on them at 250 emails/s;
-- lz4 compresses text as well at a fraction of the cost and gives up on already-compressed files
-- (PDF, JPEG) at once. Only new values change; a server built without lz4 keeps pglz.
DO $$
BEGIN
  ALTER TABLE message_sources ALTER COLUMN data SET COMPRESSION lz4;
  ALTER TABLE attachments ALTER COLUMN data SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
  RAISE NOTICE 'lz4 is not available; email originals and attachments stay compressed with pglz';
END $$;
