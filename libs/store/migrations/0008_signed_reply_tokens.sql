-- Issue 16: reply addresses carry a signed token (providers::email::reply_token: workspace,
-- ticket number, MAC under the master keyring), so none is stored. Nothing ever received the
-- random tokens of this column (inbound email did not exist), so no reply is lost.
ALTER TABLE tickets DROP COLUMN reply_token;
