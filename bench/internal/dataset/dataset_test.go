package dataset

import (
	"bytes"
	"encoding/csv"
	"strconv"
	"testing"
)

func TestCSVRoundTripsTheGenerator(t *testing.T) {
	var b bytes.Buffer
	if err := WriteCSV(&b, 10, 1010); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1001 || len(rows[0]) != len(CSVHeader) {
		t.Fatalf("%d rows, header %v", len(rows), rows[0])
	}
	plans := map[string]int{}
	for i, row := range rows[1:] {
		c := Gen(10 + i)
		want := []string{c.Email, c.ExternalID, c.Name, c.Plan, strconv.Itoa(c.Seats),
			strconv.FormatFloat(c.Score, 'f', -1, 64), strconv.FormatBool(c.Active), c.TrialEndsAt}
		for j := range want {
			if row[j] != want[j] {
				t.Fatalf("row %d column %s = %q, want %q", i, CSVHeader[j], row[j], want[j])
			}
		}
		plans[c.Plan]++
	}
	if rows[1][0] != "user10@example10.com" || rows[1][1] != "ext-10" {
		t.Errorf("first row %v", rows[1])
	}
	// Roughly 60/30/10: the compound search depends on "pro" being common.
	if plans["free"] < 500 || plans["pro"] < 200 || plans["enterprise"] < 50 {
		t.Errorf("plan distribution %v", plans)
	}
}
