package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/parleyhq/parley/internal/csvimport"
)

// importContacts imports a CSV file of contacts in-process: progress goes
// to stderr, the result as JSON to stdout. Row failures are part of the
// result, not an error; an error means the import could not run.
func importContacts(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, resolve := flags("import contacts", stderr)
	mapArg := fs.String("map", "", `column mapping: "Header=field,Other header=custom_attributes.name" (overrides --map-file)`)
	mapFile := fs.String("map-file", "", "file of Header=field lines, or a JSON object {\"Header\": \"field\"}")
	wsID := fs.String("workspace", "", "workspace id (default: the default workspace)")
	// Flags may come before or after FILE.csv.
	var files []string
	for {
		if err := fs.Parse(args); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		files = append(files, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(files) != 1 {
		return errors.New(`usage: parley import contacts FILE.csv [--map "Header=field,..."] [--map-file F] [--workspace ID] (FILE "-" reads stdin)`)
	}
	mapping := csvimport.Mapping{}
	if *mapFile != "" {
		m, err := csvimport.ReadMapFile(*mapFile)
		if err != nil {
			return fmt.Errorf("--map-file: %w", err)
		}
		mapping = m
	}
	if *mapArg != "" {
		m, err := csvimport.ParseMap(*mapArg)
		if err != nil {
			return fmt.Errorf("--map: %w", err)
		}
		mapping = mapping.Merge(m)
	}
	var in io.Reader = os.Stdin
	if files[0] != "-" {
		f, err := os.Open(files[0])
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	cfg, err := resolve()
	if err != nil {
		return err
	}
	setupLogging(cfg, stderr)
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	db, id, err := openWorkspace(ctx, cfg, *wsID, stderr)
	if err != nil {
		return err
	}
	defer db.Close()

	start, last, lastRows := time.Now(), time.Time{}, -1
	report := func(r *csvimport.Result, final bool) {
		if (!final && time.Since(last) < time.Second) || r.Rows == lastRows {
			return
		}
		last, lastRows = time.Now(), r.Rows
		rate := float64(r.Rows) / max(time.Since(start).Seconds(), 0.001)
		fmt.Fprintf(stderr, "import: %d rows (%d created, %d updated, %d unchanged, %d failed), %.0f rows/s\n",
			r.Rows, r.Created, r.Updated, r.Unchanged, r.Failed, rate)
	}
	res, err := csvimport.Run(ctx, db, in, csvimport.Options{
		WorkspaceID: id,
		Mapping:     mapping,
		Progress:    func(r *csvimport.Result) error { report(r, false); return nil },
	})
	if err != nil {
		var ie *csvimport.Error
		if errors.As(err, &ie) {
			return errors.New(ie.Message)
		}
		return err
	}
	report(res, true)
	if len(res.UnmappedColumns) > 0 {
		fmt.Fprintf(stderr, "import: columns not imported: %s\n", strings.Join(res.UnmappedColumns, ", "))
	}
	out := struct {
		*csvimport.Result
		Done bool `json:"done,omitempty"` // hide the checkpoint flag
	}{Result: res}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
