package api

import (
	"fmt"
	"slices"
	"strconv"
	"testing"
)

func TestNoteLifecycle(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		cid := str(e.do("POST", "/contacts", map[string]any{"email": "ada@example.com"}).ok(t)["id"])
		owner := strconv.FormatInt(e.owner.ID, 10)

		n := e.do("POST", "/contacts/"+cid+"/notes", map[string]any{"body": "Hello 1 < 2 & 3 > 2 <3\nline two\n\nSecond"}).ok(t)
		noNulls(t, "note", n)
		id := str(n["id"])
		if _, err := strconv.ParseInt(id, 10, 64); err != nil || n["type"] != "note" || n["created_at"] == nil {
			t.Fatalf("created = %v", n)
		}
		if want := "<p>Hello 1 &lt; 2 &amp; 3 &gt; 2 &lt;3<br>line two</p><p>Second</p>"; n["body"] != want {
			t.Fatalf("body = %q, want %q", n["body"], want)
		}
		if c := n["contact"].(map[string]any); c["type"] != "contact" || c["id"] != cid {
			t.Fatalf("contact = %v", c)
		}
		if a := n["author"].(map[string]any); a["type"] != "admin" || a["id"] != owner || a["email"] != e.owner.Email {
			t.Fatalf("author = %v", a)
		}
		// HTML is kept as given; admin_id may be a string or a number; contact_id may repeat the path.
		h := e.do("POST", "/contacts/"+cid+"/notes", map[string]any{"body": "<p>Already <b>HTML</b></p>", "admin_id": owner, "contact_id": cid}).ok(t)
		if h["body"] != "<p>Already <b>HTML</b></p>" {
			t.Fatalf("html body = %q", h["body"])
		}
		e.do("POST", "/contacts/"+cid+"/notes", map[string]any{"body": "x", "admin_id": e.owner.ID}).ok(t)

		got := e.do("GET", "/notes/"+id, nil).ok(t)
		if got["id"] != id || got["body"] != n["body"] || got["author"].(map[string]any)["id"] != owner {
			t.Fatalf("get = %v", got)
		}

		// Refused requests create nothing.
		_, otherOwner, _ := e.newWorkspace("Other")
		before := len(e.eventTopics(e.ws.ID))
		e.do("POST", "/contacts/"+cid+"/notes", map[string]any{}).fails(t, 400, "parameter_not_found")
		e.do("POST", "/contacts/"+cid+"/notes", map[string]any{"body": "   "}).fails(t, 400, "parameter_invalid")
		e.do("POST", "/contacts/"+cid+"/notes", map[string]any{"body": 5}).fails(t, 400, "parameter_invalid")
		e.do("POST", "/contacts/"+cid+"/notes", map[string]any{"body": "x", "admin_id": "abc"}).fails(t, 400, "parameter_invalid")
		e.do("POST", "/contacts/"+cid+"/notes", map[string]any{"body": "x", "admin_id": otherOwner.ID}).fails(t, 404, "not_found")
		e.do("POST", "/contacts/"+cid+"/notes", map[string]any{"body": "x", "contact_id": "someone-else"}).fails(t, 400, "parameter_mismatch")
		if msg := e.do("POST", "/contacts/nope/notes", map[string]any{"body": "x"}).fails(t, 404, "not_found"); msg != "User Not Found" {
			t.Fatalf("unknown contact message = %q", msg)
		}
		e.do("GET", "/notes/999999", nil).fails(t, 404, "not_found")
		e.do("GET", "/notes/abc", nil).fails(t, 404, "not_found")
		e.do("GET", "/contacts/nope/notes", nil).fails(t, 404, "not_found")
		if after := len(e.eventTopics(e.ws.ID)); after != before {
			t.Fatalf("refused requests appended %d events", after-before)
		}

		// Two more notes: five in all, listed newest first, page by page.
		e.do("POST", "/contacts/"+cid+"/notes", map[string]any{"body": "four"}).ok(t)
		last := str(e.do("POST", "/contacts/"+cid+"/notes", map[string]any{"body": "five"}).ok(t)["id"])
		var seen []string
		for page := 1; ; page++ {
			r := e.do("GET", fmt.Sprintf("/contacts/%s/notes?per_page=2&page=%d", cid, page), nil).ok(t)
			pages := r["pages"].(map[string]any)
			if r["type"] != "list" || r["total_count"] != float64(5) || pages["total_pages"] != float64(3) || pages["page"] != float64(page) {
				t.Fatalf("page %d: %v %v", page, r["total_count"], pages)
			}
			data := r["data"].([]any)
			if len(data) == 0 {
				if page != 4 {
					t.Fatalf("empty page %d", page)
				}
				break
			}
			seen = append(seen, idsOf(t, data)...)
		}
		if len(seen) != 5 || seen[0] != last || seen[4] != id {
			t.Fatalf("notes in order %v (newest %s, oldest %s)", seen, last, id)
		}
		sorted := slices.Clone(seen)
		slices.SortFunc(sorted, func(a, b string) int { return int(mustInt(t, b) - mustInt(t, a)) })
		if !slices.Equal(sorted, seen) {
			t.Fatalf("notes not newest first: %v", seen)
		}
		summary := e.do("GET", "/contacts/"+cid, nil).ok(t)["notes"].(map[string]any)
		if summary["total_count"] != float64(5) || idsOf(t, summary["data"])[0] != last {
			t.Fatalf("contact notes summary = %v", summary)
		}

		if n := e.countTopic(e.ws.ID, "contact.note.created"); n != 5 {
			t.Fatalf("%d contact.note.created events, want 5", n)
		}
	})
}

func TestNoteIsolation(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		cid := str(e.do("POST", "/contacts", map[string]any{"email": "ada@example.com"}).ok(t)["id"])
		id := str(e.do("POST", "/contacts/"+cid+"/notes", map[string]any{"body": "secret"}).ok(t)["id"])

		other, _, tok := e.newWorkspace("Other")
		as := func(method, path string, body any) *resp { return e.doAs(tok, method, path, body, nil) }
		as("GET", "/notes/"+id, nil).fails(t, 404, "not_found")
		as("GET", "/contacts/"+cid+"/notes", nil).fails(t, 404, "not_found")
		as("POST", "/contacts/"+cid+"/notes", map[string]any{"body": "intrusion"}).fails(t, 404, "not_found")
		if topics := e.eventTopics(other.ID); len(topics) != 0 {
			t.Fatalf("other workspace events: %v", topics)
		}
		if n := e.do("GET", "/contacts/"+cid, nil).ok(t)["notes"].(map[string]any)["total_count"]; n != float64(1) {
			t.Fatalf("my contact has %v notes", n)
		}
	})
}
