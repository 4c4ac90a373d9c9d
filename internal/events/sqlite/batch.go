package sqlite

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"mediashare/internal/events"
)

var (
	_ events.BatchFeed     = (*Store)(nil)
	_ events.BatchAttempts = (*Store)(nil)
)

// BeginAll implements events.BatchAttempts: one transaction.
func (s *Store) BeginAll(ctx context.Context, consumer string, keys []string) ([]int, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("events/sqlite: count %d attempts of %s: %w", len(keys), consumer, err)
	}
	defer tx.Rollback()
	st, err := tx.PrepareContext(ctx, `INSERT INTO feed_attempts (consumer, key, attempts) VALUES (?, ?, 1)
		ON CONFLICT (consumer, key) DO UPDATE SET attempts = attempts + 1 RETURNING attempts`)
	if err != nil {
		return nil, fmt.Errorf("events/sqlite: count %d attempts of %s: %w", len(keys), consumer, err)
	}
	defer st.Close()
	counts := make([]int, len(keys))
	for i, k := range keys {
		if err := st.QueryRowContext(ctx, consumer, k).Scan(&counts[i]); err != nil {
			return nil, fmt.Errorf("events/sqlite: count attempt %s/%s: %w", consumer, k, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("events/sqlite: count %d attempts of %s: %w", len(keys), consumer, err)
	}
	return counts, nil
}

// ForgetAll implements events.BatchAttempts: one transaction.
func (s *Store) ForgetAll(ctx context.Context, consumer string, keys []string) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("events/sqlite: forget %d attempts of %s: %w", len(keys), consumer, err)
	}
	defer tx.Rollback()
	st, err := tx.PrepareContext(ctx, `DELETE FROM feed_attempts WHERE consumer = ? AND key = ?`)
	if err != nil {
		return fmt.Errorf("events/sqlite: forget %d attempts of %s: %w", len(keys), consumer, err)
	}
	defer st.Close()
	for _, k := range keys {
		if _, err := st.ExecContext(ctx, consumer, k); err != nil {
			return fmt.Errorf("events/sqlite: forget attempts %s/%s: %w", consumer, k, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("events/sqlite: forget %d attempts of %s: %w", len(keys), consumer, err)
	}
	return nil
}

// FollowBatches implements events.BatchFeed by tailing the global
// sequence, up to max events a batch; the checkpoint in cp is saved
// after each batch. single handles the events delivered one at a time
// (see events.BatchFeed).
func (s *Store) FollowBatches(ctx context.Context, name string, cp events.Checkpoints, max int, h events.BatchHandler) error {
	if cp == nil {
		return fmt.Errorf("events/sqlite: follow %s: no checkpoints given", name)
	}
	if max <= 0 {
		max = 100
	}
	single := func(ctx context.Context, e events.Event) error {
		errs := h(ctx, []events.Event{e})
		if len(errs) != 1 {
			return fmt.Errorf("events/sqlite: batch handler of %s answered %d results for 1 event", name, len(errs))
		}
		return errs[0]
	}
	where := func(e events.Event) string { return e.Position }
	poison := s.poison()
	pos, err := cp.Checkpoint(ctx, name)
	for err != nil {
		if !sleep(ctx, s.RetryDelay) {
			return ctx.Err()
		}
		pos, err = cp.Checkpoint(ctx, name)
	}
	for {
		wake := s.changes() // taken before reading, so no append is missed
		evs, _, err := s.ReadAll(ctx, pos, max)
		if err != nil {
			if !sleep(ctx, s.RetryDelay) {
				return ctx.Err()
			}
			continue
		}
		if len(evs) > 0 {
			for {
				if err := ctx.Err(); err != nil {
					return err
				}
				last := evs[len(evs)-1].Position
				err := poison.DeliverBatch(ctx, s, name, evs, where, h, single)
				if err == nil {
					err = cp.SaveCheckpoint(ctx, name, last)
				}
				if err == nil {
					pos = last
					break
				}
				if ctx.Err() == nil {
					slog.Warn("events/sqlite: feed stalled; retrying", "consumer", name, "position", last, "error", err)
				}
				if !sleep(ctx, s.RetryDelay) {
					return ctx.Err()
				}
			}
			continue
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-wake:
		case <-time.After(s.PollInterval):
		}
	}
}
