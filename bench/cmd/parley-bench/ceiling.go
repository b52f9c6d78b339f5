package main

import (
	"context"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/parleyhq/parley/bench/internal/dataset"
)

// contactJSON is a representative contact as GET /contacts/{id} renders it,
// served when no live Parley is given to copy one from.
//
//go:embed contact.json
var contactJSON []byte

func cmdCeiling(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("ceiling", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:9090", "address to listen on (loopback only)")
	from := fs.String("from-url", "", "copy the body of a real contact from this Parley (else an embedded representative contact)")
	token := fs.String("token", os.Getenv("PARLEY_BENCH_TOKEN"), "access token for --from-url (env PARLEY_BENCH_TOKEN)")
	bodyFile := fs.String("body", "", "serve this file's bytes instead")
	if err := fs.Parse(args); err != nil {
		return err
	}
	host, _, err := net.SplitHostPort(*addr)
	if err != nil {
		return err
	}
	if err := checkLocal("http://" + net.JoinHostPort(host, "1")); err != nil || host == "" {
		return fmt.Errorf("ceiling: listen on a loopback address, not %q", *addr)
	}
	body := contactJSON
	source := "embedded contact"
	switch {
	case *bodyFile != "":
		if body, err = os.ReadFile(*bodyFile); err != nil {
			return err
		}
		source = *bodyFile
	case *from != "":
		c, err := newClient(*from, *token, 1)
		if err != nil {
			return err
		}
		// Contact 0 of the seed has custom attributes, a tag and a company.
		var ct struct {
			ID string `json:"id"`
		}
		if err := c.do(ctx, http.MethodGet, "/contacts/find_by_external_id/"+dataset.ExternalID(0), nil, &ct); err != nil {
			var page listPage
			if err := c.do(ctx, http.MethodGet, "/contacts?per_page=1", nil, &page); err != nil {
				return fmt.Errorf("ceiling: listing contacts: %w", err)
			}
			if len(page.Data) == 0 {
				return errors.New("ceiling: the workspace has no contacts to copy")
			}
			ct.ID = page.Data[0].ID
		}
		if err := c.do(ctx, http.MethodGet, "/contacts/"+ct.ID, nil, &body); err != nil {
			return fmt.Errorf("ceiling: fetching a contact: %w", err)
		}
		source = "contact " + ct.ID + " of " + *from
	}
	// The same headers Parley sends with a contact, so only the work behind
	// them differs.
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd["Content-Type"] = []string{"application/json; charset=utf-8"}
		hd["X-Ratelimit-Limit"] = []string{"10000"}
		hd["X-Ratelimit-Remaining"] = []string{"1666"}
		hd["X-Ratelimit-Reset"] = []string{fmt.Sprint(time.Now().Unix()/10*10 + 10)}
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(body)
	})
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	fmt.Fprintf(stdout, "ceiling: serving %d bytes (%s) on http://%s until SIGINT/SIGTERM\n", len(body), source, ln.Addr())
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
