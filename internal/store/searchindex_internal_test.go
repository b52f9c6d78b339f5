package store

import "testing"

// TestEffectOf pins what each kind of event means for the search index:
// contact events name contacts to re-read, company and tag changes drop
// their columns, unknown data-platform topics rebuild, and other
// aggregates' events (which never change a contact by themselves) are
// ignored rather than rebuilding a million-contact index each time.
func TestEffectOf(t *testing.T) {
	for topic, want := range map[string]topicEffect{
		"contact.user.created":      effectContacts,
		"contact.lead.tag.deleted":  effectContacts,
		"contact.merged":            effectContacts,
		"company.contact.attached":  effectContacts,
		"tag.deleted":               effectTags,
		"company.updated":           effectCompany,
		"company.deleted":           effectCompany,
		"company.created":           effectNone,
		"data_attribute.updated":    effectNone,
		"segment.created":           effectNone,
		"event.created":             effectNone,
		"company.something.new":     effectUnknown,
		"tag.renamed":               effectUnknown,
		"conversation.user.created": effectContacts,
		"conversation.user.replied": effectContacts,
		"conversation.admin.closed": effectNone,
		"team.created":              effectNone,
		"admin.away_mode_updated":   effectNone,
	} {
		if got := effectOf(topic); got != want {
			t.Errorf("effectOf(%q) = %d, want %d", topic, got, want)
		}
	}
}
