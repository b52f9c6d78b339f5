package api

import (
	"testing"

	"github.com/parleyhq/parley/internal/testdb"
)

// FuzzContactWrite: whatever body a client sends to the contact write
// endpoints, the answer is never a 500 and an error is an error.list.
func FuzzContactWrite(f *testing.F) {
	for _, seed := range []string{
		`{"email":"a@b.co"}`, `{"role":"lead"}`, `{"external_id":"x","custom_attributes":{"plan":"pro"}}`,
		`{"email":"a@b.co","signed_up_at":"2024-01-02"}`, `{"owner_id":"1"}`, `{`, `[]`, `null`, `{"email":null}`,
		`{"custom_attributes":{"n":1e309}}`, `{"name":"\u0000"}`, `{"signed_up_at":-99999999999999}`,
	} {
		f.Add("POST", seed)
		f.Add("PUT", seed)
	}
	e := newEnv(&testing.T{}, testdb.SQLite(f), Options{})
	e.t = nil
	f.Fuzz(func(t *testing.T, method, body string) {
		e.t = t
		e.do("POST", "/data_attributes", `{"name":"plan","model":"contact","data_type":"string"}`)
		path := "/contacts"
		if method == "PUT" {
			c := e.do("POST", "/contacts", map[string]any{"role": "lead"})
			path = "/contacts/" + str(c.Body["id"])
		} else {
			method = "POST"
		}
		r := e.do(method, path, body)
		if r.Status >= 500 {
			t.Fatalf("%s %s with %q → %d %s", method, path, body, r.Status, r.Raw)
		}
		if r.Status >= 400 && r.Body["type"] != "error.list" {
			t.Fatalf("error is not an error.list: %s", r.Raw)
		}
	})
}
