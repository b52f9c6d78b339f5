package store

import (
	"context"
	"database/sql"
	"strings"
	"sync"
)

// maxCachedStmts bounds a statement cache: SQL text is built from fixed
// pieces (filters vary in shape, never in values), but a bound keeps an
// unusual workload from growing it without limit. Past it, statements run
// unprepared.
const maxCachedStmts = 2000

// stmtCache keeps statements prepared on a pool for the life of the pool.
// database/sql prepares a cached statement again on each pool connection
// as needed, transparently. A nil cache (PostgreSQL: pgx caches itself)
// prepares nothing.
type stmtCache struct {
	db    *sql.DB
	mu    sync.RWMutex
	stmts map[string]*sql.Stmt
	bad   map[string]bool // texts that cannot be prepared (several statements)
}

func newStmtCache(db *sql.DB) *stmtCache {
	return &stmtCache{db: db, stmts: map[string]*sql.Stmt{}, bad: map[string]bool{}}
}

// lookup returns q if it is prepared already.
func (c *stmtCache) lookup(q string) *sql.Stmt {
	if c == nil {
		return nil
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.stmts[q]
}

// wants reports whether q should be prepared into the cache.
func (c *stmtCache) wants(q string) bool {
	if c == nil || strings.Contains(q, ";") {
		return false
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	return !c.bad[q] && len(c.stmts) < maxCachedStmts
}

// prepareAll prepares texts into the cache (used for the write pool after
// the transaction that needed them released its connection).
func (c *stmtCache) prepareAll(ctx context.Context, texts []string) {
	for _, q := range texts {
		c.get(ctx, q)
	}
}

// get returns q prepared, or nil when it cannot or should not be. It must
// not be called while holding the pool's last free connection.
func (c *stmtCache) get(ctx context.Context, q string) *sql.Stmt {
	if c == nil || strings.Contains(q, ";") {
		// Several statements (migrations) run unprepared.
		return nil
	}
	c.mu.RLock()
	st, ok := c.stmts[q]
	bad := c.bad[q]
	n := len(c.stmts)
	c.mu.RUnlock()
	if ok {
		return st
	}
	if bad || n >= maxCachedStmts {
		return nil
	}
	st, err := c.db.PrepareContext(ctx, q)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		c.mu.Lock()
		if len(c.bad) < maxCachedStmts {
			c.bad[q] = true
		}
		c.mu.Unlock()
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if prev, ok := c.stmts[q]; ok {
		_ = st.Close()
		return prev
	}
	c.stmts[q] = st
	return st
}

func (c *stmtCache) close() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.stmts {
		_ = st.Close()
	}
	c.stmts = map[string]*sql.Stmt{}
}
