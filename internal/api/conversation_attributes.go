package api

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/parleyhq/parley/internal/conversation"
	"github.com/parleyhq/parley/internal/ids"
	"github.com/parleyhq/parley/internal/store"
)

// Conversation attributes (Intercom 2.16, "Conversations Attributes"): the
// typed definitions of conversations' custom_attributes. Intercom's
// relationship and files types are refused; archiving (DELETE) keeps the
// values already written but refuses new ones.

func (h *conversationAPI) attributeRoutes() {
	h.s.handle("GET /conversations/attributes", h.listAttributes)
	h.s.handle("POST /conversations/attributes", h.createAttribute)
	h.s.handle("GET /conversations/attributes/{id}", h.getAttribute)
	h.s.handle("PUT /conversations/attributes/{id}", h.updateAttribute)
	h.s.handle("DELETE /conversations/attributes/{id}", h.archiveAttribute)
	h.s.handle("POST /conversations/attributes/{id}/options", h.addOption)
	h.s.handle("PUT /conversations/attributes/{id}/options/{option_id}", h.renameOption)
	h.s.handle("DELETE /conversations/attributes/{id}/options/{option_id}", h.archiveOption)
}

var errNoSuchAttribute = notFound("conversation_attribute_not_found", "Conversation attribute not found")

func attrInvalid(field, format string, args ...any) *Error {
	e := errf(http.StatusUnprocessableEntity, "parameter_invalid", format, args...)
	e.Field = field
	return e
}

func (h *conversationAPI) listAttributes(w http.ResponseWriter, r *http.Request) error {
	all := false
	if v := r.URL.Query().Get("include_archived"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fieldErr("include_archived", "include_archived must be true or false")
		}
		all = b
	}
	list, err := h.attrs.List(r.Context(), authOf(r.Context()).WorkspaceID, all)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"type": "list", "data": list})
	return nil
}

func attrID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, errNoSuchAttribute
	}
	return id, nil
}

func (h *conversationAPI) getAttribute(w http.ResponseWriter, r *http.Request) error {
	id, err := attrID(r)
	if err != nil {
		return err
	}
	a, err := h.attrs.Get(r.Context(), authOf(r.Context()).WorkspaceID, id)
	if isNotFound(err) {
		return errNoSuchAttribute
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a)
	return nil
}

type attrOptionInput struct {
	Label opt[string] `json:"label"`
}

// attrFields are the settable fields of create and update.
type attrFields struct {
	Name             opt[string]   `json:"name"`
	Description      opt[string]   `json:"description"`
	Required         opt[bool]     `json:"required"`
	Multiline        opt[bool]     `json:"multiline"`
	VisibleToTeamIDs opt[[]string] `json:"visible_to_team_ids"`
}

// apply validates and applies the fields that are set.
func (h *conversationAPI) apply(r *http.Request, in attrFields, a *conversation.Attribute) error {
	if in.Name.Set {
		name := strings.TrimSpace(in.Name.Value)
		if in.Name.Null || !conversation.ValidAttrName(name) {
			return attrInvalid("name", "name must be 1 to 190 letters, digits, spaces, '-' or '_', not starting with a space or '-'")
		}
		a.Name = name
	}
	if in.Description.Set && !in.Description.Null {
		if len(in.Description.Value) > maxStringField || strings.ContainsRune(in.Description.Value, 0) {
			return attrInvalid("description", "description must be text of at most %d bytes", maxStringField)
		}
		a.Description = in.Description.Value
	}
	if in.Required.Set && !in.Required.Null {
		a.Required = in.Required.Value
	}
	if in.Multiline.Set && !in.Multiline.Null {
		if a.DataType != conversation.AttrString {
			return attrInvalid("multiline", "multiline applies to string attributes only")
		}
		a.Multiline = in.Multiline.Value
	}
	if in.VisibleToTeamIDs.Set && !in.VisibleToTeamIDs.Null {
		ids := []string{}
		for _, raw := range in.VisibleToTeamIDs.Value {
			notTeam := attrInvalid("visible_to_team_ids", "visible_to_team_ids: %q is not a team of this workspace", raw)
			id, err := strconv.ParseInt(raw, 10, 64)
			if err != nil {
				return notTeam
			}
			if _, err := h.s.teams.Get(r.Context(), authOf(r.Context()).WorkspaceID, id); store.IsMissing(err, "team") {
				return notTeam
			} else if err != nil {
				return err
			}
			if !slices.Contains(ids, raw) {
				ids = append(ids, raw)
			}
		}
		a.VisibleToTeamIDs = ids
	}
	return nil
}

func newOptionID() string { return ids.UUID() }

// addOptionTo adds a live option; labels are unique among live options.
func addOptionTo(a *conversation.Attribute, label opt[string]) error {
	l := strings.TrimSpace(label.Value)
	if !label.Set || label.Null || l == "" || len(l) > maxStringField || strings.ContainsRune(l, 0) {
		return attrInvalid("label", "label must be text of 1 to %d bytes", maxStringField)
	}
	if slices.ContainsFunc(a.Options, func(o conversation.AttrOption) bool { return !o.Archived && o.Label == l }) {
		return attrInvalid("label", "the attribute already has an option %q", l)
	}
	if len(a.Options) >= 100 {
		return attrInvalid("options", "a list attribute has at most 100 options")
	}
	a.Options = append(a.Options, conversation.AttrOption{ID: newOptionID(), Label: l})
	return nil
}

func (h *conversationAPI) createAttribute(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		attrFields
		DataType opt[string]            `json:"data_type"`
		Options  opt[[]attrOptionInput] `json:"options"`
	}
	if err := h.s.decode(w, r, &in); err != nil {
		return err
	}
	if !in.Name.Set || in.Name.Null {
		return missing("name")
	}
	if !in.DataType.Set || in.DataType.Null {
		return missing("data_type")
	}
	auth := authOf(r.Context())
	a := &conversation.Attribute{WorkspaceID: auth.WorkspaceID, DataType: in.DataType.Value, AdminID: auth.AdminID}
	if !slices.Contains(conversation.AttrTypes, a.DataType) {
		return attrInvalid("data_type", "data_type '%s' is not valid. Allowed types: %s (relationship and files are not supported)",
			a.DataType, strings.Join(conversation.AttrTypes, ", "))
	}
	if err := h.apply(r, in.attrFields, a); err != nil {
		return err
	}
	if in.Options.Set && !in.Options.Null {
		if a.DataType != conversation.AttrList {
			return attrInvalid("options", "options apply to list attributes only")
		}
		for _, o := range in.Options.Value {
			if err := addOptionTo(a, o.Label); err != nil {
				return err
			}
		}
	}
	if a.DataType == conversation.AttrList && len(a.Options) == 0 {
		return attrInvalid("options", "a list attribute needs at least one option")
	}
	if err := h.attrs.Create(r.Context(), a); err != nil {
		if isConflict(err) {
			return attrInvalid("name", "A conversation attribute named '%s' already exists", a.Name)
		}
		return err
	}
	writeJSON(w, http.StatusOK, a)
	return nil
}

// changeAttribute applies fn to the attribute in the path and answers it.
func (h *conversationAPI) changeAttribute(w http.ResponseWriter, r *http.Request, fn func(a *conversation.Attribute) error) error {
	id, err := attrID(r)
	if err != nil {
		return err
	}
	a, err := h.attrs.Update(r.Context(), authOf(r.Context()).WorkspaceID, id, fn)
	switch {
	case isNotFound(err):
		return errNoSuchAttribute
	case isConflict(err):
		return attrInvalid("name", "A conversation attribute with that name already exists")
	case err != nil:
		return err
	}
	writeJSON(w, http.StatusOK, a)
	return nil
}

func (h *conversationAPI) updateAttribute(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		attrFields
		Archived opt[bool] `json:"archived"`
	}
	if err := h.s.decode(w, r, &in); err != nil {
		return err
	}
	return h.changeAttribute(w, r, func(a *conversation.Attribute) error {
		if in.Archived.Set && !in.Archived.Null {
			a.Archived = in.Archived.Value
		}
		return h.apply(r, in.attrFields, a)
	})
}

func (h *conversationAPI) archiveAttribute(w http.ResponseWriter, r *http.Request) error {
	return h.changeAttribute(w, r, func(a *conversation.Attribute) error {
		a.Archived = true
		return nil
	})
}

func notList(a *conversation.Attribute) error {
	if a.DataType != conversation.AttrList {
		return attrInvalid("data_type", "Options can only be managed on list attributes")
	}
	return nil
}

func (h *conversationAPI) addOption(w http.ResponseWriter, r *http.Request) error {
	var in attrOptionInput
	if err := h.s.decode(w, r, &in); err != nil {
		return err
	}
	return h.changeAttribute(w, r, func(a *conversation.Attribute) error {
		if err := notList(a); err != nil {
			return err
		}
		return addOptionTo(a, in.Label)
	})
}

// option finds the option in the path.
func option(r *http.Request, a *conversation.Attribute) (*conversation.AttrOption, error) {
	if err := notList(a); err != nil {
		return nil, err
	}
	i := slices.IndexFunc(a.Options, func(o conversation.AttrOption) bool { return o.ID == r.PathValue("option_id") })
	if i < 0 {
		return nil, notFound("conversation_attribute_option_not_found", "Option not found")
	}
	return &a.Options[i], nil
}

func (h *conversationAPI) renameOption(w http.ResponseWriter, r *http.Request) error {
	var in attrOptionInput
	if err := h.s.decode(w, r, &in); err != nil {
		return err
	}
	return h.changeAttribute(w, r, func(a *conversation.Attribute) error {
		o, err := option(r, a)
		if err != nil {
			return err
		}
		l := strings.TrimSpace(in.Label.Value)
		if !in.Label.Set || in.Label.Null || l == "" || len(l) > maxStringField || strings.ContainsRune(l, 0) {
			return attrInvalid("label", "label must be text of 1 to %d bytes", maxStringField)
		}
		if slices.ContainsFunc(a.Options, func(x conversation.AttrOption) bool { return !x.Archived && x.Label == l && x.ID != o.ID }) {
			return attrInvalid("label", "the attribute already has an option %q", l)
		}
		o.Label = l
		return nil
	})
}

func (h *conversationAPI) archiveOption(w http.ResponseWriter, r *http.Request) error {
	return h.changeAttribute(w, r, func(a *conversation.Attribute) error {
		o, err := option(r, a)
		if err != nil {
			return err
		}
		o.Archived = true
		return nil
	})
}

// typedCustom checks custom attribute values against the workspace's live
// conversation attributes and returns them as stored. An unknown or
// archived attribute, or a value of the wrong type, is a 400 naming it;
// null removes a value whatever its definition.
func (h *conversationAPI) typedCustom(r *http.Request, vals map[string]any) (map[string]any, error) {
	attrs, err := h.attrs.List(r.Context(), authOf(r.Context()).WorkspaceID, false)
	if err != nil {
		return nil, err
	}
	out := make(map[string]any, len(vals))
	for k, v := range vals {
		field := "custom_attributes." + k
		if v == nil {
			out[k] = nil
			continue
		}
		i := slices.IndexFunc(attrs, func(a *conversation.Attribute) bool { return a.Name == k })
		if i < 0 {
			return nil, fieldErr(field, "%s is not a conversation attribute of this workspace (create it with POST /conversations/attributes)", field)
		}
		stored, err := attrs[i].Check(v)
		if err != nil {
			return nil, fieldErr(field, "%s", err.Error())
		}
		out[k] = stored
	}
	return out, nil
}
