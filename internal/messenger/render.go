package messenger

import (
	"encoding/json"
	"strconv"

	"github.com/parleyhq/parley/internal/conversation"
	"github.com/parleyhq/parley/internal/eventlog"
)

// Author is who wrote a part, as a contact may see them: a teammate's
// name, never their email or id.
type Author struct {
	Type   string  `json:"type"`
	Name   *string `json:"name"`
	Avatar *string `json:"avatar"`
}

// Attachment is a file of a part as the Messenger shows it.
type Attachment struct {
	ID          string `json:"id,omitempty"`
	Name        string `json:"name"`
	ContentType string `json:"content_type,omitempty"`
	Size        int64  `json:"size,omitempty"`
	URL         string `json:"url"`
}

// Part is a message a contact may see.
type Part struct {
	ID          string       `json:"id"`
	Type        string       `json:"type"`
	Body        string       `json:"body"`
	Author      Author       `json:"author"`
	Attachments []Attachment `json:"attachments"`
	CreatedAt   int64        `json:"created_at"`
}

// Rating is the contact's rating as the Messenger shows it.
type Rating struct {
	Rating    int    `json:"rating"`
	Remark    string `json:"remark"`
	CreatedAt int64  `json:"created_at"`
}

// Thread is a conversation as its contact sees it.
type Thread struct {
	ID            string  `json:"id"`
	Title         *string `json:"title"`
	State         string  `json:"state"`
	CreatedAt     int64   `json:"created_at"`
	UpdatedAt     int64   `json:"updated_at"`
	Parts         []Part  `json:"parts"`
	ContactSeenAt *int64  `json:"contact_seen_at"`
	AdminSeenAt   *int64  `json:"admin_seen_at"`
	Rating        *Rating `json:"rating"`
}

// Summary is a conversation in the Messenger's list.
type Summary struct {
	ID        string  `json:"id"`
	Title     *string `json:"title"`
	State     string  `json:"state"`
	UpdatedAt int64   `json:"updated_at"`
	LastPart  *Part   `json:"last_part"`
	Unread    bool    `json:"unread"`
}

// AttachmentID extracts the id of a Messenger upload from its URL
// (/messenger/v1/attachments/{id}/{name}); "" for other attachments.
func AttachmentID(url string) string {
	const prefix = "/messenger/v1/attachments/"
	if len(url) <= len(prefix) || url[:len(prefix)] != prefix {
		return ""
	}
	rest := url[len(prefix):]
	for i := range len(rest) {
		if rest[i] == '/' {
			return rest[:i]
		}
	}
	return rest
}

func attachmentsOut(in []conversation.Attachment) []Attachment {
	out := make([]Attachment, 0, len(in))
	for _, a := range in {
		out = append(out, Attachment{ID: AttachmentID(a.URL), Name: a.Name, ContentType: a.ContentType, URL: a.URL})
	}
	return out
}

func authorOut(a conversation.Author) Author {
	return Author{Type: a.Type, Name: a.Name}
}

// SourcePart is the opening message shown as the first part. Its id is
// "c<conversation id>", apart from part ids.
func SourcePart(c *conversation.Conversation) Part {
	return Part{ID: "c" + c.IDString(), Type: conversation.PartComment, Body: c.Source.Body,
		Author: authorOut(c.Source.Author), Attachments: attachmentsOut(c.Source.Attachments), CreatedAt: c.CreatedAt}
}

// VisiblePart returns the part as a contact sees it, or false for parts
// only teammates see (notes, assignments, tags, participants, state
// changes without a message).
func VisiblePart(p *conversation.Part) (Part, bool) {
	switch p.Type {
	case conversation.PartComment, conversation.PartQuickReply:
	case conversation.PartClose:
		if p.Body == nil || *p.Body == "" {
			return Part{}, false
		}
	default:
		return Part{}, false
	}
	body := ""
	if p.Body != nil {
		body = *p.Body
	}
	return Part{ID: strconv.FormatInt(p.ID, 10), Type: conversation.PartComment, Body: body, Author: authorOut(p.Author),
		Attachments: attachmentsOut(p.Attachments), CreatedAt: p.CreatedAt}, true
}

// IsTeamPart reports whether a visible part was written by the team (it
// makes the conversation unread for the contact).
func IsTeamPart(p Part) bool {
	return p.Author.Type == conversation.AuthorAdmin || p.Author.Type == conversation.AuthorBot
}

// NewThread renders c (loaded with its parts) for its contact.
func NewThread(c *conversation.Conversation, contactSeenAt, adminSeenAt *int64) Thread {
	t := Thread{ID: c.IDString(), Title: c.Title, State: c.State, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
		Parts: []Part{SourcePart(c)}, ContactSeenAt: contactSeenAt, AdminSeenAt: adminSeenAt}
	for _, p := range c.Parts {
		if v, ok := VisiblePart(p); ok {
			t.Parts = append(t.Parts, v)
		}
	}
	if r := c.Rating; r != nil {
		t.Rating = &Rating{Rating: r.Rating, Remark: r.Remark, CreatedAt: r.CreatedAt}
	}
	return t
}

// Event is what the socket needs to know of a conversation event: which
// conversation, its contacts (when the item names them) and the frame a
// contact may receive (nil: nothing to show, the sequence still advances).
type Event struct {
	ConversationID string
	Contacts       []string // nil when the item does not list them
	Frame          []byte
}

// eventItem is the part of a conversation event item (conversation.View,
// or the seen payloads) the Messenger reads.
type eventItem struct {
	ID             string  `json:"id"`
	ConversationID string  `json:"conversation_id"`
	State          string  `json:"state"`
	SeenAt         int64   `json:"seen_at"`
	Title          *string `json:"title"`
	Contacts       *struct {
		Contacts []struct {
			ID string `json:"id"`
		} `json:"contacts"`
	} `json:"contacts"`
	Source *struct {
		Body        string                    `json:"body"`
		Author      conversation.Author       `json:"author"`
		Attachments []conversation.Attachment `json:"attachments"`
	} `json:"source"`
	CreatedAt int64 `json:"created_at"`
	Parts     *struct {
		Parts []struct {
			ID          string                    `json:"id"`
			PartType    string                    `json:"part_type"`
			Body        *string                   `json:"body"`
			Author      conversation.Author       `json:"author"`
			Attachments []conversation.Attachment `json:"attachments"`
			CreatedAt   int64                     `json:"created_at"`
		} `json:"conversation_parts"`
	} `json:"conversation_parts"`
	Rating *struct {
		Rating    int    `json:"rating"`
		Remark    string `json:"remark"`
		CreatedAt int64  `json:"created_at"`
	} `json:"conversation_rating"`
}

// frameOut is an event frame of the Messenger socket.
type frameOut struct {
	Type           string  `json:"type"`
	Seq            int64   `json:"seq"`
	Topic          string  `json:"topic"`
	ConversationID string  `json:"conversation_id"`
	State          string  `json:"state,omitempty"`
	Part           *Part   `json:"part,omitempty"`
	SeenAt         int64   `json:"seen_at,omitempty"`
	Rating         *Rating `json:"rating,omitempty"`
}

// ParseEvent reads a conversation event of the log; ok is false for
// events that are not about a conversation a contact could see.
func ParseEvent(e *eventlog.Event) (ev Event, ok bool) {
	switch e.Topic {
	case "conversation.user.created", "conversation.user.replied", "conversation.admin.replied",
		"conversation.admin.closed", "conversation.admin.opened", "conversation.admin.snoozed",
		"conversation.contact.seen", "conversation.admin.seen", "conversation.rating.added":
	default:
		// Notes, assignments, tags, priority, participants: a contact sees
		// none of them; they only advance the sequence.
		return Event{}, false
	}
	var it eventItem
	if json.Unmarshal(e.Item, &it) != nil {
		return Event{}, false
	}
	f := frameOut{Type: "event", Seq: e.Seq, Topic: e.Topic}
	switch e.Topic {
	case "conversation.contact.seen", "conversation.admin.seen":
		f.ConversationID, f.SeenAt = it.ConversationID, it.SeenAt
	default:
		f.ConversationID, f.State = it.ID, it.State
		if it.Contacts != nil {
			ev.Contacts = make([]string, 0, len(it.Contacts.Contacts))
			for _, c := range it.Contacts.Contacts {
				ev.Contacts = append(ev.Contacts, c.ID)
			}
		}
	}
	switch e.Topic {
	case "conversation.user.created":
		if it.Source != nil {
			f.Part = &Part{ID: "c" + it.ID, Type: conversation.PartComment, Body: it.Source.Body, Author: authorOut(it.Source.Author),
				Attachments: attachmentsOut(it.Source.Attachments), CreatedAt: it.CreatedAt}
		}
	case "conversation.rating.added":
		if it.Rating != nil {
			f.Rating = &Rating{Rating: it.Rating.Rating, Remark: it.Rating.Remark, CreatedAt: it.Rating.CreatedAt}
		}
	}
	if it.Parts != nil {
		for _, p := range it.Parts.Parts {
			id, _ := strconv.ParseInt(p.ID, 10, 64)
			if v, visible := VisiblePart(&conversation.Part{ID: id, Type: p.PartType, Body: p.Body, Author: p.Author,
				Attachments: p.Attachments, CreatedAt: p.CreatedAt}); visible {
				f.Part = &v
			}
		}
	}
	if f.ConversationID == "" {
		return Event{}, false
	}
	ev.ConversationID = f.ConversationID
	ev.Frame, _ = json.Marshal(f)
	return ev, true
}
