// Command parley runs Parley, a self-hosted customer messaging platform
// compatible with Intercom's REST API.
//
//	parley serve                      run the server
//	parley migrate                    apply database migrations and exit
//	parley token create --name NAME   create an API access token (printed once)
//	parley import contacts FILE.csv   import contacts from a CSV file
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/parleyhq/parley/internal/app"
	"github.com/parleyhq/parley/internal/config"
	"github.com/parleyhq/parley/internal/store"
)

const usage = `Parley — self-hosted, Intercom-compatible customer messaging.

Usage:
  parley serve [flags]                       run the server
  parley migrate [flags]                     apply database migrations and exit
  parley token create --name NAME [--workspace ID] [flags]
                                             create an API access token; prints only the token
  parley import contacts FILE.csv [--map "Header=field,..."] [--map-file F] [flags]
                                             import contacts from CSV

Every command takes the storage flags (--data, --database-url) and their
PARLEY_* environment variables; run "parley serve -h" for all of them.
`

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "parley:", err)
		}
		os.Exit(2)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return serve(ctx, rest, stdout, stderr)
	case "migrate":
		return migrate(ctx, rest, stdout, stderr)
	case "token":
		if len(rest) == 0 || rest[0] != "create" {
			return errors.New(`usage: parley token create --name NAME [--workspace ID]`)
		}
		return tokenCreate(ctx, rest[1:], stdout, stderr)
	case "import":
		if len(rest) == 0 || rest[0] != "contacts" {
			return errors.New(`usage: parley import contacts FILE.csv [--map "Header=field,..."]`)
		}
		return importContacts(ctx, rest[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}

func flags(name string, stderr io.Writer) (*flag.FlagSet, func() (*config.Config, error)) {
	fs := flag.NewFlagSet("parley "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs, config.Register(fs)
}

func setupLogging(cfg *config.Config, stderr io.Writer) {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	slog.SetDefault(slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level})))
}

func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, resolve := flags("serve", stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := resolve()
	if err != nil {
		return err
	}
	setupLogging(cfg, stderr)
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	return app.Serve(ctx, cfg, stdout, nil)
}

func migrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, resolve := flags("migrate", stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := resolve()
	if err != nil {
		return err
	}
	db, err := app.Open(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	fmt.Fprintln(stdout, "migrations applied")
	return nil
}

// openWorkspace opens and migrates the database, bootstraps it like serve
// does, and resolves the workspace a command acts on (the default one when
// id is empty).
func openWorkspace(ctx context.Context, cfg *config.Config, id string, stderr io.Writer) (*store.DB, string, error) {
	db, err := app.Open(ctx, cfg)
	if err != nil {
		return nil, "", err
	}
	if _, err := app.Bootstrap(ctx, cfg, db, stderr); err != nil {
		db.Close()
		return nil, "", err
	}
	ws := store.NewWorkspaces(db)
	if id == "" {
		w, err := ws.Default(ctx)
		if err != nil {
			db.Close()
			return nil, "", err
		}
		return db, w.ID, nil
	}
	if _, err := ws.Workspace(ctx, id); err != nil {
		db.Close()
		return nil, "", fmt.Errorf("workspace %q: %w", id, err)
	}
	return db, id, nil
}
