package api

import (
	"context"
	"encoding/json"
	"hash/fnv"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/parleyhq/parley/internal/attribute"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/dataevent"
	"github.com/parleyhq/parley/internal/eventlog"
	"github.com/parleyhq/parley/internal/ids"
	"github.com/parleyhq/parley/internal/messenger"
	"github.com/parleyhq/parley/internal/store"
)

// The Messenger's endpoints (docs/messenger.md): Parley's own, under
// /messenger/v1/, open to any origin, authenticated by a signed session
// token issued at boot.
type messengerAPI struct {
	s       *Server
	st      *store.Messenger
	convs   *store.Conversations
	limiter *limiter
	configs sync.Map     // workspace id → cachedConfig
	parsed  parsedEvents // conversation events as the socket reads them
}

type cachedConfig struct {
	cfg     *store.MessengerConfig
	expires time.Time
}

func (s *Server) messengerRoutes() {
	convs := store.NewConversations(s.db)
	m := &messengerAPI{s: s, st: store.NewMessenger(s.db), convs: convs, limiter: newLimiter(s.opts.RateLimit)}
	s.messenger = m
	s.mux.Handle("OPTIONS /messenger/v1/", http.HandlerFunc(preflight))
	s.mux.Handle("POST /messenger/v1/boot", m.public(m.boot))
	s.mux.Handle("POST /messenger/v1/update", m.session(m.update))
	s.mux.Handle("POST /messenger/v1/events", m.session(m.trackEvent))
	s.mux.Handle("GET /messenger/v1/conversations", m.session(m.listConversations))
	s.mux.Handle("POST /messenger/v1/conversations", m.session(m.startConversation))
	s.mux.Handle("GET /messenger/v1/conversations/{id}", m.session(m.getConversation))
	s.mux.Handle("POST /messenger/v1/conversations/{id}/reply", m.session(m.reply))
	s.mux.Handle("POST /messenger/v1/conversations/{id}/seen", m.session(m.seen))
	s.mux.Handle("POST /messenger/v1/conversations/{id}/typing", m.session(m.typingNotice))
	s.mux.Handle("POST /messenger/v1/conversations/{id}/rating", m.session(m.rate))
	s.mux.Handle("POST /messenger/v1/attachments", m.session(m.upload))
	s.mux.Handle("GET /messenger/v1/attachments/{id}/{name}", m.public(m.download))
	s.mux.Handle("GET /messenger/v1/realtime", m.public(m.realtime))
	s.handle("GET /messenger/settings", m.getSettings)
	s.handle("PUT /messenger/settings", m.putSettings)
	s.handle("POST /conversations/{id}/typing", m.adminTyping)
	s.handle("POST /conversations/{id}/seen", m.adminSeen)
	m.visitorRoutes()
}

// cors lets any origin call the Messenger: it runs on customers' sites.
// No cookies are used, so no credentials are allowed.
func cors(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Expose-Headers", "X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset")
}

func preflight(w http.ResponseWriter, r *http.Request) {
	cors(w)
	h := w.Header()
	h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
	h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Idempotency-Key")
	h.Set("Access-Control-Max-Age", "86400")
	w.WriteHeader(http.StatusNoContent)
}

// public wraps an endpoint that authenticates itself (boot, downloads,
// the socket).
func (m *messengerAPI) public(h handler) http.Handler {
	wrapped := m.s.wrap(h, false)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cors(w)
		wrapped.ServeHTTP(w, r)
	})
}

// visitorSession is the caller of a Messenger call.
type visitorSession struct {
	ws      string
	sess    messenger.Session
	cfg     *store.MessengerConfig
	visitor *messenger.Visitor // for an anonymous session (v:)
	contact *contact.Contact   // the lead or user; nil while anonymous
}

// uploaders are the subjects whose uploads this session may use.
func (v *visitorSession) uploaders() []string {
	out := []string{v.sess.Subject}
	if v.visitor != nil {
		out = append(out, "v:"+v.visitor.ID)
	}
	if v.contact != nil {
		out = append(out, "c:"+v.contact.ID)
	}
	return out
}

type sessionKey struct{}

func sessionOf(r *http.Request) *visitorSession {
	v, _ := r.Context().Value(sessionKey{}).(*visitorSession)
	return v
}

var errSession = errf(http.StatusUnauthorized, "unauthorized", "Messenger session invalid or expired; boot again")

// session wraps an endpoint that needs a session token, rate limited per
// session subject.
func (m *messengerAPI) session(h handler) http.Handler {
	return m.public(func(w http.ResponseWriter, r *http.Request) error {
		scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			return errSession
		}
		vs, err := m.resolve(r.Context(), strings.TrimSpace(token))
		if err != nil {
			return err
		}
		if err := m.limit(w, vs.ws+vs.sess.Subject); err != nil {
			return err
		}
		return h(w, r.WithContext(context.WithValue(r.Context(), sessionKey{}, vs)))
	})
}

// limit counts a call against key's rate limit.
func (m *messengerAPI) limit(w http.ResponseWriter, key string) error {
	f := fnv.New64a()
	f.Write([]byte(key))
	limit, remaining, reset, ok := m.limiter.take(int64(f.Sum64()>>1), time.Now())
	w.Header().Set("X-RateLimit-Limit", itoa(int64(limit)))
	w.Header().Set("X-RateLimit-Remaining", itoa(int64(remaining)))
	w.Header().Set("X-RateLimit-Reset", itoa(reset))
	if !ok {
		return errf(http.StatusTooManyRequests, "rate_limit_exceeded", "Rate limit exceeded: at most %d calls a minute, spread over 10-second windows", limit)
	}
	return nil
}

// config returns a workspace's Messenger configuration, cached for 10 s.
func (m *messengerAPI) config(ctx context.Context, ws string) (*store.MessengerConfig, error) {
	now := time.Now()
	if c, ok := m.configs.Load(ws); ok && now.Before(c.(cachedConfig).expires) {
		return c.(cachedConfig).cfg, nil
	}
	cfg, err := m.st.Config(ctx, ws)
	if err != nil {
		return nil, err
	}
	m.configs.Store(ws, cachedConfig{cfg: cfg, expires: now.Add(10 * time.Second)})
	return cfg, nil
}

// resolve verifies a session token and loads who it names: the visitor of
// an anonymous session (and the lead it became), or the contact. A
// visitor that has become a user is not that user: its session ends.
func (m *messengerAPI) resolve(ctx context.Context, token string) (*visitorSession, error) {
	ws, ok := messenger.PeekWorkspace(token)
	if !ok {
		return nil, errSession
	}
	cfg, err := m.config(ctx, ws)
	if isNotFound(err) {
		return nil, errSession
	}
	if err != nil {
		return nil, err
	}
	sess, err := messenger.VerifySession(cfg.SessionKey, token, time.Now())
	if err != nil {
		return nil, errSession
	}
	vs := &visitorSession{ws: ws, sess: sess, cfg: cfg}
	contactID := sess.ContactID()
	if id := sess.VisitorID(); id != "" {
		v, err := m.st.VisitorBy(ctx, ws, "id", id)
		if isNotFound(err) {
			return nil, errSession
		}
		if err != nil {
			return nil, err
		}
		vs.visitor = v
		if v.ContactID == nil {
			return vs, nil
		}
		contactID = *v.ContactID
	}
	c, err := m.st.Contact(ctx, ws, contactID)
	if isNotFound(err) {
		return nil, errSession
	}
	if err != nil {
		return nil, err
	}
	if vs.visitor != nil && c.Role == contact.RoleUser {
		return nil, errSession
	}
	vs.contact = c
	return vs, nil
}

// messengerAttrs are the attributes boot and update set.
type messengerAttrs struct {
	Name             opt[string]                     `json:"name"`
	Email            opt[string]                     `json:"email"`
	Phone            opt[string]                     `json:"phone"`
	LanguageOverride opt[string]                     `json:"language_override"`
	CustomAttributes opt[map[string]json.RawMessage] `json:"custom_attributes"`
}

// writableDefs returns the custom attributes the Messenger may write,
// refusing any other name in raw.
func (m *messengerAPI) writableDefs(ctx context.Context, ws string, raw map[string]json.RawMessage) (attribute.Defs, error) {
	list, err := m.s.attributes.Custom(ctx, ws, attribute.ModelContact, true)
	if err != nil {
		return nil, err
	}
	defs := attribute.Index(list)
	for name := range raw {
		if d, ok := defs[name]; ok && !d.MessengerWritable {
			return nil, fieldErr("custom_attributes."+name, "Custom attribute '%s' is not writable from the Messenger (set messenger_writable on the data attribute)", name)
		}
	}
	if _, err := defs.Validate(raw); err != nil {
		return nil, err
	}
	return defs, nil
}

// applyToContact sets the attributes on a contact (the REST API's rules).
func (m *messengerAPI) applyToContact(r *http.Request, c *contact.Contact, a messengerAttrs, defs attribute.Defs) error {
	in := contactInput{Name: a.Name, Email: a.Email, Phone: a.Phone, LanguageOverride: a.LanguageOverride, CustomAttributes: a.CustomAttributes}
	return m.s.applyContactInput(r, c, &in, defs)
}

// applyToVisitor sets the attributes on an anonymous visitor (no email:
// an email makes it a lead).
func applyToVisitor(v *messenger.Visitor, a messengerAttrs, defs attribute.Defs) error {
	if err := strField("name", a.Name, &v.Name, contact.MaxLen["name"]); err != nil {
		return err
	}
	if err := strField("phone", a.Phone, &v.Phone, contact.MaxLen["phone"]); err != nil {
		return err
	}
	if a.CustomAttributes.Set && !a.CustomAttributes.Null {
		vals, err := defs.Validate(a.CustomAttributes.Value)
		if err != nil {
			return err
		}
		if v.CustomAttributes == nil {
			v.CustomAttributes = map[string]any{}
		}
		for k, val := range vals {
			if val == nil {
				delete(v.CustomAttributes, k)
			} else {
				v.CustomAttributes[k] = val
			}
		}
	}
	return nil
}

type bootIn struct {
	AppID           opt[string]          `json:"app_id"`
	VisitorToken    opt[string]          `json:"visitor_token"`
	UserID          opt[string]          `json:"user_id"`
	UserHash        opt[string]          `json:"user_hash"`
	IntercomUserJWT opt[string]          `json:"intercom_user_jwt"`
	CreatedAt       opt[json.RawMessage] `json:"created_at"`
	PageURL         opt[string]          `json:"page_url"`
	messengerAttrs
}

// publicSettings is what boot tells the widget.
type publicSettings struct {
	AppName           string   `json:"app_name"`
	Color             string   `json:"color"`
	SecondaryColor    string   `json:"secondary_color"`
	Alignment         string   `json:"alignment"`
	HorizontalPadding int      `json:"horizontal_padding"`
	VerticalPadding   int      `json:"vertical_padding"`
	Greeting          string   `json:"greeting"`
	ExpectedReply     string   `json:"expected_reply"`
	Online            bool     `json:"online"`
	UploadMaxBytes    int64    `json:"upload_max_bytes"`
	UploadTypes       []string `json:"upload_types"`
}

type bootContact struct {
	ID    string  `json:"id"`
	Role  string  `json:"role"`
	Name  *string `json:"name"`
	Email *string `json:"email"`
}

var errIdentity = errf(http.StatusUnauthorized, "unauthorized", "Identity verification failed: send a valid user_hash or intercom_user_jwt")

// identity works out who a boot identifies, verifying signatures: a JWT's
// claims are the identity; a user_hash must sign user_id (or email); when
// the workspace enforces verification an unsigned identity is refused. A
// signature that is present but wrong is always refused.
func identity(cfg *store.MessengerConfig, in *bootIn) (userID, email string, err error) {
	userID, email = strings.TrimSpace(in.UserID.Value), strings.TrimSpace(in.Email.Value)
	switch {
	case in.IntercomUserJWT.Value != "":
		id, err := messenger.VerifyJWT(cfg.Secret, in.IntercomUserJWT.Value, time.Now())
		if err != nil {
			return "", "", errIdentity
		}
		if (userID != "" && userID != id.UserID) || (email != "" && id.Email != "" && email != id.Email) {
			return "", "", errIdentity
		}
		userID = id.UserID
		if id.Email != "" {
			email = id.Email
		}
	case in.UserHash.Value != "":
		signed := userID
		if signed == "" {
			signed = email
		}
		if signed == "" || !messenger.CheckUserHash(cfg.Secret, signed, in.UserHash.Value) {
			return "", "", errIdentity
		}
	case (userID != "" || email != "") && cfg.Enforced:
		return "", "", errIdentity
	}
	return userID, email, nil
}

// boot is POST /messenger/v1/boot: start (or resume) a Messenger session.
func (m *messengerAPI) boot(w http.ResponseWriter, r *http.Request) error {
	if err := m.limit(w, "ip:"+clientIP(r)); err != nil {
		return err
	}
	var in bootIn
	if err := m.s.decode(w, r, &in); err != nil {
		return err
	}
	ws := strings.TrimSpace(in.AppID.Value)
	if ws == "" {
		return missing("app_id")
	}
	ctx := r.Context()
	cfg, err := m.config(ctx, ws)
	if isNotFound(err) {
		return notFound("app_not_found", "No Messenger with app_id %q", ws)
	}
	if err != nil {
		return err
	}
	userID, email, err := identity(cfg, &in)
	if err != nil {
		return err
	}
	defs, err := m.writableDefs(ctx, ws, in.CustomAttributes.Value)
	if err != nil {
		return err
	}
	// The visitor of the token, unless unknown.
	var v *messenger.Visitor
	token := strings.TrimSpace(in.VisitorToken.Value)
	if token != "" && len(token) <= 256 {
		v, err = m.st.VisitorByToken(ctx, ws, ids.HashToken(token))
		if isNotFound(err) {
			v, err = nil, nil
		}
		if err != nil {
			return err
		}
	}
	identified := userID != "" || email != ""
	var lead *contact.Contact // the lead the visitor became
	if v != nil && v.ContactID != nil {
		c, err := m.st.Contact(ctx, ws, *v.ContactID)
		switch {
		case isNotFound(err):
		case err != nil:
			return err
		case c.Role == contact.RoleLead:
			lead = c
		case !identified:
			v = nil // a user's visitor token does not make an anonymous visitor that user
		}
	}
	if v == nil {
		token = ids.Secret(32)
	}
	r = r.WithContext(context.WithValue(ctx, keyAuth, &Auth{WorkspaceID: ws, Version: m.s.opts.DefaultVersion}))
	var subject string
	var who bootContact
	fresh := v == nil
	err = m.s.db.InTx(ctx, func(tx *store.Tx) error {
		if fresh {
			v = &messenger.Visitor{WorkspaceID: ws}
			if !identified {
				if err := applyToVisitor(v, in.messengerAttrs, defs); err != nil {
					return err
				}
			}
			if err := m.st.CreateVisitorIn(ctx, tx, v, ids.HashToken(token)); err != nil {
				return err
			}
		}
		if !identified {
			subject = "v:" + v.ID
			changes := in.Name.Set || in.Phone.Set || in.LanguageOverride.Set || in.CustomAttributes.Set
			if lead != nil {
				if err := m.applyToContact(r, lead, in.messengerAttrs, defs); err != nil {
					return err
				}
				who = bootContact{ID: lead.ID, Role: lead.Role, Name: lead.Name, Email: lead.Email}
				if !changes {
					return nil
				}
				return m.s.contacts.UpdateIn(ctx, tx, lead, lead.Role)
			}
			if changes && !fresh {
				if err := applyToVisitor(v, in.messengerAttrs, defs); err != nil {
					return err
				}
				if err := m.st.UpdateVisitorIn(ctx, tx, v); err != nil {
					return err
				}
			}
			who = bootContact{ID: v.ID, Role: "visitor", Name: v.Name, Email: v.Email}
			return nil
		}
		user, err := m.st.UserIn(ctx, tx, ws, userID, email)
		created := isNotFound(err)
		if created {
			user = &contact.Contact{WorkspaceID: ws, ID: ids.New(), Role: contact.RoleUser}
		} else if err != nil {
			return err
		}
		attrs := in.messengerAttrs
		if userID != "" {
			attrs.Email = opt[string]{}
			if email != "" && (user.Email == nil || created) {
				attrs.Email = opt[string]{Set: true, Value: email}
			}
		} else {
			attrs.Email = opt[string]{Set: true, Value: email}
		}
		if userID != "" && user.ExternalID == nil {
			user.ExternalID = &userID
		}
		if err := m.applyToContact(r, user, attrs, defs); err != nil {
			return err
		}
		if in.CreatedAt.Set && !in.CreatedAt.Null {
			if err := timeField("created_at", in.CreatedAt, &user.SignedUpAt); err != nil {
				return err
			}
		}
		if created {
			err = m.s.contacts.CreateIn(ctx, tx, user)
		} else {
			err = m.s.contacts.UpdateIn(ctx, tx, user, user.Role)
		}
		if err != nil {
			return err
		}
		if lead != nil && lead.ID != user.ID {
			if user, err = m.s.contacts.MergeIn(ctx, tx, ws, lead.ID, user.ID); err != nil {
				return err
			}
		}
		subject = "c:" + user.ID
		who = bootContact{ID: user.ID, Role: user.Role, Name: user.Name, Email: user.Email}
		return m.st.LinkVisitorIn(ctx, tx, v, user)
	})
	if err != nil {
		return err
	}
	session := messenger.SignSession(cfg.SessionKey, messenger.Session{Workspace: ws, Subject: subject, Expires: time.Now().Add(messenger.SessionTTL).Unix()})
	unread := 0
	if who.Role != "visitor" {
		list, err := m.summaries(ctx, ws, who.ID)
		if err != nil {
			return err
		}
		unread = unreadCount(list)
	}
	after, err := eventlog.Head(ctx, m.s.db.Read(), ws)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"session_token": session, "visitor_token": token, "visitor_id": v.UserID, "contact": who,
		"settings": m.publicSettings(ctx, ws, cfg), "unread_count": unread, "after": after,
	})
	return nil
}

func (m *messengerAPI) publicSettings(ctx context.Context, ws string, cfg *store.MessengerConfig) publicSettings {
	st := cfg.Settings
	loc := time.UTC
	if st.OfficeHours.TimeZone != "" {
		if l, err := time.LoadLocation(st.OfficeHours.TimeZone); err == nil {
			loc = l
		}
	} else if w, err := m.s.workspaces.Workspace(ctx, ws); err == nil {
		loc = w.Location()
	}
	av := st.Available(time.Now(), loc)
	return publicSettings{AppName: st.AppName, Color: st.Color, SecondaryColor: st.SecondaryColor, Alignment: st.Alignment,
		HorizontalPadding: st.HorizontalPadding, VerticalPadding: st.VerticalPadding, Greeting: st.Greeting,
		ExpectedReply: av.ExpectedReply, Online: av.Online, UploadMaxBytes: st.UploadMaxBytes, UploadTypes: st.UploadTypes}
}

// clientIP is the peer's address (no proxy headers are trusted).
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// withAuth gives a Messenger request the Auth the shared REST helpers
// expect (the workspace, default version).
func (m *messengerAPI) withAuth(r *http.Request, ws string) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), keyAuth, &Auth{WorkspaceID: ws, Version: m.s.opts.DefaultVersion}))
}

// update is POST /messenger/v1/update (Intercom('update')).
func (m *messengerAPI) update(w http.ResponseWriter, r *http.Request) error {
	vs := sessionOf(r)
	var in struct {
		UserID opt[string] `json:"user_id"`
		messengerAttrs
	}
	if err := m.s.decode(w, r, &in); err != nil {
		return err
	}
	if in.UserID.Set {
		return fieldErr("user_id", "user_id cannot be changed by update; boot with it to identify the user")
	}
	ctx := r.Context()
	defs, err := m.writableDefs(ctx, vs.ws, in.CustomAttributes.Value)
	if err != nil {
		return err
	}
	if vs.contact != nil && vs.contact.Role == contact.RoleUser && vs.cfg.Enforced && in.Email.Set {
		return fieldErr("email", "email is part of a verified identity; boot with a new signature to change it")
	}
	r = m.withAuth(r, vs.ws)
	var who bootContact
	err = m.s.db.InTx(ctx, func(tx *store.Tx) error {
		c := vs.contact
		if c == nil {
			if !in.Email.Set || in.Email.Null || strings.TrimSpace(in.Email.Value) == "" {
				if err := applyToVisitor(vs.visitor, in.messengerAttrs, defs); err != nil {
					return err
				}
				who = bootContact{ID: vs.visitor.ID, Role: "visitor", Name: vs.visitor.Name, Email: nil}
				return m.st.UpdateVisitorIn(ctx, tx, vs.visitor)
			}
			// Leaving an email makes the visitor a lead.
			lead, err := m.st.LeadFromVisitorIn(ctx, tx, vs.visitor)
			if err != nil {
				return err
			}
			if err := m.applyToContact(r, lead, in.messengerAttrs, defs); err != nil {
				return err
			}
			who = bootContact{ID: lead.ID, Role: lead.Role, Name: lead.Name, Email: lead.Email}
			return m.s.contacts.UpdateIn(ctx, tx, lead, lead.Role)
		}
		if err := m.applyToContact(r, c, in.messengerAttrs, defs); err != nil {
			return err
		}
		who = bootContact{ID: c.ID, Role: c.Role, Name: c.Name, Email: c.Email}
		return m.s.contacts.UpdateIn(ctx, tx, c, c.Role)
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"contact": who})
	return nil
}

// trackEvent is POST /messenger/v1/events (Intercom('trackEvent')). Like
// Intercom, events are recorded for leads and users; an anonymous
// visitor's are accepted and dropped.
func (m *messengerAPI) trackEvent(w http.ResponseWriter, r *http.Request) error {
	vs := sessionOf(r)
	var in struct {
		EventName opt[string]          `json:"event_name"`
		Metadata  opt[json.RawMessage] `json:"metadata"`
	}
	if err := m.s.decode(w, r, &in); err != nil {
		return err
	}
	if !in.EventName.Set || in.EventName.Null {
		return missing("event_name")
	}
	if err := dataevent.ValidateName("event_name", in.EventName.Value); err != nil {
		return eventErr(err)
	}
	md, err := dataevent.ValidateMetadata(in.Metadata.Value)
	if err != nil {
		return eventErr(err)
	}
	if vs.contact != nil {
		e := &dataevent.Event{EventName: in.EventName.Value, CreatedAt: time.Now().Unix(), Metadata: md}
		if _, err := store.NewDataEvents(m.s.db).Create(r.Context(), vs.contact, e); err != nil {
			return err
		}
	}
	w.WriteHeader(http.StatusAccepted)
	return nil
}
