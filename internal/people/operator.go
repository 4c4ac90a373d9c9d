package people

import (
	"context"
	"errors"
	"fmt"

	"mediashare/internal/accounts"
	"mediashare/internal/apperr"
	"mediashare/internal/events"
)

// AddUser makes an account with a password for the operator at the
// command line (mediashare users add). The site counts as having its
// accounts from then on.
func (s *Service) AddUser(ctx context.Context, username, password string, admin bool) (accounts.Account, error) {
	name, err := accounts.ParseName(username)
	if err != nil {
		return accounts.Account{}, err
	}
	if err := accounts.CheckPassword(password, name.Normalised); err != nil {
		return accounts.Account{}, err
	}
	if existing, err := s.Account(ctx, name.ID()); err != nil {
		return accounts.Account{}, err
	} else if existing.Exists() {
		return accounts.Account{}, taken()
	}
	hash, err := s.Hasher.Hash(ctx, password)
	if err != nil {
		return accounts.Account{}, err
	}
	first, err := s.takeFirstAdmin(ctx, name.ID())
	if err != nil {
		return accounts.Account{}, err
	}
	role := events.RoleMember
	if admin {
		role = events.RoleAdmin
	}
	a, err := s.register(ctx, accounts.Registration{Name: name, Role: role, Via: events.ViaPassword, By: accounts.Operator}, hash)
	switch {
	case err == nil && first:
		s.hasAccounts.Store(true)
	case err != nil && first && !registered(err):
		s.release(ctx, firstAdminHash, name.ID())
	}
	return a, err
}

// Users lists every account, oldest first. It reads the audit log's
// AccountRegistered events and each account's stream: O(accounts), for
// the operator's list.
func (s *Service) Users(ctx context.Context) ([]accounts.Account, error) {
	if s.Audit == nil {
		return nil, errors.New("people: this backend has no audit log to list accounts from")
	}
	var ids []string
	before := ""
	for {
		evs, next, err := s.Audit.History(ctx, events.Filter{Types: []events.Type{events.AccountRegistered}}, before, 500)
		if err != nil {
			return nil, fmt.Errorf("people: list accounts: %w", err)
		}
		for _, e := range evs {
			ids = append(ids, e.Stream)
		}
		if next == "" {
			break
		}
		before = next
	}
	out := make([]accounts.Account, 0, len(ids))
	for i := len(ids) - 1; i >= 0; i-- { // History is newest first
		a, err := s.Account(ctx, ids[i])
		if err != nil {
			return nil, err
		}
		if a.Exists() {
			out = append(out, a)
		}
	}
	return out, nil
}

// DisableUser stops an account signing in, for the operator, and ends
// its sessions.
func (s *Service) DisableUser(ctx context.Context, username, reason string) (accounts.Account, error) {
	a, err := s.ByName(ctx, username)
	if err != nil {
		return accounts.Account{}, err
	}
	if !a.Exists() {
		return accounts.Account{}, apperr.New(apperr.NotFound, "There is no account named %q.", username)
	}
	ev, err := a.Disable(accounts.Operator, reason, s.now())
	if err != nil {
		return accounts.Account{}, err
	}
	if _, err := s.Events.Append(ctx, a.ID, a.Version, ev); err != nil {
		return accounts.Account{}, fmt.Errorf("people: disable %s: %w", a.ID, err)
	}
	if err := s.Auth.RevokeSessions(ctx, a.ID); err != nil {
		return accounts.Account{}, fmt.Errorf("people: disable %s: sign out: %w", a.ID, err)
	}
	return s.Account(ctx, a.ID)
}
