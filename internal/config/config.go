// Package config reads Parley's configuration from command-line flags and
// PARLEY_* environment variables (flags win), with *_FILE variants for
// secrets, and validates it.
package config

import (
	"errors"
	"flag"
	"fmt"
	"net/mail"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// Config is the whole configuration of a Parley process.
type Config struct {
	Addr           string
	DataDir        string
	DatabaseURL    string
	PublicURL      string
	AdminEmail     string
	AdminPassword  string
	BootstrapToken string
	NATSURL        string
	RateLimit      int
	LogLevel       string
	PprofAddr      string
	// SearchIndexIdle is how long the in-memory search index keeps what
	// no search has used; 0 turns it off.
	SearchIndexIdle time.Duration
	searchIndexIdle string

	// Replies by email (docs/email.md). Without SMTPURL nothing is emailed.
	SMTPURL    string
	SMTPFrom   string
	SMTPListen string
	// EmailDomain is the domain of reply and inbound addresses (default:
	// the public URL's host).
	EmailDomain string
	// EmailReplyDelay is how long a teammate's reply waits for the contact
	// to see it in the Messenger before it is emailed.
	EmailReplyDelay time.Duration
	emailReplyDelay string
}

type option struct {
	flag, env, def, help string
	secret               bool
	dst                  func(*Config) *string
}

var options = []option{
	{"addr", "PARLEY_ADDR", ":8080", "address to listen on", false, func(c *Config) *string { return &c.Addr }},
	{"data", "PARLEY_DATA_DIR", "./parley-data", "data directory (SQLite database, uploads)", false, func(c *Config) *string { return &c.DataDir }},
	{"database-url", "PARLEY_DATABASE_URL", "", "database: empty for SQLite in the data dir, or a postgres:// URL", true, func(c *Config) *string { return &c.DatabaseURL }},
	{"public-url", "PARLEY_PUBLIC_URL", "", "the URL people reach Parley at (default http://localhost<addr>)", false, func(c *Config) *string { return &c.PublicURL }},
	{"admin-email", "PARLEY_ADMIN_EMAIL", "", "owner email on first start", false, func(c *Config) *string { return &c.AdminEmail }},
	{"admin-password", "PARLEY_ADMIN_PASSWORD", "", "owner password on first start (generated if empty)", true, func(c *Config) *string { return &c.AdminPassword }},
	{"bootstrap-token", "PARLEY_BOOTSTRAP_TOKEN", "", "make sure an access token with this value exists for the default workspace", true, func(c *Config) *string { return &c.BootstrapToken }},
	{"nats-url", "PARLEY_NATS_URL", "", "NATS URL for multi-node installations", false, func(c *Config) *string { return &c.NATSURL }},
	{"pprof-addr", "PARLEY_PPROF_ADDR", "", "serve Go's net/http/pprof profiles on this address (e.g. 127.0.0.1:6060); off when empty", false, func(c *Config) *string { return &c.PprofAddr }},
	{"search-index-idle", "PARLEY_SEARCH_INDEX_IDLE", "5m", "how long the in-memory search index keeps a workspace or column no search has used (a Go duration); 0 turns the index off", false, func(c *Config) *string { return &c.searchIndexIdle }},
	{"smtp-url", "PARLEY_SMTP_URL", "", "outgoing mail server, smtp://user:pass@host:port (STARTTLS when offered) or smtps:// (implicit TLS); nothing is emailed when empty", true, func(c *Config) *string { return &c.SMTPURL }},
	{"smtp-from", "PARLEY_SMTP_FROM", "", "From address of emailed replies (default parley@<email domain>)", false, func(c *Config) *string { return &c.SMTPFrom }},
	{"email-reply-delay", "PARLEY_EMAIL_REPLY_DELAY", "5m", "how long a teammate's reply waits to be seen in the Messenger before it is emailed (a Go duration)", false, func(c *Config) *string { return &c.emailReplyDelay }},
	{"smtp-listen", "PARLEY_SMTP_LISTEN", "", "address of the inbound SMTP server receiving replies and new conversations (e.g. :2525); off when empty", false, func(c *Config) *string { return &c.SMTPListen }},
	{"email-domain", "PARLEY_EMAIL_DOMAIN", "", "domain of reply and inbound addresses (default: the public URL's host)", false, func(c *Config) *string { return &c.EmailDomain }},
	{"log-level", "PARLEY_LOG_LEVEL", "info", "debug, info, warn or error", false, func(c *Config) *string { return &c.LogLevel }},
}

// Register adds the server flags to fs and returns a function that, after
// fs.Parse, resolves the configuration from flags, environment and defaults.
func Register(fs *flag.FlagSet) func() (*Config, error) {
	vals := make([]*string, len(options))
	for i, o := range options {
		vals[i] = fs.String(o.flag, "", fmt.Sprintf("%s (env %s, default %q)", o.help, o.env, o.def))
	}
	rate := fs.Int("rate-limit", 0, "API calls per minute per token (env PARLEY_RATE_LIMIT, default 10000)")
	return func() (*Config, error) {
		c := &Config{}
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		for i, o := range options {
			v := o.def
			if env, ok, err := lookupEnv(o.env, o.secret); err != nil {
				return nil, err
			} else if ok {
				v = env
			}
			if set[o.flag] {
				v = *vals[i]
			}
			*o.dst(c) = v
		}
		c.RateLimit = 10000
		if v := os.Getenv("PARLEY_RATE_LIMIT"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return nil, fmt.Errorf("PARLEY_RATE_LIMIT must be a positive integer, not %q", v)
			}
			c.RateLimit = n
		}
		if set["rate-limit"] {
			c.RateLimit = *rate
		}
		d, err := time.ParseDuration(c.searchIndexIdle)
		if c.searchIndexIdle == "0" {
			d, err = 0, nil
		}
		if err != nil || d < 0 {
			return nil, fmt.Errorf("search index idle time must be a duration such as 5m, or 0, not %q", c.searchIndexIdle)
		}
		c.SearchIndexIdle = d
		if c.EmailReplyDelay, err = time.ParseDuration(c.emailReplyDelay); c.emailReplyDelay == "0" {
			c.EmailReplyDelay, err = 0, nil
		}
		if err != nil || c.EmailReplyDelay < 0 {
			return nil, fmt.Errorf("email reply delay must be a duration such as 5m, not %q", c.emailReplyDelay)
		}
		c.defaultEmail()
		return c, c.Validate()
	}
}

// lookupEnv reads NAME, or for secrets the file named by NAME_FILE.
func lookupEnv(name string, secret bool) (string, bool, error) {
	if v, ok := os.LookupEnv(name); ok {
		return v, true, nil
	}
	if secret {
		if path, ok := os.LookupEnv(name + "_FILE"); ok {
			b, err := os.ReadFile(path)
			if err != nil {
				return "", false, fmt.Errorf("%s_FILE: %w", name, err)
			}
			return strings.TrimSpace(string(b)), true, nil
		}
	}
	return "", false, nil
}

// Validate checks the configuration is usable.
func (c *Config) Validate() error {
	var errs []error
	if c.Addr == "" {
		errs = append(errs, errors.New("addr must not be empty"))
	}
	if c.DataDir == "" {
		errs = append(errs, errors.New("data dir must not be empty"))
	}
	if c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("public URL %q must be an absolute http(s) URL", c.PublicURL))
		}
	}
	if c.BootstrapToken != "" && len(c.BootstrapToken) < 16 {
		errs = append(errs, errors.New("PARLEY_BOOTSTRAP_TOKEN must be at least 16 characters"))
	}
	if c.RateLimit < 1 {
		errs = append(errs, errors.New("rate limit must be positive"))
	}
	if c.SMTPURL != "" {
		u, err := url.Parse(c.SMTPURL)
		if err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Hostname() == "" {
			errs = append(errs, errors.New("PARLEY_SMTP_URL must be smtp://[user:pass@]host[:port] or smtps://…"))
		}
	}
	if c.SMTPFrom != "" {
		if _, err := mail.ParseAddress(c.SMTPFrom); err != nil {
			errs = append(errs, fmt.Errorf("PARLEY_SMTP_FROM %q is not an email address", c.SMTPFrom))
		}
	}
	if strings.ContainsAny(c.EmailDomain, "@ /:") {
		errs = append(errs, fmt.Errorf("email domain %q must be a domain name", c.EmailDomain))
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("log level %q must be debug, info, warn or error", c.LogLevel))
	}
	return errors.Join(errs...)
}

// defaultEmail fills the email domain from the public URL's host and the
// From address from the domain.
func (c *Config) defaultEmail() {
	if c.EmailDomain == "" {
		c.EmailDomain = "localhost"
		if u, err := url.Parse(c.PublicURL); err == nil && u.Hostname() != "" {
			c.EmailDomain = u.Hostname()
		}
	}
	c.EmailDomain = strings.ToLower(c.EmailDomain)
	if c.SMTPFrom == "" {
		c.SMTPFrom = "parley@" + c.EmailDomain
	}
}

// SignInURL is where teammates sign in.
func (c *Config) SignInURL() string {
	base := c.PublicURL
	if base == "" {
		host := c.Addr
		if strings.HasPrefix(host, ":") {
			host = "localhost" + host
		}
		base = "http://" + host
	}
	return strings.TrimSuffix(base, "/") + "/signin"
}
