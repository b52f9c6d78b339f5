package config

import (
	"flag"
	"os"
	"strings"
	"testing"
	"time"
)

func load(t *testing.T, env map[string]string, args ...string) (*Config, error) {
	t.Helper()
	for _, k := range []string{"PARLEY_SMTP_URL", "PARLEY_SMTP_FROM", "PARLEY_SMTP_LISTEN", "PARLEY_EMAIL_DOMAIN", "PARLEY_EMAIL_REPLY_DELAY", "PARLEY_PUBLIC_URL"} {
		t.Setenv(k, env[k]) // restored when the test ends
		if _, ok := env[k]; !ok {
			os.Unsetenv(k)
		}
	}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	resolve := Register(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return resolve()
}

// TestEmailSettings: defaults follow the public URL; bad values stop the
// start with a message naming the setting.
func TestEmailSettings(t *testing.T) {
	c, err := load(t, map[string]string{"PARLEY_PUBLIC_URL": "https://Help.Acme.test/"})
	if err != nil {
		t.Fatal(err)
	}
	if c.SMTPURL != "" || c.EmailDomain != "help.acme.test" || c.SMTPFrom != "parley@help.acme.test" || c.EmailReplyDelay != 5*time.Minute || c.SMTPListen != "" {
		t.Fatalf("defaults: %+v", c)
	}
	c, err = load(t, map[string]string{"PARLEY_SMTP_URL": "smtps://u:p@mail.acme.test", "PARLEY_EMAIL_REPLY_DELAY": "30s", "PARLEY_SMTP_LISTEN": ":2525"},
		"--email-domain", "in.acme.test", "--smtp-from", "Support <support@acme.test>")
	if err != nil {
		t.Fatal(err)
	}
	if c.EmailDomain != "in.acme.test" || c.SMTPFrom != "Support <support@acme.test>" || c.EmailReplyDelay != 30*time.Second || c.SMTPListen != ":2525" {
		t.Fatalf("set: %+v", c)
	}
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"PARLEY_SMTP_URL": "http://mail.acme.test"}, "PARLEY_SMTP_URL"},
		{map[string]string{"PARLEY_SMTP_URL": "smtp://"}, "PARLEY_SMTP_URL"},
		{map[string]string{"PARLEY_SMTP_FROM": "not an address"}, "PARLEY_SMTP_FROM"},
		{map[string]string{"PARLEY_EMAIL_DOMAIN": "a@b"}, "email domain"},
		{map[string]string{"PARLEY_EMAIL_REPLY_DELAY": "soon"}, "email reply delay"},
		{map[string]string{"PARLEY_EMAIL_REPLY_DELAY": "-1m"}, "email reply delay"},
	} {
		if _, err := load(t, tc.env); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want one naming %s", tc.env, err, tc.want)
		}
	}
}
