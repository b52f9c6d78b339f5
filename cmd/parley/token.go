package main

import (
	"context"
	"errors"
	"fmt"
	"io"

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
	db, id, err := openWorkspace(ctx, cfg, *wsID, stderr)
	if err != nil {
		return err
	}
	defer db.Close()
	ws := store.NewWorkspaces(db)
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
