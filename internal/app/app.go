// Package app wires Parley together: it opens the database, applies
// migrations, bootstraps the default workspace and runs the long-lived
// services (HTTP, job workers) under one errgroup, shutting down in reverse
// order.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/sync/errgroup"

	"github.com/parleyhq/parley/internal/api"
	"github.com/parleyhq/parley/internal/bus"
	"github.com/parleyhq/parley/internal/config"
	"github.com/parleyhq/parley/internal/conversation/snooze"
	"github.com/parleyhq/parley/internal/csvimport"
	"github.com/parleyhq/parley/internal/email"
	"github.com/parleyhq/parley/internal/ids"
	"github.com/parleyhq/parley/internal/jobs"
	"github.com/parleyhq/parley/internal/realtime"
	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/web"
	"github.com/parleyhq/parley/internal/workspace"
)

// State is what a running Parley holds.
type State struct {
	Config *config.Config
	DB     *store.DB
	API    *api.Server
}

// Open opens and migrates the database named by the configuration.
func Open(ctx context.Context, cfg *config.Config) (*store.DB, error) {
	db, err := store.Open(ctx, cfg.DatabaseURL, cfg.DataDir)
	if err != nil {
		return nil, err
	}
	if _, err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate: %w", err)
	}
	return db, nil
}

// Bootstrap creates the default workspace and owner on an empty database,
// printing the sign-in details once to out, and makes sure the bootstrap
// token exists.
func Bootstrap(ctx context.Context, cfg *config.Config, db *store.DB, out io.Writer) (*workspace.Workspace, error) {
	ws := store.NewWorkspaces(db)
	email := cfg.AdminEmail
	if email == "" {
		email = "owner@parley.local"
	}
	password := cfg.AdminPassword
	generated := password == ""
	if generated {
		password = ids.Secret(12)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return nil, err
	}
	w, created, err := ws.Bootstrap(ctx, "My workspace", &workspace.Admin{Name: "Owner", Email: email, PasswordHash: string(hash)})
	if err != nil {
		return nil, fmt.Errorf("bootstrap workspace: %w", err)
	}
	if created {
		fmt.Fprintf(out, "\nParley is ready. Sign in at %s\n  email:    %s\n", cfg.SignInURL(), email)
		if generated {
			fmt.Fprintf(out, "  password: %s   (shown once; set PARLEY_ADMIN_PASSWORD to choose it)\n\n", password)
		} else {
			fmt.Fprintf(out, "  password: the value of PARLEY_ADMIN_PASSWORD\n\n")
		}
	}
	if cfg.BootstrapToken != "" {
		owner, err := ws.Owner(ctx, w.ID)
		if err != nil {
			return nil, err
		}
		if err := ws.EnsureToken(ctx, w.ID, owner.ID, "bootstrap", ids.HashToken(cfg.BootstrapToken)); err != nil {
			return nil, err
		}
	}
	return w, nil
}

// Serve runs Parley until ctx is cancelled, then drains in-flight requests.
// ready, if not nil, is called once the listener is accepting.
func Serve(ctx context.Context, cfg *config.Config, out io.Writer, ready func(addr string)) error {
	db, err := Open(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := Bootstrap(ctx, cfg, db, out); err != nil {
		return err
	}
	worker := jobs.NewWorker(db)
	worker.Handle(csvimport.Kind, csvimport.Handler(db, filepath.Join(cfg.DataDir, "imports")))
	worker.Handle(snooze.Kind, snooze.Handler(store.NewConversations(db)))
	outbound, inbound, smtpLn, err := openEmail(cfg, db, worker)
	if err != nil {
		return err
	}
	if smtpLn != nil {
		defer smtpLn.Close()
	}
	events, err := openBus(cfg)
	if err != nil {
		return err
	}
	defer events.Close()
	hub := realtime.New(realtime.DBLog{DB: db}, realtime.Options{})
	events.Subscribe(hub)
	if sg, ok := events.(bus.Signaler); ok {
		hub.UseBus(sg) // typing indicators reach every node
	}
	db.OnCommit(func(last map[string]int64) { events.Publish(bus.FromCommit(last)) })
	apiServer := api.New(db, api.Options{RateLimit: cfg.RateLimit, SearchIndexIdle: cfg.SearchIndexIdle, ImportDir: filepath.Join(cfg.DataDir, "imports"), Realtime: hub,
		AttachmentDir: filepath.Join(cfg.DataDir, "attachments")}, worker)
	// The teammates' web app (/signin, /signout, /app/...) beside the API,
	// which keeps every other path.
	root := http.NewServeMux()
	root.Handle("/", apiServer)
	web.New(db, web.Options{Secure: strings.HasPrefix(cfg.PublicURL, "https://"), SMTPURL: cfg.SMTPURL, SMTPFrom: cfg.SMTPFrom, PublicURL: cfg.PublicURL, Realtime: hub,
		AttachmentDir: filepath.Join(cfg.DataDir, "attachments"),
		Search:        apiServer.Search(), ImportDir: filepath.Join(cfg.DataDir, "imports"), NotifyJobs: worker.Notify}).Routes(root)
	srv := &http.Server{
		Handler:           root,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       5 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	slog.Info("parley listening", "addr", ln.Addr().String(), "database", dialectName(db))
	if ready != nil {
		ready(ln.Addr().String())
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	if cfg.PprofAddr != "" {
		g.Go(func() error { return servePprof(gctx, cfg.PprofAddr) })
	}
	g.Go(func() error { return worker.Run(gctx) })
	if outbound != nil {
		g.Go(func() error { return outbound.Run(gctx) })
	}
	if inbound != nil {
		g.Go(func() error { return inbound.Serve(gctx, smtpLn) })
	}
	g.Go(func() error { return hub.Run(gctx) })
	g.Go(func() error { return optimizeEvery(gctx, db, time.Hour) })
	g.Go(func() error {
		<-gctx.Done()
		slog.Info("shutting down: draining requests")
		sctx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
		defer cancel()
		return srv.Shutdown(sctx)
	})
	return g.Wait()
}

// openEmail sets up replies by email (docs/email.md): the outbound side
// when an SMTP server is configured (else its jobs complete doing
// nothing), and the inbound SMTP listener when an address is.
func openEmail(cfg *config.Config, db *store.DB, worker *jobs.Worker) (*email.Outbound, *email.Inbound, net.Listener, error) {
	var out *email.Outbound
	if cfg.SMTPURL != "" {
		var err error
		out, err = email.NewOutbound(db, email.Options{SMTPURL: cfg.SMTPURL, From: cfg.SMTPFrom, Domain: cfg.EmailDomain, ReplyDelay: cfg.EmailReplyDelay}, worker)
		if err != nil {
			return nil, nil, nil, err
		}
		worker.Handle(email.ReplyKind, out.Handler())
	} else {
		worker.Handle(email.ReplyKind, email.NotConfigured)
	}
	if cfg.SMTPListen == "" {
		return out, nil, nil, nil
	}
	ln, err := net.Listen("tcp", cfg.SMTPListen)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("smtp listen: %w", err)
	}
	return out, email.NewInbound(db, cfg.EmailDomain), ln, nil
}

// openBus is NATS when configured (several nodes), else in-process.
func openBus(cfg *config.Config) (bus.Bus, error) {
	if cfg.NATSURL == "" {
		return bus.NewLocal(), nil
	}
	return bus.NewNATS(cfg.NATSURL, "")
}

func dialectName(db *store.DB) string {
	if db.Dialect == 1 {
		return "postgres"
	}
	return "sqlite"
}

// optimizeEvery refreshes planner statistics periodically.
func optimizeEvery(ctx context.Context, db *store.DB, every time.Duration) error {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if err := db.Optimize(ctx); err != nil && ctx.Err() == nil {
				slog.Warn("optimize database statistics", "err", err)
			}
		}
	}
}

// servePprof serves Go's profiling endpoints on their own address, for
// operators measuring a running Parley; never on the public listener.
func servePprof(ctx context.Context, addr string) error {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	slog.Info("pprof listening", "addr", addr)
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
