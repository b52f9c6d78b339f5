package conversation

import (
	"errors"
	"testing"
)

func TestRate(t *testing.T) {
	c, _ := NewFromContact("w", Author{Type: AuthorLead, ID: "lead1"}, "lead1", nil, "<p>hi</p>", "", nil, 100)
	if _, err := c.Rate("lead1", 5, "", 110); !errors.Is(err, ErrRule) {
		t.Fatalf("rating an open conversation: %v, want a rule error", err)
	}
	admin := Author{Type: AuthorAdmin, ID: "7"}
	if _, err := c.Close(admin, "", 120); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Rate("someone-else", 5, "", 130); err != ErrNotParticipant {
		t.Fatalf("a non-participant rated: %v", err)
	}
	for _, bad := range []int{0, 6, -1} {
		if _, err := c.Rate("lead1", bad, "", 130); !errors.Is(err, ErrRule) {
			t.Fatalf("rating %d accepted", bad)
		}
	}
	ch, err := c.Rate("lead1", 4, "quick", 130)
	if err != nil || len(ch.Topics) != 1 || ch.Topics[0] != "conversation.rating.added" || len(ch.Parts) != 0 {
		t.Fatalf("rate: %+v %v", ch, err)
	}
	if c.Rating.Rating != 4 || c.Rating.Remark != "quick" || c.Rating.AdminID == nil || *c.Rating.AdminID != 7 {
		t.Fatalf("rating %+v", c.Rating)
	}
	if _, err := c.Rate("lead1", 5, "better", 140); err != nil {
		t.Fatal(err)
	}
	if c.Rating.Rating != 5 || c.Rating.CreatedAt != 130 || c.Rating.UpdatedAt != 140 {
		t.Fatalf("re-rating %+v", c.Rating)
	}
}
