package csvimport

import (
	"context"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/testdb"
	"github.com/parleyhq/parley/internal/workspace"
)

// FuzzMapping: any --map string or mapping file either parses or is refused
// with an error; never a panic.
func FuzzMapping(f *testing.F) {
	for _, s := range []string{"Intercom ID=external_id,Plan=custom_attributes.plan", "a=", "=b", ",,", "a=b=c", "x=custom_attributes.", `{"a":"email"}`, "{", "a=email\nb=name\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = ParseMap(s)
		_, _ = ParseMapFile([]byte(s))
	})
}

// FuzzImport: whatever CSV arrives, the import either reports per-row
// results or refuses the file with an error — it never panics, and every
// row it counts is accounted for as created, updated, unchanged or failed.
func FuzzImport(f *testing.F) {
	for _, s := range []string{
		"email,name\na@b.co,A\n", "external_id,email\nx,\n,y@z.io\n", "email\n\"unterminated\n",
		"role,email\nlead,\nuser,\n", "email,signed_up_at\na@b.co,notadate\n", "\xff\xfe,x\n1,2\n", "", "email\n",
		"name,name\na,b\n", "email,custom_attributes.nope\na@b.co,1\n",
	} {
		f.Add(s)
	}
	db := testdb.SQLite(f)
	ws, err := store.NewWorkspaces(db).CreateWorkspace(context.Background(), "fuzz", &workspace.Admin{Name: "O", Email: "o@fuzz.test"})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, csv string) {
		res, err := Run(context.Background(), db, strings.NewReader(csv), Options{WorkspaceID: ws.ID})
		if err != nil {
			return
		}
		if got := res.Created + res.Updated + res.Unchanged + res.Failed; got != res.Rows {
			t.Fatalf("%d rows but created+updated+unchanged+failed = %d: %+v", res.Rows, got, res)
		}
	})
}
