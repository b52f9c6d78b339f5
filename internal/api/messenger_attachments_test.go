package api

import (
	"bytes"
	"encoding/json"
	"mime/multipart"
	"net/http/httptest"
	"strings"
	"testing"
)

// a 1×1 PNG.
var pngBytes = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82")

func (v *visitor) upload(name string, data []byte) *resp {
	v.e.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", name)
	fw.Write(data)
	mw.Close()
	req := httptest.NewRequest("POST", "/messenger/v1/attachments", &body)
	req.Header.Set("Authorization", "Bearer "+v.session)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	rec := httptest.NewRecorder()
	v.e.srv.ServeHTTP(rec, req)
	r := &resp{Status: rec.Code, Header: rec.Header(), Raw: rec.Body.Bytes()}
	if len(r.Raw) > 0 && r.Raw[0] == '{' {
		_ = json.Unmarshal(r.Raw, &r.Body)
	}
	return r
}

// fetch GETs a URL with a bearer token (or none) and returns the response.
func (e *env) fetch(token, url string) *resp {
	e.t.Helper()
	req := httptest.NewRequest("GET", url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	e.srv.ServeHTTP(rec, req)
	return &resp{Status: rec.Code, Header: rec.Header(), Raw: rec.Body.Bytes()}
}

func TestMessengerAttachments(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		a := e.visitor(nil)
		up := a.upload("../../etc/cat.png", pngBytes).ok(t)
		if up["content_type"] != "image/png" || up["size"] != float64(len(pngBytes)) || up["name"] != "cat.png" {
			t.Fatalf("upload %v", up)
		}
		url := str(up["url"])
		// Type is sniffed from the bytes, not taken from the name.
		a.upload("evil.png", []byte("<html><script>alert(1)</script></html>")).fails(t, 415, "unsupported_media_type")
		a.upload("empty.txt", nil).fails(t, 400, "parameter_invalid")
		e.do("PUT", "/messenger/settings", map[string]any{"upload_max_bytes": 100}).ok(t)
		a2 := e.visitor(map[string]any{"visitor_token": a.visitorToken})
		a2.upload("big.txt", bytes.Repeat([]byte("a"), 101)).fails(t, 413, "file_too_large")
		a2.upload("ok.txt", bytes.Repeat([]byte("a"), 100)).ok(t)

		// Before it is attached: the uploader only (and teammates).
		b := e.visitor(nil)
		if r := e.fetch(a.session, url); r.Status != 200 || !bytes.Equal(r.Raw, pngBytes) || r.Header.Get("Content-Type") != "image/png" || r.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Fatalf("uploader download: %d %v", r.Status, r.Header)
		}
		for name, tok := range map[string]string{"other visitor": b.session, "nobody": "", "bad token": "ms1.x.y"} {
			if r := e.fetch(tok, url); r.Status != 404 {
				t.Fatalf("%s downloaded the file: %d", name, r.Status)
			}
		}
		if r := e.fetch(e.token, url); r.Status != 200 {
			t.Fatalf("teammate download: %d", r.Status)
		}
		_, _, tok2 := e.newWorkspace("Other")
		if r := e.fetch(tok2, url); r.Status != 404 {
			t.Fatalf("another workspace's teammate downloaded the file: %d", r.Status)
		}
		// Someone else's upload cannot be attached.
		b.do("POST", "/conversations", map[string]any{"body": "look", "attachments": []string{str(up["id"])}}).fails(t, 400, "parameter_invalid")
		conv := a.do("POST", "/conversations", map[string]any{"body": "see the picture", "attachments": []string{str(up["id"])}}).ok(t)
		att := conv["parts"].([]any)[0].(map[string]any)["attachments"].([]any)
		if len(att) != 1 || att[0].(map[string]any)["url"] != url || att[0].(map[string]any)["content_type"] != "image/png" {
			t.Fatalf("attachments %v", att)
		}
		// Used once.
		a.do("POST", "/conversations/"+str(conv["id"])+"/reply", map[string]any{"attachments": []string{str(up["id"])}}).fails(t, 400, "parameter_invalid")
		// The teammates see it in the REST conversation.
		rest := e.do("GET", "/conversations/"+str(conv["id"]), nil).ok(t)
		if !strings.Contains(string(mustJSON(t, rest["source"])), url) {
			t.Fatalf("REST source %v", rest["source"])
		}
		// Query-string session (for <img>), and a reply with only a file.
		if r := e.fetch("", url+"?session_token="+a.session); r.Status != 200 {
			t.Fatalf("download with session_token: %d", r.Status)
		}
		second := a2.upload("ok.txt", []byte("hello")).ok(t)
		part := a.do("POST", "/conversations/"+str(conv["id"])+"/reply", map[string]any{"attachments": []string{str(second["id"])}}).ok(t)
		if att, _ := part["attachments"].([]any); len(att) != 1 {
			t.Fatalf("reply part %v", part)
		}
		if r := e.fetch(b.session, str(second["url"])); r.Status != 404 {
			t.Fatalf("another visitor downloaded a reply's file: %d", r.Status)
		}
		if r := e.fetch(a.session, str(second["url"])); r.Status != 200 || r.Header.Get("Content-Disposition") == "" || !strings.HasPrefix(r.Header.Get("Content-Disposition"), "attachment") {
			t.Fatalf("participant download of a text file: %d %v", r.Status, r.Header)
		}
	})
}
