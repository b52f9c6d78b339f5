package messenger

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func TestSessionTokens(t *testing.T) {
	key := []byte("k1-0123456789abcdef0123456789abc")
	now := time.Unix(1_700_000_000, 0)
	s := Session{Workspace: "w1", Subject: "v:abc", Expires: now.Add(time.Hour).Unix()}
	tok := SignSession(key, s)
	got, err := VerifySession(key, tok, now)
	if err != nil || got != s || got.VisitorID() != "abc" || got.ContactID() != "" {
		t.Fatalf("verify: %+v %v", got, err)
	}
	if ws, ok := PeekWorkspace(tok); !ok || ws != "w1" {
		t.Fatalf("peek %q", ws)
	}
	if _, err := VerifySession([]byte("another key"), tok, now); err == nil {
		t.Fatal("a token verified with another key")
	}
	if _, err := VerifySession(key, tok, now.Add(2*time.Hour)); err == nil {
		t.Fatal("an expired token verified")
	}
	// Changing the payload (another workspace or subject) breaks the MAC.
	_, sig, _ := strings.Cut(strings.TrimPrefix(tok, "ms1."), ".")
	forged := Session{Workspace: "w2", Subject: "c:someone", Expires: s.Expires}
	b, _ := json.Marshal(forged)
	if _, err := VerifySession(key, "ms1."+encode(b)+"."+sig, now); err == nil {
		t.Fatal("a forged payload verified")
	}
	for _, bad := range []string{"", "ms1.", "ms1.a.b", "xx", tok + "x", strings.Repeat("a", 2000)} {
		if _, err := VerifySession(key, bad, now); err == nil {
			t.Fatalf("%q verified", bad)
		}
	}
	if _, err := VerifySession(key, SignSession(key, Session{Workspace: "w1", Subject: "x:1", Expires: s.Expires}), now); err == nil {
		t.Fatal("a subject of no kind verified")
	}
}

func TestIdentityVerification(t *testing.T) {
	secret := "s3cr3t-s3cr3t-s3cr3t-s3cr3t-s3cr3t"
	// Intercom's documented construction: hex HMAC-SHA256(secret, user_id).
	if h := UserHash("secret", "42"); h != "93c121e7aa437a1e01e3c512c6f0ce3c821a839025dca4408f85616de4aaee70" {
		t.Fatalf("hash %s", h)
	}
	if !CheckUserHash(secret, "u1", strings.ToUpper(UserHash(secret, "u1"))) || CheckUserHash(secret, "u2", UserHash(secret, "u1")) {
		t.Fatal("user_hash check")
	}
	now := time.Now()
	sign := func(m jwt.Claims, method jwt.SigningMethod, key any) string {
		s, err := jwt.NewWithClaims(method, m).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	ok := sign(jwt.MapClaims{"user_id": "u1", "email": "a@b.co", "exp": now.Add(time.Minute).Unix()}, jwt.SigningMethodHS256, []byte(secret))
	if id, err := VerifyJWT(secret, ok, now); err != nil || id.UserID != "u1" || id.Email != "a@b.co" {
		t.Fatalf("valid jwt: %+v %v", id, err)
	}
	for name, tok := range map[string]string{
		"expired":     sign(jwt.MapClaims{"user_id": "u1", "exp": now.Add(-time.Minute).Unix()}, jwt.SigningMethodHS256, []byte(secret)),
		"wrong key":   sign(jwt.MapClaims{"user_id": "u1"}, jwt.SigningMethodHS256, []byte("other")),
		"HS512":       sign(jwt.MapClaims{"user_id": "u1"}, jwt.SigningMethodHS512, []byte(secret)),
		"no user_id":  sign(jwt.MapClaims{"email": "a@b.co"}, jwt.SigningMethodHS256, []byte(secret)),
		"alg none":    sign(jwt.MapClaims{"user_id": "u1"}, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType),
		"not a token": "abc",
	} {
		if _, err := VerifyJWT(secret, tok, now); err == nil {
			t.Fatalf("%s: verified", name)
		}
	}
}

func TestAvailability(t *testing.T) {
	s := Defaults("Acme")
	paris, _ := time.LoadLocation("Europe/Paris")
	// Wednesday 2026-11-18 10:00 in Paris.
	wed10 := time.Date(2026, 11, 18, 10, 0, 0, 0, paris)
	if a := s.Available(wed10, paris); !a.Online || a.ExpectedReply != "We usually reply in a few minutes" {
		t.Fatalf("no office hours: %+v", a)
	}
	s.OfficeHours.Days = map[string][]Interval{
		"wednesday": {{"09:00", "12:00"}, {"14:00", "18:00"}},
		"thursday":  {{"09:30", "17:00"}},
		"monday":    {{"08:00", "17:00"}},
	}
	s.ReplyTime = "a few hours"
	for _, c := range []struct {
		at     time.Time
		online bool
		text   string
	}{
		{wed10, true, "We usually reply in a few hours"},
		{wed10.Add(3 * time.Hour), false, "We'll be back today at 14:00"},
		{wed10.Add(9 * time.Hour), false, "We'll be back tomorrow at 09:30"},
		{wed10.Add(2 * 24 * time.Hour), false, "We'll be back Monday at 08:00"},          // Friday 10:00
		{wed10.Add(5*24*time.Hour - 3*time.Hour), false, "We'll be back today at 08:00"}, // Monday 07:00
		{wed10.Add(5 * 24 * time.Hour), true, "We usually reply in a few hours"},         // Monday 10:00
	} {
		got := s.Available(c.at, paris)
		if got.Online != c.online || got.ExpectedReply != c.text {
			t.Fatalf("at %s: %+v, want %v %q", c.at.In(paris), got, c.online, c.text)
		}
	}
	// The same instant is another weekday in another zone.
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	if a := s.Available(wed10, tokyo); a.Online {
		t.Fatalf("18:00 in Tokyo is after hours: %+v", a)
	}
}

func TestSettingsValidation(t *testing.T) {
	ok := Defaults("Acme")
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	for field, change := range map[string]func(s *Settings){
		"color":                  func(s *Settings) { s.Color = "red" },
		"alignment":              func(s *Settings) { s.Alignment = "middle" },
		"reply_time":             func(s *Settings) { s.ReplyTime = "never" },
		"upload_types":           func(s *Settings) { s.UploadTypes = []string{"png"} },
		"upload_max_bytes":       func(s *Settings) { s.UploadMaxBytes = MaxUploadBytes + 1 },
		"office_hours.time_zone": func(s *Settings) { s.OfficeHours.TimeZone = "Mars/Base" },
		"office_hours.monday":    func(s *Settings) { s.OfficeHours.Days = map[string][]Interval{"monday": {{"10:00", "09:00"}}} },
	} {
		s := Defaults("Acme")
		change(&s)
		err := s.Validate()
		se, isSE := err.(*SettingsError)
		if !isSE || se.Field != field {
			t.Fatalf("%s: %v", field, err)
		}
	}
	var oh OfficeHours
	if err := json.Unmarshal([]byte(`{"time_zone":"UTC","friday":[{"start":"09:00","end":"17:00"}]}`), &oh); err != nil || len(oh.Days["friday"]) != 1 {
		t.Fatalf("%+v %v", oh, err)
	}
	if err := json.Unmarshal([]byte(`{"caturday":[]}`), &oh); err == nil {
		t.Fatal("unknown day accepted")
	}
	b, _ := json.Marshal(oh)
	if !strings.Contains(string(b), `"sunday":[]`) {
		t.Fatalf("every weekday is shown: %s", b)
	}
}

func encode(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
