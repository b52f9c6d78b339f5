// Package dataset generates the benchmark workspace deterministically: the
// n-th contact always has the same email, external_id, name and custom
// attributes, so the seeder, the CSV writer and the load generator agree
// without talking to each other.
package dataset

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"time"
)

// Attribute is a custom contact attribute the seed creates.
type Attribute struct {
	Name     string
	DataType string // as POST /data_attributes takes it
	Options  []string
}

// Attributes are the custom contact attributes every seeded contact has.
var Attributes = []Attribute{
	{Name: "plan", DataType: "string", Options: Plans},
	{Name: "seats", DataType: "integer"},
	{Name: "score", DataType: "float"},
	{Name: "active", DataType: "boolean"},
	{Name: "trial_ends_at", DataType: "date"},
}

// Plans are the values of custom_attributes.plan, drawn 60/30/10.
var Plans = []string{"free", "pro", "enterprise"}

var firstNames = []string{"Ada", "Alan", "Grace", "Linus", "Margaret", "Ken", "Barbara", "Dennis", "Frances", "Edsger",
	"Radia", "Tim", "Hedy", "Donald", "Sophie", "John", "Katherine", "Niklaus", "Lynn", "Bjarne"}
var lastNames = []string{"Lovelace", "Turing", "Hopper", "Torvalds", "Hamilton", "Thompson", "Liskov", "Ritchie", "Allen",
	"Dijkstra", "Perlman", "Berners-Lee", "Lamarr", "Knuth", "Wilson", "McCarthy", "Johnson", "Wirth", "Conway", "Stroustrup"}

// Contact is the n-th generated contact.
type Contact struct {
	N           int
	Email       string
	ExternalID  string
	Name        string
	Plan        string
	Seats       int
	Score       float64
	Active      bool
	TrialEndsAt string // YYYY-MM-DD
}

// splitmix64: a fast, well-mixed hash of n.
func mix(n uint64) uint64 {
	z := n + 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// Email is the n-th contact's email.
func Email(n int) string { return fmt.Sprintf("user%d@example%d.com", n, n%97) }

// ExternalID is the n-th contact's external_id.
func ExternalID(n int) string { return "ext-" + strconv.Itoa(n) }

var epoch = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// Gen returns the n-th contact.
func Gen(n int) Contact {
	r := mix(uint64(n))
	plan := Plans[0]
	switch p := r % 10; {
	case p >= 9:
		plan = Plans[2]
	case p >= 6:
		plan = Plans[1]
	}
	return Contact{
		N:           n,
		Email:       Email(n),
		ExternalID:  ExternalID(n),
		Name:        firstNames[(r>>8)%uint64(len(firstNames))] + " " + lastNames[(r>>16)%uint64(len(lastNames))],
		Plan:        plan,
		Seats:       int((r>>24)%200) + 1,
		Score:       float64((r>>32)%10000) / 100,
		Active:      (r>>44)&1 == 1,
		TrialEndsAt: epoch.AddDate(0, 0, int((r>>45)%730)).Format("2006-01-02"),
	}
}

// CustomAttributes returns c's custom attributes as the API takes them.
func (c Contact) CustomAttributes() map[string]any {
	return map[string]any{"plan": c.Plan, "seats": c.Seats, "score": c.Score, "active": c.Active, "trial_ends_at": c.TrialEndsAt}
}

// CSVHeader names the columns WriteCSV writes; each header is the Parley
// field it maps to.
var CSVHeader = []string{"email", "external_id", "name",
	"custom_attributes.plan", "custom_attributes.seats", "custom_attributes.score",
	"custom_attributes.active", "custom_attributes.trial_ends_at"}

// WriteCSV writes contacts [from, to) as CSV with a header line. No field
// needs quoting, so rows are written directly (about 20 MB/s per core more
// than encoding/csv).
func WriteCSV(w io.Writer, from, to int) error {
	bw := bufio.NewWriterSize(w, 256<<10)
	for i, h := range CSVHeader {
		if i > 0 {
			bw.WriteByte(',')
		}
		bw.WriteString(h)
	}
	bw.WriteByte('\n')
	buf := make([]byte, 0, 256)
	for n := from; n < to; n++ {
		c := Gen(n)
		buf = append(buf[:0], c.Email...)
		buf = append(buf, ',')
		buf = append(buf, c.ExternalID...)
		buf = append(buf, ',')
		buf = append(buf, c.Name...)
		buf = append(buf, ',')
		buf = append(buf, c.Plan...)
		buf = append(buf, ',')
		buf = strconv.AppendInt(buf, int64(c.Seats), 10)
		buf = append(buf, ',')
		buf = strconv.AppendFloat(buf, c.Score, 'f', -1, 64)
		buf = append(buf, ',')
		buf = strconv.AppendBool(buf, c.Active)
		buf = append(buf, ',')
		buf = append(buf, c.TrialEndsAt...)
		buf = append(buf, '\n')
		if _, err := bw.Write(buf); err != nil {
			return err
		}
	}
	return bw.Flush()
}
