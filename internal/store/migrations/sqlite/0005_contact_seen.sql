-- When the contact last saw the conversation in the Messenger (read
-- receipts; replies by email go only to contacts who have not seen them).
ALTER TABLE conversations ADD COLUMN contact_seen_at INTEGER;
