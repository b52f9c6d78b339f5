package web_test

import (
	"bytes"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/api"
	"github.com/parleyhq/parley/internal/ids"
	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/testdb"
	"github.com/parleyhq/parley/internal/web"
)

// upload posts a file as the profile's avatar form does.
func (b *browser) upload(path, field, name string, data []byte, csrf string) page {
	b.e.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("csrf", csrf)
	fw, _ := mw.CreateFormFile(field, name)
	_, _ = fw.Write(data)
	_ = mw.Close()
	req, _ := http.NewRequest(http.MethodPost, b.e.url+path, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return b.roundTrip(req)
}

func pngOf(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	img.Set(0, 0, color.RGBA{R: 200, A: 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// A teammate uploads an avatar on the profile page: it is served at the
// URL the API's admin object gives, a new upload retires the old URL,
// non-pictures and oversized pictures are refused with a message, and
// removing it clears the API's avatar.
func TestAvatar(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, web.Options{})
		secret := "tok_" + ids.Secret(16)
		if _, err := store.NewWorkspaces(db).CreateToken(t.Context(), e.ws.ID, e.agent.ID, "me", ids.HashToken(secret)); err != nil {
			t.Fatal(err)
		}
		apiSrv := httptest.NewServer(api.New(db, api.Options{}, nil))
		t.Cleanup(apiSrv.Close)
		me := func() any {
			req, _ := http.NewRequest(http.MethodGet, apiSrv.URL+"/me", nil)
			req.Header.Set("Authorization", "Bearer "+secret)
			req.Header.Set("Accept", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var m map[string]any
			_ = json.NewDecoder(resp.Body).Decode(&m)
			// /me gives Intercom's {"type":"avatar","image_url":…}.
			av, _ := m["avatar"].(map[string]any)
			return av["image_url"]
		}
		fetch := func(u string) (int, string, []byte) {
			resp, err := http.Get(u)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, resp.Header.Get("Content-Type"), b
		}

		b := e.browser()
		b.mustSignin(e.agent.Email)
		csrf := b.csrf("/app/profile")
		want(t, b.upload("/app/profile/avatar", "avatar", "notes.txt", []byte("hello, not a picture"), csrf), http.StatusBadRequest, "not a PNG, JPEG or GIF")
		want(t, b.upload("/app/profile/avatar", "avatar", "huge.png", pngOf(t, 5000, 10), csrf), http.StatusBadRequest, "at most 4096 pixels")
		want(t, b.upload("/app/profile/avatar", "avatar", "big.png", append(pngOf(t, 10, 10), make([]byte, 600<<10)...), csrf), http.StatusBadRequest, "larger than 512 KB")
		if got := me(); got != nil {
			t.Fatalf("refused uploads changed the avatar: %v", got)
		}

		pic := pngOf(t, 64, 64)
		if p := b.upload("/app/profile/avatar", "avatar", "me.png", pic, csrf); p.status != http.StatusSeeOther {
			t.Fatalf("upload: %d %s", p.status, p.body)
		}
		first, _ := me().(string)
		if !strings.HasPrefix(first, e.url+"/avatars/"+e.ws.ID+"/") {
			t.Fatalf("API avatar after upload: %q", first)
		}
		if st, ct, body := fetch(first); st != 200 || ct != "image/png" || !bytes.Equal(body, pic) {
			t.Fatalf("GET avatar: %d %s %d bytes", st, ct, len(body))
		}
		if !strings.Contains(b.get("/app/profile").body, `src="`+first+`"`) {
			t.Fatal("the profile page does not show the avatar")
		}
		e.advance(2e9)
		if p := b.upload("/app/profile/avatar", "avatar", "me2.png", pngOf(t, 32, 32), csrf); p.status != http.StatusSeeOther {
			t.Fatalf("second upload: %d", p.status)
		}
		second, _ := me().(string)
		if second == first {
			t.Fatal("a new upload kept the same URL")
		}
		if st, _, _ := fetch(first); st != 404 {
			t.Fatalf("the old URL still answers %d", st)
		}
		// Another workspace's path with this teammate's id finds nothing.
		other, _, _ := e.workspace("Other")
		if st, _, _ := fetch(strings.Replace(second, "/avatars/"+e.ws.ID+"/", "/avatars/"+other.ID+"/", 1)); st != 404 {
			t.Fatalf("another workspace's path answers %d", st)
		}
		want(t, b.do(http.MethodPost, "/app/profile/avatar", url.Values{"remove": {"1"}}), http.StatusForbidden, "Form expired")
		if p := b.do(http.MethodPost, "/app/profile/avatar", url.Values{"csrf": {csrf}, "remove": {"1"}}); p.status != http.StatusSeeOther {
			t.Fatalf("remove: %d", p.status)
		}
		if got := me(); got != nil {
			t.Fatalf("API avatar after removal: %v", got)
		}
		if st, _, _ := fetch(second); st != 404 {
			t.Fatalf("a removed avatar still answers %d", st)
		}
	})
}
