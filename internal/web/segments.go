package web

// Segments (docs/web.md "Segments"): the workspace's segments with their
// member counts, each opening the contacts list restricted to it, and the
// form that edits a segment's name, person type and filter with the filter
// builder. Writes go through store.Segments (which appends the segment
// events) after the REST API's validation.

import (
	"errors"
	"net/http"
	"strings"

	"github.com/parleyhq/parley/internal/ids"
	"github.com/parleyhq/parley/internal/query"
	"github.com/parleyhq/parley/internal/segment"
	"github.com/parleyhq/parley/internal/store"
)

func (s *Server) segmentRoutes(mux *http.ServeMux) {
	for _, name := range []string{"segments", "segment"} {
		s.pages[name] = s.builderPage(name)
	}
	mux.Handle("GET /app/segments", s.page(nil, s.segmentsPage))
	mux.Handle("GET /app/segments/new", s.page(nil, s.segmentPage))
	mux.Handle("POST /app/segments", s.page(nil, s.saveSegment))
	mux.Handle("GET /app/segments/{id}", s.page(nil, s.segmentPage))
	mux.Handle("POST /app/segments/{id}", s.page(nil, s.saveSegment))
	mux.Handle("POST /app/segments/{id}/delete", s.page(nil, s.deleteSegment))
}

var errNoSegment = pageErr(http.StatusNotFound, "Segment not found", "There is no such segment in this workspace.")

type segmentRow struct {
	Seg    *segment.Segment
	Count  *int   // nil: the filter no longer compiles
	Filter string // as the builder shows it
}

// segmentsPage lists the segments with their member counts, counted in
// one scan of the contacts.
func (s *Server) segmentsPage(w http.ResponseWriter, r *http.Request, v *visit) error {
	ctx := r.Context()
	list, err := store.NewSegments(s.db).List(ctx, v.ws.ID)
	if err != nil {
		return err
	}
	schema, err := s.filterSchema(ctx, v, modelContacts)
	if err != nil {
		return err
	}
	fields, err := s.filterFields(ctx, v, modelContacts)
	if err != nil {
		return err
	}
	rows := make([]segmentRow, len(list))
	var valid []*query.Filter
	var at []int
	for i, sg := range list {
		rows[i].Seg, rows[i].Filter = sg, describeFilter(sg.Filter, fields)
		eff, err := segment.Effective(sg.Filter, sg.PersonType)
		if err != nil {
			continue
		}
		f, err := query.Parse(eff, schema)
		var sf *storeFailure
		if errors.As(err, &sf) {
			return sf.err
		} else if err != nil {
			continue
		}
		valid = append(valid, f)
		at = append(at, i)
	}
	counts, err := store.NewSegments(s.db).Counts(ctx, v.ws.ID, valid)
	if err != nil {
		return err
	}
	for j, i := range at {
		rows[i].Count = &counts[j]
	}
	s.render(w, http.StatusOK, "segments", v.view("Segments", "contacts", rows))
	return nil
}

type segmentForm struct {
	ID         string // "" for a new segment
	Name       string
	PersonType string
	Filter     string
	FilterErr  string
	Saved      bool
}

func (s *Server) segmentPage(w http.ResponseWriter, r *http.Request, v *visit) error {
	form := segmentForm{PersonType: segment.PersonUser, Filter: r.URL.Query().Get("filter"), Saved: r.URL.Query().Get("saved") == "1"}
	if id := r.PathValue("id"); id != "" {
		sg, err := store.NewSegments(s.db).Get(r.Context(), v.ws.ID, id)
		if errors.Is(err, store.ErrNotFound) {
			return errNoSegment
		} else if err != nil {
			return err
		}
		form = segmentForm{ID: sg.ID, Name: sg.Name, PersonType: sg.PersonType, Filter: string(sg.Filter), Saved: form.Saved}
	}
	s.render(w, http.StatusOK, "segment", v.view(segmentTitle(form), "contacts", form))
	return nil
}

func segmentTitle(f segmentForm) string {
	if f.ID == "" {
		return "New segment"
	}
	return "Edit segment"
}

// saveSegment creates or updates a segment with the REST API's rules:
// a name, user or contact, and a filter that parses, references no
// segment and still parses once restricted to the person type.
func (s *Server) saveSegment(w http.ResponseWriter, r *http.Request, v *visit) error {
	ctx := r.Context()
	segs := store.NewSegments(s.db)
	form := segmentForm{ID: r.PathValue("id"), Name: strings.TrimSpace(r.PostFormValue("name")),
		PersonType: r.PostFormValue("person_type"), Filter: r.PostFormValue("filter")}
	var sg *segment.Segment
	if form.ID != "" {
		var err error
		if sg, err = segs.Get(ctx, v.ws.ID, form.ID); errors.Is(err, store.ErrNotFound) {
			return errNoSegment
		} else if err != nil {
			return err
		}
	}
	fail := func(msg string, filter bool) error {
		vw := v.view(segmentTitle(form), "contacts", form)
		if filter {
			form.FilterErr = msg
			vw.Data = form
		} else {
			vw.Error = msg
		}
		s.render(w, http.StatusBadRequest, "segment", vw)
		return nil
	}
	name, nameErr := segment.CleanName(form.Name)
	switch {
	case form.Name == "":
		return fail("Enter a name for the segment.", false)
	case nameErr != nil:
		return fail("The segment's "+nameErr.Error()+".", false)
	case form.PersonType != segment.PersonUser && form.PersonType != segment.PersonContact:
		return fail("Choose users or leads.", false)
	case strings.TrimSpace(form.Filter) == "":
		return fail("A segment needs a filter: add at least one condition.", true)
	}
	form.Name = name
	// The REST API's rules (POST /segments), shared through package segment.
	filter := compactFilter(form.Filter)
	err := segment.CheckFilter(filter, form.PersonType, func(b []byte) (*query.Filter, error) {
		return s.parseFilterParam(ctx, v, modelContacts, string(b))
	})
	if errors.Is(err, segment.ErrSelfReference) {
		return fail("A segment's filter cannot use another segment.", true)
	} else if msg := filterMessage(err); msg != "" {
		return fail(msg, true)
	} else if err != nil {
		return err
	}
	if sg == nil {
		sg = &segment.Segment{WorkspaceID: v.ws.ID, ID: ids.New(), Name: form.Name, PersonType: form.PersonType, Filter: filter}
		err = segs.Create(ctx, sg)
	} else {
		sg.Name, sg.PersonType, sg.Filter = form.Name, form.PersonType, filter
		err = segs.Update(ctx, sg)
	}
	if errors.Is(err, store.ErrNotFound) {
		return errNoSegment
	} else if err != nil {
		return err
	}
	http.Redirect(w, r, "/app/segments/"+sg.ID+"?saved=1", http.StatusSeeOther)
	return nil
}

func (s *Server) deleteSegment(w http.ResponseWriter, r *http.Request, v *visit) error {
	if err := store.NewSegments(s.db).Delete(r.Context(), v.ws.ID, r.PathValue("id")); errors.Is(err, store.ErrNotFound) {
		return errNoSegment
	} else if err != nil {
		return err
	}
	http.Redirect(w, r, "/app/segments", http.StatusSeeOther)
	return nil
}
