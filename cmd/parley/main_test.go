package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/testdb"
)

// buildBinary compiles parley once per test binary run.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "parley")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("build: %v", err)
	}
	return bin
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// syncBuffer is a bytes.Buffer safe to read while the process writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor waits until the output contains want (the copy from the pipe may
// lag behind the process).
func (s *syncBuffer) waitFor(want string) string {
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(s.String(), want) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	return s.String()
}

type proc struct {
	cmd    *exec.Cmd
	stdout *syncBuffer
	addr   string
}

func start(t *testing.T, bin string, env []string, args ...string) *proc {
	t.Helper()
	addr := freeAddr(t)
	cmd := exec.Command(bin, append([]string{"serve", "--addr", addr}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	p := &proc{cmd: cmd, stdout: &syncBuffer{}, addr: addr}
	cmd.Stdout = p.stdout
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		s := bufio.NewScanner(stderr)
		for s.Scan() {
			t.Log("parley: " + s.Text())
		}
	}()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return p
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("parley did not become healthy; stdout: %s", p.stdout)
	return nil
}

// stop sends SIGTERM and asserts a clean exit.
func (p *proc) stop(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("parley exited uncleanly after SIGTERM: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("parley did not exit after SIGTERM")
	}
}

func get(t *testing.T, addr, path, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://"+addr+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestServeFirstRunTokensAndShutdown(t *testing.T) {
	bin := buildBinary(t)
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			data := t.TempDir()
			storage := []string{"PARLEY_DATA_DIR=" + data}
			if db == "postgres" {
				storage = append(storage, "PARLEY_DATABASE_URL="+testdb.FreshPostgres(t))
			}
			boot := "bootstrap-token-0123456789"
			p := start(t, bin, append(storage, "PARLEY_BOOTSTRAP_TOKEN="+boot, "PARLEY_ADMIN_EMAIL=boss@example.com"))
			out := p.stdout.waitFor("password: ")
			if !strings.Contains(out, "/signin") || !strings.Contains(out, "boss@example.com") || !strings.Contains(out, "password: ") {
				t.Fatalf("first run did not print sign-in details:\n%s", out)
			}
			if code, body := get(t, p.addr, "/me", boot); code != 200 || !strings.Contains(body, "boss@example.com") {
				t.Fatalf("bootstrap token: %d %s", code, body)
			}
			if code, _ := get(t, p.addr, "/me", "wrong-token-000000000"); code != 401 {
				t.Fatalf("wrong token answered %d", code)
			}
			p.stop(t)

			// token create prints only the token, which then works.
			cmd := exec.Command(bin, "token", "create", "--name", "ci")
			cmd.Env = append(os.Environ(), storage...)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("token create: %v %s", err, stderr.String())
			}
			token := strings.TrimSpace(stdout.String())
			if strings.ContainsAny(token, " \n") || len(token) < 32 {
				t.Fatalf("token create printed %q", stdout.String())
			}

			// Second start: no new password printed; both tokens work.
			p2 := start(t, bin, append(storage, "PARLEY_BOOTSTRAP_TOKEN="+boot))
			if strings.Contains(p2.stdout.String(), "password") {
				t.Fatalf("second start printed credentials again:\n%s", p2.stdout)
			}
			if code, body := get(t, p2.addr, "/admins", token); code != 200 || !strings.Contains(body, "boss@example.com") {
				t.Fatalf("created token: %d %s", code, body)
			}
			if code, _ := get(t, p2.addr, "/me", boot); code != 200 {
				t.Fatalf("bootstrap token after restart: %d", code)
			}

			// SIGTERM drains an in-flight request: start a slow-ish request then stop.
			done := make(chan int, 1)
			go func() {
				code, _ := get(t, p2.addr, "/contacts?per_page=150", token)
				done <- code
			}()
			time.Sleep(5 * time.Millisecond)
			p2.stop(t)
			select {
			case code := <-done:
				if code != 200 && code != 0 {
					t.Fatalf("in-flight request answered %d during shutdown", code)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("in-flight request never finished")
			}
		})
	}
}

func TestCommandErrors(t *testing.T) {
	var out, errb bytes.Buffer
	for _, args := range [][]string{{}, {"frobnicate"}, {"token"}, {"token", "create"}, {"serve", "--addr", ""}, {"serve", "--public-url", "ftp://x"}} {
		out.Reset()
		errb.Reset()
		err := run(context.Background(), args, &out, &errb)
		if err == nil {
			t.Errorf("parley %v: no error", args)
		}
	}
	if err := run(context.Background(), []string{"help"}, &out, &errb); err != nil || !strings.Contains(out.String(), "parley serve") {
		t.Fatalf("help: %v %q", err, out.String())
	}
}
