package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/parleyhq/parley/internal/app"
	"github.com/parleyhq/parley/internal/ids"
	"github.com/parleyhq/parley/internal/store"
)

// tokenCreate creates an access token and prints only the token on stdout.
func tokenCreate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, resolve := flags("token create", stderr)
	name := fs.String("name", "", "a name for the token (required)")
	wsID := fs.String("workspace", "", "workspace id (default: the default workspace)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *name == "" {
		return errors.New("--name is required")
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
	if _, err := app.Bootstrap(ctx, cfg, db, stderr); err != nil {
		return err
	}
	ws := store.NewWorkspaces(db)
	id := *wsID
	if id == "" {
		w, err := ws.Default(ctx)
		if err != nil {
			return err
		}
		id = w.ID
	} else if _, err := ws.Workspace(ctx, id); err != nil {
		return fmt.Errorf("workspace %q: %w", id, err)
	}
	owner, err := ws.Owner(ctx, id)
	if err != nil {
		return err
	}
	token := "prl_" + ids.Secret(32)
	if _, err := ws.CreateToken(ctx, id, owner.ID, *name, ids.HashToken(token)); err != nil {
		return err
	}
	fmt.Fprintln(stdout, token)
	return nil
}
