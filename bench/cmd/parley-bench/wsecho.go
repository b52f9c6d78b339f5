package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/parleyhq/parley/bench/echo"
)

// cmdWSEcho serves bench/echo (the socket ceiling) until SIGINT/SIGTERM.
func cmdWSEcho(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("ws-echo", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:9091", "listen address (loopback only)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	host, _, err := net.SplitHostPort(*addr)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return errors.New("ws-echo: listen on a loopback address only")
	}
	fdLimit()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: echo.New(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	logf("ws-echo: listening on %s", ln.Addr())
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
