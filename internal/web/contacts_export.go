package web

import (
	"encoding/csv"
	"log/slog"
	"net/http"
	"strings"

	"github.com/parleyhq/parley/internal/store"
)

// exportPage is how many contacts an export reads per search: pages are
// cut by keyset like the list's, so memory stays flat however many rows.
const exportPage = 1000

// exportContacts streams the list's contacts (role, filter or segment,
// sort) as CSV with the chosen columns (cols, else the remembered ones).
// The header row holds field names (email, custom_attributes.plan), so the
// file imports back with the default mapping; the first column is id.
func (s *Server) exportContacts(w http.ResponseWriter, r *http.Request, v *visit) error {
	lq := readListQuery(r)
	lq.After = ""
	schema, custom, err := s.contactSchema(r, v)
	if err != nil {
		return err
	}
	_, cols := contactColumns(custom, chosenColumns(nil, r, colsCookie, defaultCols, false))
	f, _, msg, err := s.listFilter(r, v, &lq, schema)
	if err != nil {
		return err
	}
	if msg != "" {
		return pageErr(http.StatusBadRequest, "Filter not valid", msg)
	}
	sortField, err := schema.Sortable(lq.Sort)
	if err != nil {
		return err
	}
	sort := store.SearchSort{Field: sortField, Desc: lq.Desc}
	// The first page before any byte is sent, so a failure is still a page.
	res, err := s.cs.search.Contacts(r.Context(), v.ws.ID, f, sort, nil, exportPage)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+lq.Role+`s.csv"`)
	cw := csv.NewWriter(w)
	header := []string{"id"}
	for _, c := range cols {
		header = append(header, c.Name)
	}
	if err := cw.Write(header); err != nil {
		return nil // the client went away
	}
	loc := v.ws.Location()
	rec := make([]string, len(cols)+1)
	for {
		for _, c := range res.Contacts {
			rec[0] = c.ID
			for i, col := range cols {
				rec[i+1] = safeCell(cell(c, col, loc))
			}
			if err := cw.Write(rec); err != nil {
				return nil
			}
		}
		cw.Flush()
		if cw.Error() != nil || len(res.Contacts) < exportPage {
			return nil
		}
		last := res.Keys[len(res.Keys)-1]
		if res, err = s.cs.search.Contacts(r.Context(), v.ws.ID, f, sort, &last, exportPage); err != nil {
			// Headers are sent: all that can be done is to stop short
			// and log; the truncated file lacks its last rows.
			if r.Context().Err() == nil {
				slog.Error("contacts export stopped", "workspace", v.ws.ID, "err", err)
			}
			return nil
		}
	}
}

// safeCell keeps a spreadsheet from running a cell as a formula: text
// starting with =, +, @ or a tab, or - not followed by a digit, gets a
// leading apostrophe.
func safeCell(v string) string {
	if v == "" {
		return v
	}
	switch v[0] {
	case '=', '+', '@', '\t', '\r':
		return "'" + v
	case '-':
		if len(v) == 1 || !strings.ContainsRune("0123456789.", rune(v[1])) {
			return "'" + v
		}
	}
	return v
}
