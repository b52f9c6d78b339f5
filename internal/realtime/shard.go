package realtime

import (
	"context"
	"time"

	"github.com/coder/websocket"

	"github.com/parleyhq/parley/internal/bus"
)

// shard is one hub goroutine owning a part of the connections: commands
// arrive over cmds, so the maps need no lock, and nothing it does blocks on
// a client (queues are bounded and overflow to the log; writes happen on
// the connections' own writer goroutines, and a write blocked for
// WriteTimeout drops the client).
type shard struct {
	hub   *Hub
	cmds  chan any
	conns map[string]map[*conn]struct{} // workspace → connections
}

type register struct{ c *conn }
type unregister struct{ c *conn }

func newShard(h *Hub) *shard {
	return &shard{hub: h, cmds: make(chan any, 256), conns: map[string]map[*conn]struct{}{}}
}

func (s *shard) run(ctx context.Context) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			for _, cs := range s.conns {
				for c := range cs {
					c.close(websocket.StatusGoingAway, "server shutting down; resume from the last sequence")
				}
			}
			return
		case cmd := <-s.cmds:
			switch cmd := cmd.(type) {
			case register:
				cs := s.conns[cmd.c.workspace]
				if cs == nil {
					cs = map[*conn]struct{}{}
					s.conns[cmd.c.workspace] = cs
				}
				cs[cmd.c] = struct{}{}
				// The connection reads the log from its cursor now: every
				// batch this shard handles from here on reaches it too.
				cmd.c.mu.Lock()
				cmd.c.kick()
				cmd.c.mu.Unlock()
			case unregister:
				s.remove(cmd.c)
			case *batch:
				for c := range s.conns[cmd.workspace] {
					c.enqueue(cmd)
				}
			case bus.Signal:
				for c := range s.conns[cmd.Workspace] {
					c.sendSignal(cmd)
				}
			}
		case now := <-tick.C:
			s.heartbeat(now)
		}
	}
}

func (s *shard) remove(c *conn) {
	if cs := s.conns[c.workspace]; cs != nil {
		delete(cs, c)
		if len(cs) == 0 {
			delete(s.conns, c.workspace)
		}
	}
}

// heartbeat pings connections silent for PingInterval; a ping without a
// pong within PongTimeout closes the connection.
func (s *shard) heartbeat(now time.Time) {
	limit := now.Add(-s.hub.opts.PingInterval).UnixNano()
	for _, cs := range s.conns {
		for c := range cs {
			if c.alive.Load() < limit {
				c.ping()
			}
		}
	}
}
