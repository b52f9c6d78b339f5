-- Removed teammates (docs/web.md, Settings → Teammates): the row stays for
-- the conversation parts and notes that name it; removed_at hides it.
ALTER TABLE admins ADD COLUMN removed_at INTEGER;
