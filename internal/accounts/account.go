package accounts

import (
	"fmt"
	"time"

	"mediashare/internal/apperr"
	"mediashare/internal/events"
	"mediashare/internal/ids"
	"mediashare/internal/text"
)

// Account is an account's state, folded from its events.
type Account struct {
	ID          string // the stream id; "" when the account does not exist
	Name        string // normalised
	DisplayName string
	Role        string // events.RoleMember or events.RoleAdmin
	Via         string // events.ViaPassword or events.ViaOIDC
	OIDCIssuer  string
	OIDCSubject string

	Disabled       bool
	DisabledReason string

	RegisteredAt      time.Time
	PasswordChangedAt time.Time // zero until the first change
	Version           int       // the stream's version: append the next events at it
}

// Operator is the one at the command line (mediashare users …): it may do
// what an admin may, and its events carry the system actor.
var Operator = Account{ID: string(events.SystemActor), Name: string(events.SystemActor), Role: events.RoleAdmin}

// Fold folds an account stream's events, in version order, into the
// account. No events give an Account that does not exist (Exists is
// false). An event already folded (a version not above the last) is
// skipped; an event of another stream, a type it does not know, or a
// stream that does not begin with AccountRegistered is an error.
func Fold(evs []events.Event) (Account, error) {
	var a Account
	for _, e := range evs {
		if e.Version <= a.Version {
			continue
		}
		if a.ID != "" && e.Stream != a.ID {
			return Account{}, fmt.Errorf("accounts: fold %s: event %s belongs to stream %s", a.ID, e.ID, e.Stream)
		}
		if a.ID == "" && e.Type != events.AccountRegistered {
			return Account{}, fmt.Errorf("accounts: fold %s: stream begins with %s v%d, not %s", e.Stream, e.Type, e.Version, events.AccountRegistered)
		}
		switch e.Type {
		case events.AccountRegistered:
			if a.ID != "" {
				return Account{}, fmt.Errorf("accounts: fold %s: registered twice (v%d)", a.ID, e.Version)
			}
			var p events.Registered
			if err := e.Decode(&p); err != nil {
				return Account{}, err
			}
			a = Account{
				ID: e.Stream, Name: p.Name, DisplayName: p.DisplayName, Role: p.Role, Via: p.Via,
				OIDCIssuer: p.OIDCIssuer, OIDCSubject: p.OIDCSubject, RegisteredAt: e.Time,
			}
		case events.AccountPromoted:
			a.Role = events.RoleAdmin
		case events.AccountDemoted:
			a.Role = events.RoleMember
		case events.AccountDisabled:
			var p events.AccountStatusChange
			if err := e.Decode(&p); err != nil {
				return Account{}, err
			}
			a.Disabled, a.DisabledReason = true, p.Reason
		case events.AccountEnabled:
			a.Disabled, a.DisabledReason = false, ""
		case events.PasswordChanged:
			a.PasswordChangedAt = e.Time
		default:
			return Account{}, fmt.Errorf("accounts: fold %s: unknown event type %q", e.Stream, e.Type)
		}
		a.Version = e.Version
	}
	return a, nil
}

// Exists reports whether the account was registered.
func (a Account) Exists() bool { return a.ID != "" }

// IsAdmin reports whether the account may act as an admin now: an admin
// that is not disabled.
func (a Account) IsAdmin() bool { return a.Exists() && a.Role == events.RoleAdmin && !a.Disabled }

// CanSignIn returns nil when the account may sign in, a NotFound error
// when it does not exist and a Forbidden one when it is disabled. Sign-in
// pages should answer an unknown name and a wrong password alike; they
// may tell a disabled account why once its password checked out.
func (a Account) CanSignIn() error {
	switch {
	case !a.Exists():
		return apperr.New(apperr.NotFound, "There is no such account.")
	case a.Disabled:
		return apperr.New(apperr.Forbidden, "This account is disabled.")
	}
	return nil
}

// SessionValid reports whether a session made at created may still act
// for the account: the account may sign in and the password has not
// changed since (a change signs out every session made before it). API
// tokens are not sessions: a password change leaves them working (they
// are revoked one by one, and stop when the account is disabled).
func (a Account) SessionValid(created time.Time) bool {
	return a.CanSignIn() == nil && !created.Before(a.PasswordChangedAt)
}

// Actor is the events.Actor of what the account does.
func (a Account) Actor() events.Actor {
	if a.ID == Operator.ID {
		return events.SystemActor
	}
	return events.AccountActor(a.ID)
}

// Registration is what a new account is made from.
type Registration struct {
	Name        Name   // from ParseName
	Role        string // events.RoleMember or events.RoleAdmin (the first account of a site is its admin)
	Via         string // events.ViaPassword or events.ViaOIDC
	OIDCIssuer  string // with ViaOIDC: the issuer and subject of the identity
	OIDCSubject string
	Invite      string // the id of the invite consumed, if any
	By          Account
}

// Register returns the AccountRegistered event that makes the account.
// Append it to the stream Name.ID() at version 0: a conflict means the
// name is taken.
func Register(r Registration, at time.Time) (events.Event, error) {
	if r.Name.Normalised == "" {
		return events.Event{}, apperr.FieldError(apperr.Invalid, "username", "Choose a username.")
	}
	if r.Role != events.RoleMember && r.Role != events.RoleAdmin {
		return events.Event{}, fmt.Errorf("accounts: register %q: unknown role %q", r.Name.Normalised, r.Role)
	}
	switch r.Via {
	case events.ViaPassword:
		if r.OIDCIssuer != "" || r.OIDCSubject != "" {
			return events.Event{}, fmt.Errorf("accounts: register %q: an OIDC identity on a password account", r.Name.Normalised)
		}
	case events.ViaOIDC:
		if r.OIDCIssuer == "" || r.OIDCSubject == "" {
			return events.Event{}, fmt.Errorf("accounts: register %q: OIDC account without issuer and subject", r.Name.Normalised)
		}
	default:
		return events.Event{}, fmt.Errorf("accounts: register %q: unknown way %q", r.Name.Normalised, r.Via)
	}
	actor := r.By.Actor()
	if !r.By.Exists() {
		actor = events.AccountActor(r.Name.ID()) // signing oneself up
	}
	return events.New(ids.New(at), events.AccountRegistered, r.Name.ID(), at, actor, events.Registered{
		AccountID: r.Name.ID(), Name: r.Name.Normalised, DisplayName: r.Name.Display,
		Role: r.Role, Via: r.Via, OIDCIssuer: r.OIDCIssuer, OIDCSubject: r.OIDCSubject, Invite: r.Invite,
	})
}

// MaxReasonLength bounds the reason given for disabling or enabling.
const MaxReasonLength = 500

func (a Account) mustExist() error {
	if !a.Exists() {
		return apperr.New(apperr.NotFound, "There is no such account.")
	}
	return nil
}

func mustBeAdmin(by Account) error {
	if !by.IsAdmin() {
		return apperr.New(apperr.Forbidden, "Only an admin may do this.")
	}
	return nil
}

func (a Account) event(t events.Type, by Account, at time.Time, p any) (events.Event, error) {
	return events.New(ids.New(at), t, a.ID, at, by.Actor(), p)
}

// Promote makes the account an admin. by must be an admin; a disabled
// account is enabled first.
func (a Account) Promote(by Account, at time.Time) (events.Event, error) {
	if err := a.mustExist(); err != nil {
		return events.Event{}, err
	}
	if err := mustBeAdmin(by); err != nil {
		return events.Event{}, err
	}
	if a.Disabled {
		return events.Event{}, apperr.New(apperr.Conflict, "%s is disabled; enable the account first.", a.DisplayName)
	}
	if a.Role == events.RoleAdmin {
		return events.Event{}, apperr.New(apperr.Conflict, "%s is already an admin.", a.DisplayName)
	}
	return a.event(events.AccountPromoted, by, at, events.RoleChange{By: by.ID})
}

// Demote makes an admin a member again. by must be another admin: nobody
// demotes themself (so a site does not lose its last admin by a slip).
func (a Account) Demote(by Account, at time.Time) (events.Event, error) {
	return a.DemoteFor(by, "", at)
}

// DemoteFor is Demote with the reason the audit log shows (the identity
// provider no longer carries the admin claim).
func (a Account) DemoteFor(by Account, reason string, at time.Time) (events.Event, error) {
	if err := a.mustExist(); err != nil {
		return events.Event{}, err
	}
	if err := mustBeAdmin(by); err != nil {
		return events.Event{}, err
	}
	if by.ID == a.ID {
		return events.Event{}, apperr.New(apperr.Forbidden, "You cannot remove your own admin role.")
	}
	if a.Role != events.RoleAdmin {
		return events.Event{}, apperr.New(apperr.Conflict, "%s is not an admin.", a.DisplayName)
	}
	return a.event(events.AccountDemoted, by, at, events.RoleChange{By: by.ID, Reason: reason})
}

func checkReason(reason string) (string, error) {
	return text.Clean(reason, text.Rules{Field: "reason", What: "reason", Max: MaxReasonLength, Required: "Give a reason.", Lines: true})
}

// Disable stops the account signing in (its sessions and tokens stop
// working: SessionValid is false). by must be another admin; reason is
// required and shown in the audit log.
func (a Account) Disable(by Account, reason string, at time.Time) (events.Event, error) {
	if err := a.mustExist(); err != nil {
		return events.Event{}, err
	}
	if err := mustBeAdmin(by); err != nil {
		return events.Event{}, err
	}
	if by.ID == a.ID {
		return events.Event{}, apperr.New(apperr.Forbidden, "You cannot disable your own account.")
	}
	if a.Disabled {
		return events.Event{}, apperr.New(apperr.Conflict, "%s is already disabled.", a.DisplayName)
	}
	reason, err := checkReason(reason)
	if err != nil {
		return events.Event{}, err
	}
	return a.event(events.AccountDisabled, by, at, events.AccountStatusChange{By: by.ID, Reason: reason})
}

// Enable lets a disabled account sign in again. by must be an admin.
func (a Account) Enable(by Account, reason string, at time.Time) (events.Event, error) {
	if err := a.mustExist(); err != nil {
		return events.Event{}, err
	}
	if err := mustBeAdmin(by); err != nil {
		return events.Event{}, err
	}
	if !a.Disabled {
		return events.Event{}, apperr.New(apperr.Conflict, "%s is not disabled.", a.DisplayName)
	}
	reason, err := checkReason(reason)
	if err != nil {
		return events.Event{}, err
	}
	return a.event(events.AccountEnabled, by, at, events.AccountStatusChange{By: by.ID, Reason: reason})
}

// ChangePassword returns the PasswordChanged event that records a new
// password set by the account itself or by an admin. Append this first,
// then store the new hash in the credentials record: the event's time
// signs out every older session (SessionValid), so no old session
// outlives the new password.
func (a Account) ChangePassword(by Account, at time.Time) (events.Event, error) {
	if err := a.mustExist(); err != nil {
		return events.Event{}, err
	}
	if by.ID != a.ID {
		if err := mustBeAdmin(by); err != nil {
			return events.Event{}, apperr.New(apperr.Forbidden, "You may only change your own password.")
		}
	}
	if a.Via != events.ViaPassword {
		return events.Event{}, apperr.New(apperr.Conflict, "This account signs in with an identity provider and has no password.")
	}
	return a.event(events.PasswordChanged, by, at, events.PasswordChange{By: by.ID})
}
