// Package testdb gives tests fresh, migrated Parley databases: SQLite always,
// and PostgreSQL when PARLEY_TEST_POSTGRES_URL is set. Under CI=true a
// missing or unreachable PostgreSQL fails the test instead of skipping it.
package testdb

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/store"
)

// Each runs fn as a subtest on a fresh SQLite database and, when configured,
// on a fresh PostgreSQL database.
func Each(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLite(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, Postgres(t)) })
}

// SQLite opens a migrated SQLite database in a temp dir.
func SQLite(t testing.TB) *store.DB {
	t.Helper()
	dir := t.TempDir()
	db, err := store.Open(context.Background(), "", dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return db
}

// PostgresURL returns PARLEY_TEST_POSTGRES_URL, skipping the test when it is
// unset outside CI and failing it under CI=true.
func PostgresURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("PARLEY_TEST_POSTGRES_URL")
	if u == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("PARLEY_TEST_POSTGRES_URL is not set but CI=true: PostgreSQL tests must run")
		}
		t.Skip("PARLEY_TEST_POSTGRES_URL not set")
	}
	return u
}

// FreshPostgres creates an empty database on the test server and returns
// its URL; the database is dropped when the test ends.
func FreshPostgres(t testing.TB) string {
	t.Helper()
	base := PostgresURL(t)
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "parley_t_" + hex.EncodeToString(b)
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create test database (is PostgreSQL running at %s?): %v", redact(base), err)
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	t.Cleanup(func() {
		a, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer a.Close()
		_, _ = a.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	return u.String()
}

// Postgres opens a migrated fresh PostgreSQL database.
func Postgres(t testing.TB) *store.DB {
	t.Helper()
	u := FreshPostgres(t)
	db, err := store.Open(context.Background(), u, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return db
}

func redact(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "the configured URL"
	}
	return u.Redacted()
}
