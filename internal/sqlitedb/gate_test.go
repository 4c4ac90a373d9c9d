package sqlitedb

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

func openTemp(t *testing.T) (*sql.DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "gate.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Exec(`CREATE TABLE t (n INTEGER)`); err != nil {
		t.Fatal(err)
	}
	return db, path
}

// A second writer waits in the gate while a write transaction is open,
// and goes on the moment it ends; readers are not held up meanwhile.
func TestGateQueuesWritersNotReaders(t *testing.T) {
	db, path := openTemp(t)
	g := gateOf(t, path)
	ctx := context.Background()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !g.held() {
		t.Fatal("an open write transaction does not hold the gate")
	}
	if _, err := tx.Exec(`INSERT INTO t VALUES (1)`); err != nil {
		t.Fatal(err)
	}

	wrote := make(chan error, 1)
	go func() {
		_, err := db.ExecContext(ctx, `INSERT INTO t VALUES (2)`)
		wrote <- err
	}()
	began := make(chan error, 1)
	go func() {
		tx2, err := db.BeginTx(ctx, nil)
		if err == nil {
			_, err = tx2.Exec(`INSERT INTO t VALUES (3)`)
			if err == nil {
				err = tx2.Commit()
			}
		}
		began <- err
	}()

	// Reads and read-only transactions pass the gate while it is held.
	var n int
	if err := db.QueryRow(`SELECT COUNT(*) FROM t`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("a read while a write is open: %d rows, %v; want 0 rows, no error", n, err)
	}
	ro, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		t.Fatalf("a read-only transaction while a write is open: %v", err)
	}
	ro.Rollback()
	if !g.held() {
		t.Fatal("a read-only transaction's end released the writer's gate")
	}

	select {
	case err := <-wrote:
		t.Fatalf("a statement wrote while another transaction held the gate (%v)", err)
	case err := <-began:
		t.Fatalf("a second write transaction ran while another held the gate (%v)", err)
	case <-time.After(100 * time.Millisecond):
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []chan error{wrote, began} {
		if err := <-c; err != nil {
			t.Fatalf("a queued writer after the gate opened: %v", err)
		}
	}
	if err := db.QueryRow(`SELECT COUNT(*) FROM t`).Scan(&n); err != nil || n != 3 {
		t.Fatalf("rows: %d (%v), want 3", n, err)
	}
	if g.held() {
		t.Fatal("the gate is still held after every writer finished")
	}
}

// Writers queued in the gate go in the order they came.
func TestGateIsFirstComeFirstServed(t *testing.T) {
	db, path := openTemp(t)
	g := gateOf(t, path)
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	const n = 5
	order := make(chan int, n)
	var wg sync.WaitGroup
	for i := range n {
		queued := g.waiting.Load()
		wg.Go(func() {
			tx, err := db.Begin()
			if err != nil {
				t.Error(err)
				return
			}
			order <- i
			tx.Rollback()
		})
		// The next one is started once this one waits in the gate.
		for deadline := time.Now().Add(5 * time.Second); g.waiting.Load() == queued; {
			if time.Now().After(deadline) {
				t.Fatal("a writer never reached the gate")
			}
			time.Sleep(time.Millisecond)
		}
		time.Sleep(10 * time.Millisecond) // from the count to the queue itself
	}
	tx.Rollback()
	wg.Wait()
	close(order)
	want := 0
	for i := range order {
		if i != want {
			t.Fatalf("writer %d went in place %d", i, want)
		}
		want++
	}
}

// A writer waiting in the gate gives up when its context ends, and a
// rolled-back or failed transaction releases the gate.
func TestGateHonoursContextAndReleases(t *testing.T) {
	db, _ := openTemp(t)
	ctx := context.Background()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := db.ExecContext(short, `INSERT INTO t VALUES (1)`); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a write waiting past its deadline: %v, want context.DeadlineExceeded", err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	// A failing statement outside a transaction releases it too.
	if _, err := db.Exec(`INSERT INTO missing VALUES (1)`); err == nil {
		t.Fatal("an insert into a missing table succeeded")
	}
	done := make(chan error, 1)
	go func() {
		_, err := db.Exec(`INSERT INTO t VALUES (1)`)
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the gate stayed shut after a rollback and a failed statement")
	}
}

// Many writers at once all succeed, and two handles on one file in one
// process share its gate.
func TestGateManyWritersOneFile(t *testing.T) {
	db, path := openTemp(t)
	other, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	const n = 40
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		h := db
		if i%2 == 1 {
			h = other
		}
		wg.Go(func() {
			tx, err := h.Begin()
			if err == nil {
				_, err = tx.Exec(`INSERT INTO t VALUES (?)`, i)
				if err == nil {
					err = tx.Commit()
				} else {
					tx.Rollback()
				}
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	var got int
	if err := db.QueryRow(`SELECT COUNT(*) FROM t`).Scan(&got); err != nil || got != n {
		t.Fatalf("rows: %d (%v), want %d", got, err, n)
	}
	g1, _ := gates.Load(mustAbs(t, path))
	if g1 == nil {
		t.Fatal("no gate recorded for the file")
	}
}

func gateOf(t *testing.T, path string) *gate {
	t.Helper()
	g, ok := gates.Load(mustAbs(t, path))
	if !ok {
		t.Fatal("no gate recorded for the file")
	}
	return g.(*gate)
}

func mustAbs(t *testing.T, p string) string {
	t.Helper()
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
