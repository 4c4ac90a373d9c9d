package sqlitedb

import (
	"context"
	"database/sql/driver"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// SQLite lets one connection write at a time. When several of a
// process's connections want to, the losers poll: SQLite's busy handler
// sleeps 1, 2, 5, 10, … up to 100 ms between tries, so under contention
// the lock sits free while writers sleep, and whoever wakes first wins,
// not whoever asked first. The write gate queues a process's writers in
// Go instead: a write transaction (BeginTx, not read-only) and a
// statement run outside a transaction hold it, and the next writer in
// line takes it the moment it is released. SQLite's own locking still
// stands behind it, for other processes (mediashare users, replay) and
// for the writes the gate does not see (a prepared statement run outside
// a transaction).

// gateWait is how long a writer waits for the gate before it goes on
// without it, leaving the wait to SQLite's busy timeout: a writer that
// already holds a transaction and writes on a second connection (a bug
// SQLite would also make wait) is held up, not stuck.
const gateWait = 10 * time.Second

// gate is a lock with a queue: a buffered channel of one, whose blocked
// senders Go wakes in the order they came.
type gate struct {
	ch      chan struct{}
	waiting atomic.Int64 // writers in the queue (for tests)
}

func newGate() *gate { return &gate{ch: make(chan struct{}, 1)} }

// held reports whether a writer holds the gate.
func (g *gate) held() bool { return len(g.ch) == 1 }

// acquire waits for the gate. It returns the release func (a no-op when
// it went on without the gate) or ctx's error.
func (g *gate) acquire(ctx context.Context) (func(), error) {
	select {
	case g.ch <- struct{}{}:
		return g.releaser(), nil
	default:
	}
	g.waiting.Add(1)
	defer g.waiting.Add(-1)
	t := time.NewTimer(gateWait)
	defer t.Stop()
	select {
	case g.ch <- struct{}{}:
		return g.releaser(), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-t.C:
		return func() {}, nil
	}
}

func (g *gate) releaser() func() {
	var once sync.Once
	return func() { once.Do(func() { <-g.ch }) }
}

// gatedConnector opens modernc's connections and gates their writes.
type gatedConnector struct {
	base driver.Connector
	gate *gate
}

func (c *gatedConnector) Connect(ctx context.Context) (driver.Conn, error) {
	dc, err := c.base.Connect(ctx)
	if err != nil {
		return nil, err
	}
	inner, ok := dc.(innerConn)
	if !ok {
		dc.Close()
		return nil, errors.New("sqlitedb: the driver's connection lacks the context methods")
	}
	return &gatedConn{inner: inner, gate: c.gate}, nil
}

func (c *gatedConnector) Driver() driver.Driver { return c.base.Driver() }

// innerConn is what modernc's connection implements and gatedConn passes on.
type innerConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

// gatedConn is one connection. database/sql uses a connection from one
// goroutine at a time, so inTx needs no lock.
type gatedConn struct {
	inner innerConn
	gate  *gate
	inTx  bool
}

func (c *gatedConn) Prepare(query string) (driver.Stmt, error) { return c.inner.Prepare(query) }
func (c *gatedConn) Close() error                              { return c.inner.Close() }

func (c *gatedConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

// BeginTx holds the gate for a write transaction until its Commit or
// Rollback; a read-only one (a deferred BEGIN, which takes no write lock)
// goes by.
func (c *gatedConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if opts.ReadOnly {
		return c.inner.BeginTx(ctx, opts)
	}
	release, err := c.gate.acquire(ctx)
	if err != nil {
		return nil, err
	}
	tx, err := c.inner.BeginTx(ctx, opts)
	if err != nil {
		release()
		return nil, err
	}
	c.inTx = true
	return &gatedTx{Tx: tx, end: func() { c.inTx = false; release() }}, nil
}

func (c *gatedConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.inner.PrepareContext(ctx, query)
}

// ExecContext holds the gate for a statement run outside a transaction.
func (c *gatedConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if c.inTx {
		return c.inner.ExecContext(ctx, query, args)
	}
	release, err := c.gate.acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	return c.inner.ExecContext(ctx, query, args)
}

func (c *gatedConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	return c.inner.QueryContext(ctx, query, args)
}

func (c *gatedConn) Ping(ctx context.Context) error         { return c.inner.Ping(ctx) }
func (c *gatedConn) ResetSession(ctx context.Context) error { return c.inner.ResetSession(ctx) }
func (c *gatedConn) IsValid() bool                          { return c.inner.IsValid() }

// gatedTx releases the gate once it ends, however it ends.
type gatedTx struct {
	driver.Tx
	end func()
}

func (t *gatedTx) Commit() error {
	defer t.end()
	return t.Tx.Commit()
}

func (t *gatedTx) Rollback() error {
	defer t.end()
	return t.Tx.Rollback()
}
