package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/ids"
	"github.com/parleyhq/parley/internal/query"
	"github.com/parleyhq/parley/internal/segment"
	"github.com/parleyhq/parley/internal/store"
)

// Segments: Intercom's reads (GET /segments, GET /segments/{id},
// GET /contacts/{id}/segments) and Parley's writes (POST, PUT, DELETE).
func (s *Server) segmentRoutes() {
	segs := store.NewSegments(s.db)
	s.handle("POST /segments", func(w http.ResponseWriter, r *http.Request) error { return s.createSegment(w, r, segs) })
	s.handle("GET /segments", func(w http.ResponseWriter, r *http.Request) error { return s.listSegments(w, r, segs) })
	s.handle("GET /segments/{id}", func(w http.ResponseWriter, r *http.Request) error { return s.getSegment(w, r, segs) })
	s.handle("PUT /segments/{id}", func(w http.ResponseWriter, r *http.Request) error { return s.updateSegment(w, r, segs) })
	s.handle("DELETE /segments/{id}", func(w http.ResponseWriter, r *http.Request) error { return s.deleteSegment(w, r, segs) })
	s.handle("GET /contacts/{id}/segments", func(w http.ResponseWriter, r *http.Request) error { return s.contactSegments(w, r, segs) })
}

var errSegmentNotFound = notFound("not_found", "Resource Not Found")

type segmentInput struct {
	Name       opt[string]     `json:"name"`
	Filter     json.RawMessage `json:"filter"`
	PersonType opt[string]     `json:"person_type"`
}

// apply validates in and applies it to sg.
func (s *Server) applySegmentInput(r *http.Request, segs *store.Segments, sg *segment.Segment, in *segmentInput) error {
	if in.Name.Set {
		name := in.Name.Value
		if in.Name.Null {
			name = ""
		}
		name, err := segment.CleanName(name)
		if err != nil {
			return fieldErr("name", "%s", err.Error())
		}
		sg.Name = name
	}
	if in.PersonType.Set {
		if in.PersonType.Null || (in.PersonType.Value != segment.PersonUser && in.PersonType.Value != segment.PersonContact) {
			return fieldErr("person_type", "person_type must be user or contact")
		}
		sg.PersonType = in.PersonType.Value
	}
	if f := bytes.TrimSpace(in.Filter); len(f) > 0 {
		if string(f) == "null" {
			return fieldErr("filter", "filter must be a query")
		}
		var b bytes.Buffer
		if err := json.Compact(&b, f); err != nil {
			return fieldErr("filter", "filter is not valid JSON")
		}
		sg.Filter = b.Bytes()
	}
	// Validate the filter as given (precise messages), then as the
	// membership filter the segment will use.
	schema, err := s.contactSchema(r, segs)
	if err != nil {
		return err
	}
	err = segment.CheckFilter(sg.Filter, sg.PersonType, func(b []byte) (*query.Filter, error) { return parseQuery(b, schema) })
	if errors.Is(err, segment.ErrSelfReference) {
		return fieldErr("filter", "%s", err.Error())
	}
	if err != nil {
		return filterErr(err)
	}
	return nil
}

// filterErr reports a query error as an error of the "filter" parameter.
func filterErr(err error) error {
	var qe *query.Error
	if errors.As(err, &qe) {
		return fieldErr("filter", "filter: %s", qe.Message)
	}
	return err
}

func (s *Server) createSegment(w http.ResponseWriter, r *http.Request, segs *store.Segments) error {
	var in segmentInput
	if err := s.decode(w, r, &in); err != nil {
		return err
	}
	if !in.Name.Set {
		return missing("name")
	}
	if len(bytes.TrimSpace(in.Filter)) == 0 {
		return missing("filter")
	}
	sg := &segment.Segment{WorkspaceID: authOf(r.Context()).WorkspaceID, ID: ids.New(), PersonType: segment.PersonUser}
	if err := s.applySegmentInput(r, segs, sg, &in); err != nil {
		return err
	}
	if err := segs.Create(r.Context(), sg); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, sg)
	return nil
}

func (s *Server) loadSegment(r *http.Request, segs *store.Segments) (*segment.Segment, error) {
	sg, err := segs.Get(r.Context(), authOf(r.Context()).WorkspaceID, r.PathValue("id"))
	if isNotFound(err) {
		return nil, errSegmentNotFound
	}
	return sg, err
}

func (s *Server) updateSegment(w http.ResponseWriter, r *http.Request, segs *store.Segments) error {
	var in segmentInput
	if err := s.decode(w, r, &in); err != nil {
		return err
	}
	sg, err := s.loadSegment(r, segs)
	if err != nil {
		return err
	}
	if err := s.applySegmentInput(r, segs, sg, &in); err != nil {
		return err
	}
	if err := segs.Update(r.Context(), sg); err != nil {
		if isNotFound(err) {
			return errSegmentNotFound
		}
		return err
	}
	writeJSON(w, http.StatusOK, sg)
	return nil
}

func (s *Server) deleteSegment(w http.ResponseWriter, r *http.Request, segs *store.Segments) error {
	id := r.PathValue("id")
	if err := segs.Delete(r.Context(), authOf(r.Context()).WorkspaceID, id); err != nil {
		if isNotFound(err) {
			return errSegmentNotFound
		}
		return err
	}
	writeJSON(w, http.StatusOK, segment.Deleted(id))
	return nil
}

func includeCount(r *http.Request) (bool, error) {
	v := r.URL.Query().Get("include_count")
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fieldErr("include_count", "include_count must be true or false")
	}
	return b, nil
}

// membership compiles the membership filters of segments. A segment whose
// filter no longer compiles (an attribute it uses was archived) gets a nil
// filter: it has no members and no count.
func membership(schema *contact.Schema, list []*segment.Segment) ([]*query.Filter, error) {
	out := make([]*query.Filter, len(list))
	for i, sg := range list {
		eff, err := segment.Effective(sg.Filter, sg.PersonType)
		if err != nil {
			continue
		}
		f, err := parseQuery(eff, schema)
		var qe *query.Error
		if errors.As(err, &qe) {
			continue
		} else if err != nil {
			return nil, err
		}
		out[i] = f
	}
	return out, nil
}

// withCounts sets the counts of list.
func (s *Server) withCounts(r *http.Request, segs *store.Segments, list []*segment.Segment) error {
	schema, err := s.contactSchema(r, segs)
	if err != nil {
		return err
	}
	filters, err := membership(schema, list)
	if err != nil {
		return err
	}
	var valid []*query.Filter
	for _, f := range filters {
		if f != nil {
			valid = append(valid, f)
		}
	}
	counts, err := segs.Counts(r.Context(), authOf(r.Context()).WorkspaceID, valid)
	if err != nil {
		return err
	}
	for i, sg := range list {
		sg.WithCount = true
		if filters[i] != nil {
			n := counts[0]
			counts = counts[1:]
			sg.Count = &n
		}
	}
	return nil
}

func (s *Server) listSegments(w http.ResponseWriter, r *http.Request, segs *store.Segments) error {
	withCount, err := includeCount(r)
	if err != nil {
		return err
	}
	list, err := segs.List(r.Context(), authOf(r.Context()).WorkspaceID)
	if err != nil {
		return err
	}
	if withCount {
		if err := s.withCounts(r, segs, list); err != nil {
			return err
		}
	}
	if list == nil {
		list = []*segment.Segment{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"type": "segment.list", "segments": list})
	return nil
}

func (s *Server) getSegment(w http.ResponseWriter, r *http.Request, segs *store.Segments) error {
	withCount, err := includeCount(r)
	if err != nil {
		return err
	}
	sg, err := s.loadSegment(r, segs)
	if err != nil {
		return err
	}
	if withCount {
		if err := s.withCounts(r, segs, []*segment.Segment{sg}); err != nil {
			return err
		}
	}
	writeJSON(w, http.StatusOK, sg)
	return nil
}

// contactSegments lists the segments a contact is in, evaluated now in one
// statement over all of the workspace's segments.
func (s *Server) contactSegments(w http.ResponseWriter, r *http.Request, segs *store.Segments) error {
	c, err := s.loadContact(r, r.PathValue("id"))
	if err != nil {
		return err
	}
	list, err := segs.List(r.Context(), c.WorkspaceID)
	if err != nil {
		return err
	}
	in := []*segment.Segment{}
	if len(list) > 0 {
		schema, err := s.contactSchema(r, segs)
		if err != nil {
			return err
		}
		filters, err := membership(schema, list)
		if err != nil {
			return err
		}
		var valid []*query.Filter
		var which []*segment.Segment
		for i, f := range filters {
			if f != nil {
				valid = append(valid, f)
				which = append(which, list[i])
			}
		}
		hits, err := segs.Matches(r.Context(), c.WorkspaceID, c.ID, valid)
		if err != nil {
			return err
		}
		for i, hit := range hits {
			if hit {
				in = append(in, which[i])
			}
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"type": "list", "data": in})
	return nil
}
