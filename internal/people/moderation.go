package people

import (
	"context"
	"fmt"

	"mediashare/internal/accounts"
	"mediashare/internal/apperr"
	"mediashare/internal/events"
	"mediashare/internal/policy"
)

// Account actions an admin takes on the moderation page.
const (
	ActionPromote = "promote"
	ActionDemote  = "demote"
	ActionDisable = "disable"
	ActionEnable  = "enable"
)

// Moderate promotes, demotes, disables or enables the account id for the
// admin by, as the account aggregate decides (nobody demotes or disables
// themself; disabling and enabling take a reason). Each is an event on
// the account's stream under the admin's actor, so the audit log shows
// who made whom admin; disabling also ends the account's sessions.
func (s *Service) Moderate(ctx context.Context, by policy.Principal, id, action, reason string) (accounts.Account, error) {
	if err := s.Policy.MayManageAccounts(by); err != nil {
		return accounts.Account{}, err
	}
	admin, err := s.Account(ctx, by.AccountID)
	if err != nil {
		return accounts.Account{}, err
	}
	a, err := s.Account(ctx, id)
	if err != nil {
		return accounts.Account{}, err
	}
	if !a.Exists() {
		return accounts.Account{}, apperr.New(apperr.NotFound, "There is no such account.")
	}
	now := s.now()
	var ev events.Event
	switch action {
	case ActionPromote:
		ev, err = a.Promote(admin, now)
	case ActionDemote:
		ev, err = a.Demote(admin, now)
	case ActionDisable:
		ev, err = a.Disable(admin, reason, now)
	case ActionEnable:
		ev, err = a.Enable(admin, reason, now)
	default:
		return accounts.Account{}, apperr.New(apperr.NotFound, "There is no such action on accounts.")
	}
	if err != nil {
		return accounts.Account{}, err
	}
	if _, err := s.Events.Append(ctx, a.ID, a.Version, ev); err != nil {
		if events.IsConflict(err) {
			return accounts.Account{}, apperr.New(apperr.Conflict, "The account changed meanwhile; please look again.")
		}
		return accounts.Account{}, fmt.Errorf("people: %s %s: %w", action, a.ID, err)
	}
	if action == ActionDisable {
		if err := s.Auth.RevokeSessions(ctx, a.ID); err != nil {
			return accounts.Account{}, fmt.Errorf("people: disable %s: sign out: %w", a.ID, err)
		}
	}
	return s.Account(ctx, a.ID)
}
