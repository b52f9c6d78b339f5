package api

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/parleyhq/parley/internal/attribute"
)

func (s *Server) attributeRoutes() {
	s.handle("GET /data_attributes", s.listAttributes)
	s.handle("POST /data_attributes", s.createAttribute)
	s.handle("PUT /data_attributes/{id}", s.updateAttribute)
}

func (s *Server) listAttributes(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	model := q.Get("model")
	if model != "" && model != attribute.ModelContact && model != attribute.ModelCompany && model != "conversation" {
		return fieldErr("model", "model must be contact, company or conversation")
	}
	includeArchived := false
	if v := q.Get("include_archived"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fieldErr("include_archived", "include_archived must be true or false")
		}
		includeArchived = b
	}
	data := []any{}
	for _, m := range []string{attribute.ModelContact, attribute.ModelCompany} {
		if model != "" && model != m {
			continue
		}
		for _, b := range attribute.Builtins(m) {
			data = append(data, b.AsAttribute(m))
		}
		custom, err := s.attributes.Custom(r.Context(), authOf(r.Context()).WorkspaceID, m, includeArchived)
		if err != nil {
			return err
		}
		for _, a := range custom {
			data = append(data, a)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"type": "list", "data": data})
	return nil
}

// optionList accepts options as ["a","b"] or [{"value":"a"},{"value":"b"}].
type optionList []string

func (o *optionList) UnmarshalJSON(b []byte) error {
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return fieldErr("options", "options must be an array")
	}
	out := make([]string, 0, len(raw))
	for _, item := range raw {
		var s string
		if json.Unmarshal(item, &s) == nil {
			out = append(out, s)
			continue
		}
		var obj struct {
			Value string `json:"value"`
		}
		if err := json.Unmarshal(item, &obj); err != nil || obj.Value == "" {
			return fieldErr("options", "each option must be a string or {\"value\": string}")
		}
		out = append(out, obj.Value)
	}
	*o = out
	return nil
}

func (s *Server) createAttribute(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Name              string     `json:"name"`
		Model             string     `json:"model"`
		DataType          string     `json:"data_type"`
		Description       string     `json:"description"`
		Options           optionList `json:"options"`
		MessengerWritable bool       `json:"messenger_writable"`
	}
	if err := s.decode(w, r, &in); err != nil {
		return err
	}
	if in.Name == "" || in.Model == "" || in.DataType == "" {
		return errf(http.StatusBadRequest, "parameter_not_found", "name, model and data_type are required")
	}
	dt, err := attribute.NormalizeType(in.DataType, in.Options != nil)
	if err != nil {
		return fieldErr("data_type", "%s", err.Error())
	}
	if in.DataType == "options" && in.Options == nil {
		return fieldErr("options", "an options attribute needs at least two options")
	}
	auth := authOf(r.Context())
	a := &attribute.Attribute{WorkspaceID: auth.WorkspaceID, Model: in.Model, Name: strings.TrimSpace(in.Name), Label: strings.TrimSpace(in.Name),
		Description: in.Description, DataType: dt, Options: in.Options, MessengerWritable: in.MessengerWritable, AdminID: auth.AdminID}
	if err := attribute.ValidateDefinition(a); err != nil {
		return err
	}
	if err := s.attributes.Create(r.Context(), a); err != nil {
		if isConflict(err) {
			return errf(http.StatusBadRequest, "parameter_invalid", "You already have a '%s' in your %s data. To save this as new people data, use a different name.", a.Name, a.Model)
		}
		return err
	}
	writeJSON(w, http.StatusOK, a)
	return nil
}

func (s *Server) updateAttribute(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Archived          opt[bool]   `json:"archived"`
		Description       opt[string] `json:"description"`
		Options           *optionList `json:"options"`
		MessengerWritable opt[bool]   `json:"messenger_writable"`
	}
	if err := s.decode(w, r, &in); err != nil {
		return err
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return notFound("field_not_found", "We couldn't find that data attribute to update")
	}
	a, err := s.attributes.Get(r.Context(), authOf(r.Context()).WorkspaceID, id)
	if isNotFound(err) {
		return notFound("field_not_found", "We couldn't find that data attribute to update")
	}
	if err != nil {
		return err
	}
	if in.Archived.Set && !in.Archived.Null {
		a.Archived = in.Archived.Value
	}
	if in.Description.Set && !in.Description.Null {
		a.Description = in.Description.Value
	}
	if in.MessengerWritable.Set && !in.MessengerWritable.Null {
		a.MessengerWritable = in.MessengerWritable.Value
	}
	if in.Options != nil {
		if len(a.Options) == 0 {
			return fieldErr("options", "options can only be changed on an options (list) attribute")
		}
		a.Options = *in.Options
	}
	if err := attribute.ValidateDefinition(a); err != nil {
		return err
	}
	if err := s.attributes.Update(r.Context(), a); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a)
	return nil
}
