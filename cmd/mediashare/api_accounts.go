package main

import (
	"context"
	"errors"
	"fmt"

	"mediashare/internal/accounts"
	"mediashare/internal/apperr"
	"mediashare/internal/events"
)

// accountLookup returns an account by id from its stream; an id with no
// account stream (an anonymous owner) is an account that does not exist.
func accountLookup(store events.Store) func(ctx context.Context, id string) (accounts.Account, error) {
	return func(ctx context.Context, id string) (accounts.Account, error) {
		if !events.IsAccountStream(id) {
			return accounts.Account{}, nil
		}
		evs, err := store.Load(ctx, id)
		if errors.Is(err, events.ErrNotFound) {
			return accounts.Account{}, nil
		}
		if err != nil {
			return accounts.Account{}, fmt.Errorf("account %s: %w", id, err)
		}
		return accounts.Fold(evs)
	}
}

// accountByName finds the account a person names (as they sign in with it).
func accountByName(ctx context.Context, store events.Store, name string) (accounts.Account, error) {
	n, err := accounts.ParseName(name)
	if err != nil {
		return accounts.Account{}, fmt.Errorf("--user %q: %s", name, apperr.MessageOf(err))
	}
	a, err := accountLookup(store)(ctx, n.ID())
	if err != nil {
		return accounts.Account{}, err
	}
	if !a.Exists() {
		return accounts.Account{}, fmt.Errorf("--user %q: there is no such account", name)
	}
	return a, nil
}
