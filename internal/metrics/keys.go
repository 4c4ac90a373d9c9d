package metrics

import (
	"context"
	"time"

	"mediashare/internal/keyring"
)

// timedKeys times and counts every call of the keyring (port "keys").
type timedKeys struct {
	k keyring.Store
	m *Metrics
}

var _ keyring.Store = (*timedKeys)(nil)

func (t *timedKeys) Create(ctx context.Context, entry string, key []byte) ([]byte, error) {
	start := time.Now()
	out, err := t.k.Create(ctx, entry, key)
	t.m.observe("keys", "create", start, err)
	return out, err
}

func (t *timedKeys) Get(ctx context.Context, entry string) ([]byte, error) {
	start := time.Now()
	out, err := t.k.Get(ctx, entry)
	t.m.observe("keys", "get", start, err)
	return out, err
}

func (t *timedKeys) Destroy(ctx context.Context, entry string, at time.Time) error {
	start := time.Now()
	err := t.k.Destroy(ctx, entry, at)
	t.m.observe("keys", "destroy", start, err)
	return err
}

func (t *timedKeys) Ping(ctx context.Context) error {
	start := time.Now()
	err := t.k.Ping(ctx)
	t.m.observe("keys", "ping", start, err)
	return err
}
