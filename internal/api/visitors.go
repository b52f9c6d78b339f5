package api

import (
	"context"
	"net/http"
	"strings"

	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/ids"
	"github.com/parleyhq/parley/internal/messenger"
	"github.com/parleyhq/parley/internal/store"
)

// Intercom's Visitors API (2.14) over the Messenger's visitors
// (docs/messenger.md): GET /visitors?user_id=, PUT /visitors,
// POST /visitors/convert.
func (m *messengerAPI) visitorRoutes() {
	m.s.handle("GET /visitors", m.getVisitor)
	m.s.handle("PUT /visitors", m.updateVisitor)
	m.s.handle("POST /visitors/convert", m.convertVisitor)
}

var errNoSuchVisitor = notFound("visitor_not_found", "Visitor Not Found")

// liveVisitor finds a visitor that has not become a contact.
func (m *messengerAPI) liveVisitor(ctx context.Context, ws, field, value string) (*messenger.Visitor, error) {
	if strings.TrimSpace(value) == "" {
		return nil, errNoSuchVisitor
	}
	v, err := m.st.VisitorBy(ctx, ws, field, value)
	if isNotFound(err) || (err == nil && v.ContactID != nil) {
		return nil, errNoSuchVisitor
	}
	return v, err
}

func (m *messengerAPI) getVisitor(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if !q.Has("user_id") {
		return missing("user_id")
	}
	v, err := m.liveVisitor(r.Context(), authOf(r.Context()).WorkspaceID, "user_id", q.Get("user_id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (m *messengerAPI) updateVisitor(w http.ResponseWriter, r *http.Request) error {
	ws := authOf(r.Context()).WorkspaceID
	var in struct {
		ID     opt[string] `json:"id"`
		UserID opt[string] `json:"user_id"`
		messengerAttrs
	}
	if err := m.s.decode(w, r, &in); err != nil {
		return err
	}
	var v *messenger.Visitor
	var err error
	switch {
	case in.ID.Value != "":
		v, err = m.liveVisitor(r.Context(), ws, "id", in.ID.Value)
	case in.UserID.Value != "":
		v, err = m.liveVisitor(r.Context(), ws, "user_id", in.UserID.Value)
	default:
		return errf(http.StatusBadRequest, "parameter_not_found", "id or user_id is required to identify the visitor")
	}
	if err != nil {
		return err
	}
	defs, err := m.s.contactDefs(r)
	if err != nil {
		return err
	}
	if err := applyToVisitor(v, in.messengerAttrs, defs); err != nil {
		return err
	}
	if in.Email.Set {
		if err := strField("email", in.Email, &v.Email, contact.MaxLen["email"]); err != nil {
			return err
		}
		if v.Email != nil && !contact.ValidEmail(*v.Email) {
			return fieldErr("email", "email %q is not a valid email address", *v.Email)
		}
	}
	if err := m.st.UpdateVisitor(r.Context(), v); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

type visitorRef struct {
	ID     opt[string] `json:"id"`
	UserID opt[string] `json:"user_id"`
	Email  opt[string] `json:"email"`
}

// convertVisitor is POST /visitors/convert: the visitor becomes a lead, or
// is merged into a user (found by id, user_id or email, created from
// user_id/email when there is none). Answers the contact.
func (m *messengerAPI) convertVisitor(w http.ResponseWriter, r *http.Request) error {
	ws := authOf(r.Context()).WorkspaceID
	var in struct {
		Type    opt[string] `json:"type"`
		Visitor visitorRef  `json:"visitor"`
		User    visitorRef  `json:"user"`
	}
	if err := m.s.decode(w, r, &in); err != nil {
		return err
	}
	if in.Type.Value != contact.RoleLead && in.Type.Value != contact.RoleUser {
		return fieldErr("type", "type must be lead or user")
	}
	ctx := r.Context()
	var v *messenger.Visitor
	var err error
	switch {
	case in.Visitor.ID.Value != "":
		v, err = m.liveVisitor(ctx, ws, "id", in.Visitor.ID.Value)
	case in.Visitor.UserID.Value != "":
		v, err = m.liveVisitor(ctx, ws, "user_id", in.Visitor.UserID.Value)
	case in.Visitor.Email.Value != "":
		v, err = m.liveVisitor(ctx, ws, "email", in.Visitor.Email.Value)
	default:
		return errf(http.StatusBadRequest, "parameter_not_found", "visitor needs an id, user_id or email")
	}
	if err != nil {
		return err
	}
	var out *contact.Contact
	err = m.s.db.InTx(ctx, func(tx *store.Tx) error {
		lead, err := m.st.LeadFromVisitorIn(ctx, tx, v)
		if err != nil {
			return err
		}
		if in.Type.Value == contact.RoleLead {
			out = lead
			return nil
		}
		var user *contact.Contact
		if id := in.User.ID.Value; id != "" {
			if user, err = m.s.contacts.GetIn(ctx, tx, ws, id); err != nil {
				if isNotFound(err) {
					return notFound("not_found", "User Not Found")
				}
				return err
			}
			if user.Role != contact.RoleUser {
				return fieldErr("user.id", "user.id must name a user, not a %s", user.Role)
			}
		} else {
			userID, email := strings.TrimSpace(in.User.UserID.Value), strings.TrimSpace(in.User.Email.Value)
			if userID == "" && email == "" {
				return errf(http.StatusBadRequest, "parameter_not_found", "user needs an id, user_id or email")
			}
			if email != "" && !contact.ValidEmail(email) {
				return fieldErr("user.email", "email %q is not a valid email address", email)
			}
			user, err = m.st.UserIn(ctx, tx, ws, userID, email)
			if isNotFound(err) {
				user = &contact.Contact{WorkspaceID: ws, ID: ids.New(), Role: contact.RoleUser}
				if userID != "" {
					user.ExternalID = &userID
				}
				if email != "" {
					user.Email = &email
				}
				err = m.s.contacts.CreateIn(ctx, tx, user)
			}
			if err != nil {
				return err
			}
		}
		if out, err = m.s.contacts.MergeIn(ctx, tx, ws, lead.ID, user.ID); err != nil {
			return err
		}
		return m.st.LinkVisitorIn(ctx, tx, v, out)
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, contactOut(r, out))
	return nil
}
