package conversation

// Rate records a contact's rating (1–5, with an optional remark) of a
// closed conversation it takes part in, from the Messenger. Rating again
// replaces the rating (created_at is kept). The topic is
// conversation.rating.added; no part is added (Intercom shows the rating
// on the conversation, not in its parts). The teammate rated is the one
// who closed the conversation last.
func (c *Conversation) Rate(contactID string, rating int, remark string, now int64) (*Change, error) {
	if !c.HasContact(contactID) {
		return nil, ErrNotParticipant
	}
	if c.State != StateClosed {
		return nil, refuse("state", "only a closed conversation can be rated")
	}
	if rating < 1 || rating > 5 {
		return nil, refuse("rating", "rating must be an integer from 1 to 5")
	}
	if len(remark) > 2000 {
		return nil, refuse("remark", "remark is longer than 2000 bytes")
	}
	r := &Rating{Rating: rating, Remark: remark, CreatedAt: now, UpdatedAt: now, ContactID: contactID, AdminID: c.Stats.LastClosedByID}
	if c.Rating != nil && c.Rating.CreatedAt != 0 {
		r.CreatedAt = c.Rating.CreatedAt
	}
	c.Rating = r
	c.UpdatedAt = now
	return &Change{Topics: []string{"conversation.rating.added"}}, nil
}
