package csvimport

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/parleyhq/parley/internal/attribute"
)

// Mapping maps CSV header names to contact fields ("email",
// "custom_attributes.plan", …). An empty field means "ignore this column".
type Mapping map[string]string

// Fields a column can be imported into, besides custom_attributes.<name>.
const (
	fEmail        = "email"
	fExternalID   = "external_id"
	fName         = "name"
	fPhone        = "phone"
	fRole         = "role"
	fAvatar       = "avatar"
	fSignedUpAt   = "signed_up_at"
	fLastSeenAt   = "last_seen_at"
	fOwnerID      = "owner_id"
	fUnsubscribed = "unsubscribed_from_emails"
	fLanguage     = "language_override"
	fCountry      = "location.country"
	fRegion       = "location.region"
	fCity         = "location.city"
	customPrefix  = "custom_attributes."
)

// Fields lists the built-in contact fields an import can write.
var Fields = []string{fEmail, fExternalID, fName, fPhone, fRole, fAvatar, fSignedUpAt, fLastSeenAt,
	fOwnerID, fUnsubscribed, fLanguage, fCountry, fRegion, fCity}

// aliases are the header spellings mapped by default (after normalize).
var aliases = map[string]string{
	"email": fEmail, "email_address": fEmail, "e_mail": fEmail,
	"external_id": fExternalID, "user_id": fExternalID, "userid": fExternalID, "externalid": fExternalID,
	"name": fName, "full_name": fName,
	"phone": fPhone, "phone_number": fPhone,
	"role":   fRole,
	"avatar": fAvatar, "avatar_url": fAvatar,
	"signed_up_at": fSignedUpAt, "signed_up": fSignedUpAt,
	"last_seen_at": fLastSeenAt, "last_seen": fLastSeenAt,
	"owner_id":                 fOwnerID,
	"unsubscribed_from_emails": fUnsubscribed, "unsubscribed": fUnsubscribed,
	"language_override": fLanguage,
	"location.country":  fCountry, "country": fCountry, "location_country": fCountry,
	"location.region": fRegion, "region": fRegion, "location_region": fRegion,
	"location.city": fCity, "city": fCity, "location_city": fCity,
}

// normalize folds a header for alias matching: lower case, spaces and
// dashes as underscores.
func normalize(h string) string {
	h = strings.ToLower(strings.TrimSpace(h))
	return strings.Join(strings.FieldsFunc(h, func(r rune) bool { return r == ' ' || r == '-' || r == '_' }), "_")
}

// ParseMap parses --map / ?map= syntax: comma-separated Header=field pairs.
// A header containing '=' or ',' needs a mapping file.
func ParseMap(s string) (Mapping, error) {
	m := Mapping{}
	for part := range strings.SplitSeq(s, ",") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		if err := m.addPair(part); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m Mapping) addPair(pair string) error {
	h, f, ok := cutLast(pair, "=")
	h, f = strings.TrimSpace(h), strings.TrimSpace(f)
	if !ok || h == "" {
		return &Error{Message: fmt.Sprintf("mapping %q is not Header=field", strings.TrimSpace(pair))}
	}
	m[h] = f
	return nil
}

func cutLast(s, sep string) (before, after string, found bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}

// ParseMapFile parses a mapping file: either a JSON object
// {"Header": "field", …} or lines of Header=field (blank lines and lines
// starting with # are ignored).
func ParseMapFile(b []byte) (Mapping, error) {
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	if t := bytes.TrimSpace(b); len(t) > 0 && t[0] == '{' {
		m := Mapping{}
		if err := json.Unmarshal(t, &m); err != nil {
			return nil, &Error{Message: "mapping file is not a JSON object of strings: " + err.Error()}
		}
		return m, nil
	}
	m := Mapping{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if err := m.addPair(line); err != nil {
			return nil, &Error{Message: fmt.Sprintf("mapping file line %d: %s", n, err.(*Error).Message)}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, &Error{Message: "read mapping file: " + err.Error()}
	}
	return m, nil
}

// ReadMapFile reads and parses a mapping file.
func ReadMapFile(path string) (Mapping, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseMapFile(b)
}

// Merge returns m with the entries of over added (over wins).
func (m Mapping) Merge(over Mapping) Mapping {
	out := make(Mapping, len(m)+len(over))
	for k, v := range m {
		out[k] = v
	}
	for k, v := range over {
		out[k] = v
	}
	return out
}

// column is where one CSV column goes.
type column struct {
	header string
	field  string               // built-in field, or "" for a custom attribute
	def    *attribute.Attribute // custom attribute
}

// plan is a resolved mapping of a file's header.
type plan struct {
	cols     []*column // by column index; nil = ignored
	mapping  Mapping   // header → field, for the result
	unmapped []string
	header   []string
}

// resolve maps header to fields: explicit entries of m first, then
// built-in names and aliases, then custom attribute names. Unknown target
// fields, explicit entries naming a column the file lacks, and two columns
// feeding one field are errors.
func resolve(header []string, m Mapping, defs attribute.Defs) (*plan, error) {
	p := &plan{cols: make([]*column, len(header)), mapping: Mapping{}, unmapped: []string{}, header: header}
	present := map[string]bool{}
	for _, h := range header {
		present[h] = true
	}
	var missing []string
	for h := range m {
		if !present[h] {
			missing = append(missing, h)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return nil, &Error{Message: fmt.Sprintf("the mapping names column(s) %s that the header row does not have (header: %s)",
			quoteList(missing), quoteList(header))}
	}
	// Lower-cased custom attribute names, for case-insensitive matches.
	lowerDefs := map[string][]*attribute.Attribute{}
	for _, d := range defs {
		if !d.Archived {
			lowerDefs[strings.ToLower(d.Name)] = append(lowerDefs[strings.ToLower(d.Name)], d)
		}
	}
	used := map[string]string{} // field → header
	for i, h := range header {
		target, explicit := m[h]
		if !explicit {
			target = defaultTarget(h, defs, lowerDefs)
		}
		if target == "" || target == "-" {
			p.unmapped = append(p.unmapped, h)
			continue
		}
		col, err := targetColumn(target, defs)
		if err != nil {
			return nil, &Error{Message: fmt.Sprintf("column %q: %s", h, err.Error())}
		}
		if prev, dup := used[target]; dup {
			return nil, &Error{Message: fmt.Sprintf("columns %q and %q are both mapped to %s; map one of them to another field or to nothing (%q=)", prev, h, target, h)}
		}
		used[target] = h
		col.header = h
		p.cols[i] = col
		p.mapping[h] = target
	}
	if len(used) == 0 {
		return nil, &Error{Message: fmt.Sprintf("no column of the header row (%s) maps to a contact field; use --map \"Header=field\" (fields: %s, custom_attributes.<name>)",
			quoteList(header), strings.Join(Fields, ", "))}
	}
	return p, nil
}

func defaultTarget(h string, defs attribute.Defs, lowerDefs map[string][]*attribute.Attribute) string {
	h = strings.TrimSpace(h)
	if strings.HasPrefix(h, customPrefix) {
		return h // resolved (or refused clearly) by targetColumn
	}
	if f, ok := aliases[normalize(h)]; ok {
		return f
	}
	if d, ok := defs[h]; ok && !d.Archived {
		return customPrefix + d.Name
	}
	if ds := lowerDefs[strings.ToLower(h)]; len(ds) == 1 {
		return customPrefix + ds[0].Name
	}
	return ""
}

func targetColumn(target string, defs attribute.Defs) (*column, error) {
	if name, ok := strings.CutPrefix(target, customPrefix); ok {
		d, ok := defs[name]
		if !ok {
			return nil, fmt.Errorf("custom attribute %q does not exist (create it first with POST /data_attributes)", name)
		}
		if d.Archived {
			return nil, fmt.Errorf("custom attribute %q is archived and cannot be written", name)
		}
		return &column{def: d}, nil
	}
	if slices.Contains(Fields, target) {
		return &column{field: target}, nil
	}
	return nil, fmt.Errorf("%q is not a field an import can write; use one of %s or custom_attributes.<name>", target, strings.Join(Fields, ", "))
}

func quoteList(s []string) string {
	q := make([]string, len(s))
	for i, v := range s {
		q[i] = fmt.Sprintf("%q", v)
	}
	return strings.Join(q, ", ")
}
