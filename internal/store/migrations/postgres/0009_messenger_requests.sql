-- Idempotency keys of Messenger writes: a visitor's client that lost an
-- answer sends the same message again with the same key and gets the
-- original back instead of a second message.
CREATE TABLE messenger_requests (
    workspace_id TEXT NOT NULL,
    contact_id TEXT NOT NULL,
    idem_key TEXT NOT NULL,
    conversation_id BIGINT NOT NULL,
    part_id BIGINT, -- NULL: the request started the conversation
    created_at BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, contact_id, idem_key)
);
