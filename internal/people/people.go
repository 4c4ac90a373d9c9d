// Package people holds the account use cases: sign up (the first account
// of a fresh site is its admin), sign in and out, sessions, password
// changes, invites, and the operator's user commands. It knows nothing of
// HTTP; it talks to the event store (accounts are streams of their own),
// the auth store (sessions, invites, credentials) and the policy.
package people

import (
	"context"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"mediashare/internal/accounts"
	"mediashare/internal/apperr"
	"mediashare/internal/authstore"
	"mediashare/internal/events"
	"mediashare/internal/policy"
)

// Service runs the account use cases.
type Service struct {
	Events events.Store
	Audit  events.Auditor // for listing accounts (the operator's users list)
	Auth   authstore.Store
	Hasher *accounts.Hasher
	Policy policy.Policy
	// SessionTTL is how long a session lasts (--session-ttl).
	SessionTTL time.Duration
	// InviteTTL is how long an invite link works.
	InviteTTL time.Duration
	// Failures limits failed sign-ins per account and per client; nil:
	// no limit.
	Failures *Failures
	// OIDCAdminClaim is --oidc-admin-claim as configured ("" for none):
	// when set, the provider decides who of its accounts is admin, so an
	// admin whose login lacks the claim is demoted (by the system).
	OIDCAdminClaim string
	Log            *slog.Logger
	Now            func() time.Time

	hasAccounts atomic.Bool // once true, for good
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) log() *slog.Logger {
	if s.Log == nil {
		return slog.Default()
	}
	return s.Log
}

// The first account of a fresh site is its admin. Which sign-up that is
// is decided by one atomic write: every site has one well-known invite,
// the "first admin" slot, made on demand, and the sign-up that consumes
// it (authstore.ConsumeInvite: of concurrent ones exactly one wins) is
// the admin. Once consumed the site has accounts, and asking is one key
// lookup. Its hash comes from a secret that is not a link's shape (links
// are msi_ + 43 characters), so no link can name it.
var firstAdminHash = authstore.HashToken("mediashare:first-admin")

// HasAccounts reports whether the site has made its first account.
func (s *Service) HasAccounts(ctx context.Context) (bool, error) {
	if s.hasAccounts.Load() {
		return true, nil
	}
	_, err := s.Auth.Invite(ctx, firstAdminHash)
	switch {
	case errors.Is(err, authstore.ErrInviteUsed):
		s.hasAccounts.Store(true)
		return true, nil
	case err == nil, errors.Is(err, authstore.ErrNotFound), errors.Is(err, authstore.ErrInviteExpired):
		return false, nil
	}
	return false, fmt.Errorf("people: has accounts: %w", err)
}

// takeFirstAdmin consumes the first-admin slot for accountID, making it
// first. It reports false when someone else took it. The caller
// registers the account, then calls madeFirst, or release when the
// registration failed (the slot is usable again).
func (s *Service) takeFirstAdmin(ctx context.Context, accountID string) (bool, error) {
	now := s.now()
	err := s.Auth.CreateInvite(ctx, authstore.Invite{
		TokenHash: firstAdminHash, CreatedBy: string(events.SystemActor), Role: events.RoleAdmin,
		Created: now, Expires: now.AddDate(100, 0, 0),
	})
	if err != nil && !errors.Is(err, authstore.ErrExists) {
		return false, fmt.Errorf("people: first admin: %w", err)
	}
	_, err = s.Auth.ConsumeInvite(ctx, firstAdminHash, accountID)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, authstore.ErrInviteUsed):
		return false, nil // not cached: the taker may still give it back
	}
	return false, fmt.Errorf("people: first admin: %w", err)
}

// release gives back what a sign-up consumed (an invite, or the
// first-admin slot) when making its account failed, so that a name race
// or a store error does not burn it. If the release itself fails the
// invite stays used (an admin makes another; for the first-admin slot,
// the operator's users add --admin).
func (s *Service) release(ctx context.Context, hash, accountID string) {
	if err := s.Auth.ReleaseInvite(context.WithoutCancel(ctx), hash, accountID); err != nil {
		s.log().Error("could not give back the invite of a failed sign-up", "account", accountID, "error", err)
	}
}

// Account loads an account by id (a zero Account when there is none).
func (s *Service) Account(ctx context.Context, id string) (accounts.Account, error) {
	if !events.IsAccountStream(id) {
		return accounts.Account{}, nil
	}
	evs, err := s.Events.Load(ctx, id)
	if errors.Is(err, events.ErrNotFound) {
		return accounts.Account{}, nil
	}
	if err != nil {
		return accounts.Account{}, fmt.Errorf("people: load account: %w", err)
	}
	a, err := accounts.Fold(evs)
	if err != nil {
		return accounts.Account{}, fmt.Errorf("people: fold account %s: %w", id, err)
	}
	return a, nil
}

// ByName loads the account of a username as typed.
func (s *Service) ByName(ctx context.Context, name string) (accounts.Account, error) {
	n, err := accounts.ParseName(name)
	if err != nil {
		return accounts.Account{}, err
	}
	return s.Account(ctx, n.ID())
}

// Client is what the auth store keeps about the browser a session is for.
type Client struct {
	Key       string // the client's rate-limit key (its address)
	UserAgent string
	IP        string
}

// SignUpInput is what the sign-up form sends.
type SignUpInput struct {
	Username, Password string
	Invite             string // the invite link's secret, "" for none
	Client             Client
}

// Signed is a signed-in browser: its account and the session's secret
// (for the cookie; shown once, stored hashed).
type Signed struct {
	Account accounts.Account
	Secret  string
	Session authstore.Session
}

// ValidInviteSecret reports whether s has the shape of an invite link's
// secret.
func ValidInviteSecret(s string) bool {
	return strings.HasPrefix(s, authstore.InvitePrefix) && len(s) == len(authstore.InvitePrefix)+43 && len(s) <= authstore.MaxSecretLength
}

// Invite checks an invite link's secret, with a message for each way it
// cannot be used.
func (s *Service) Invite(ctx context.Context, secret string) (authstore.Invite, error) {
	if !ValidInviteSecret(secret) {
		return authstore.Invite{}, apperr.FieldError(apperr.Invalid, "invite", "This invite link is not valid. Ask the admin for a new one.")
	}
	inv, err := s.Auth.Invite(ctx, authstore.HashToken(secret))
	return inv, inviteError(err)
}

func inviteError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, authstore.ErrNotFound):
		return apperr.FieldError(apperr.Invalid, "invite", "This invite link is not valid. Ask the admin for a new one.")
	case errors.Is(err, authstore.ErrInviteUsed):
		return apperr.FieldError(apperr.Conflict, "invite", "This invite link has already been used. Ask the admin for a new one.")
	case errors.Is(err, authstore.ErrInviteExpired):
		return apperr.FieldError(apperr.Invalid, "invite", "This invite link has expired. Ask the admin for a new one.")
	}
	return fmt.Errorf("people: invite: %w", err)
}

// SignUp makes an account with a password and signs it in. The first
// account of a fresh site is its admin; later ones follow the policy
// (an invite, open, closed). Bad input creates nothing.
func (s *Service) SignUp(ctx context.Context, in SignUpInput) (Signed, error) {
	if err := s.Policy.MayUsePasswords(); err != nil {
		return Signed{}, err
	}
	name, err := accounts.ParseName(in.Username)
	if err != nil {
		return Signed{}, err
	}
	if err := accounts.CheckPassword(in.Password, name.Normalised); err != nil {
		return Signed{}, err
	}
	has, err := s.HasAccounts(ctx)
	if err != nil {
		return Signed{}, err
	}
	outcome, err := s.Policy.MaySignUp(has, in.Invite != "")
	if err != nil {
		return Signed{}, err
	}
	var inv authstore.Invite
	if outcome.NeedInvite {
		if inv, err = s.Invite(ctx, in.Invite); err != nil {
			return Signed{}, err
		}
		outcome.Role = inv.Role
	}
	if existing, err := s.Account(ctx, name.ID()); err != nil {
		return Signed{}, err
	} else if existing.Exists() {
		return Signed{}, taken()
	}
	hash, err := s.Hasher.Hash(ctx, in.Password)
	if err != nil {
		return Signed{}, fmt.Errorf("people: sign up: %w", err)
	}
	reg := accounts.Registration{Name: name, Role: outcome.Role, Via: events.ViaPassword}
	consumed := "" // the invite (or first-admin slot) to give back if registering fails
	switch {
	case !has:
		first, err := s.takeFirstAdmin(ctx, name.ID())
		if err != nil {
			return Signed{}, err
		}
		if !first {
			return Signed{}, apperr.New(apperr.Conflict, "Someone else has just made this site's first account. Ask them for an invite link. Nothing was created.")
		}
		consumed = firstAdminHash
	case outcome.NeedInvite:
		if _, err := s.Auth.ConsumeInvite(ctx, inv.TokenHash, name.ID()); err != nil {
			return Signed{}, inviteError(err)
		}
		reg.Invite = inv.TokenHash
		consumed = inv.TokenHash
	}
	a, err := s.register(ctx, reg, hash)
	if err != nil {
		if consumed != "" && !registered(err) {
			s.release(ctx, consumed, name.ID())
		}
		return Signed{}, err
	}
	if consumed == firstAdminHash {
		s.hasAccounts.Store(true)
	}
	return s.newSession(ctx, a, in.Client)
}

func taken() error {
	return apperr.FieldError(apperr.Conflict, "username", "This name is taken. Please choose another.")
}

// errNoPassword marks a registration whose event was appended but whose
// password could not be stored: the account exists, so what its sign-up
// consumed stays consumed.
var errNoPassword = errors.New("people: the account was made without its password")

func registered(err error) bool { return errors.Is(err, errNoPassword) }

// register appends the account's first event, then stores its password
// hash (docs/accounts.md: in that order).
func (s *Service) register(ctx context.Context, reg accounts.Registration, hash string) (accounts.Account, error) {
	ev, err := accounts.Register(reg, s.now())
	if err != nil {
		return accounts.Account{}, err
	}
	stored, err := s.Events.Append(ctx, reg.Name.ID(), 0, ev)
	if events.IsConflict(err) {
		return accounts.Account{}, taken()
	}
	if err != nil {
		return accounts.Account{}, fmt.Errorf("people: register %s: %w", reg.Name.ID(), err)
	}
	if hash != "" {
		if err := s.Auth.SetCredential(ctx, authstore.Credential{AccountID: reg.Name.ID(), Hash: hash, Updated: s.now()}); err != nil {
			return accounts.Account{}, fmt.Errorf("people: register %s: store the password: %w: %w", reg.Name.ID(), errNoPassword, err)
		}
	}
	return accounts.Fold(stored)
}

// badSignIn is the one answer to an unknown name and a wrong password.
func badSignIn() error {
	return apperr.FieldError(apperr.Forbidden, "password", "The username or the password is wrong.")
}

// SignIn checks a username and password and makes a session. An unknown
// name and a wrong password get the same answer after the same work;
// failures count against the name and the client (429 past the limit).
func (s *Service) SignIn(ctx context.Context, username, password string, c Client) (Signed, error) {
	if err := s.Policy.MayUsePasswords(); err != nil {
		return Signed{}, err
	}
	if strings.TrimSpace(username) == "" {
		return Signed{}, apperr.FieldError(apperr.Invalid, "username", "Please give your username.")
	}
	if password == "" {
		return Signed{}, apperr.FieldError(apperr.Invalid, "password", "Please give your password.")
	}
	if len(password) > 4*accounts.MaxPasswordLength {
		return Signed{}, badSignIn()
	}
	name, nameErr := accounts.ParseName(username)
	nameKey := strings.ToLower(strings.TrimSpace(username))
	if nameErr == nil {
		nameKey = name.Normalised
	}
	if err := s.Failures.Check(nameKey, c.Key); err != nil {
		return Signed{}, err
	}
	fail := func() (Signed, error) {
		if err := s.Failures.Fail(nameKey, c.Key); err != nil {
			return Signed{}, err
		}
		return Signed{}, badSignIn()
	}
	if nameErr != nil {
		s.Hasher.VerifyUnknown(ctx, password)
		return fail()
	}
	a, err := s.Account(ctx, name.ID())
	if err != nil {
		return Signed{}, err
	}
	cred, err := s.Auth.Credential(ctx, name.ID())
	if errors.Is(err, authstore.ErrNotFound) || !a.Exists() {
		s.Hasher.VerifyUnknown(ctx, password)
		return fail()
	}
	if err != nil {
		return Signed{}, fmt.Errorf("people: sign in: %w", err)
	}
	if err := s.Hasher.Verify(ctx, cred.Hash, password); err != nil {
		if errors.Is(err, accounts.ErrMismatch) {
			return fail()
		}
		return Signed{}, fmt.Errorf("people: sign in %s: %w", a.ID, err)
	}
	if err := a.CanSignIn(); err != nil {
		return Signed{}, err // the password checked out: it may say why
	}
	s.Failures.Succeed(nameKey)
	if s.Hasher.NeedsRehash(cred.Hash) {
		if h, err := s.Hasher.Hash(ctx, password); err == nil {
			s.Auth.SetCredential(ctx, authstore.Credential{AccountID: a.ID, Hash: h, Updated: s.now()})
		}
	}
	return s.newSession(ctx, a, c)
}

// newSession makes a fresh session for a (sign-in rotates: the old
// cookie's session is the caller's to end).
func (s *Service) newSession(ctx context.Context, a accounts.Account, c Client) (Signed, error) {
	secret, hash, err := authstore.NewSecret(authstore.SessionPrefix)
	if err != nil {
		return Signed{}, err
	}
	now := s.now()
	ttl := s.SessionTTL
	if ttl <= 0 {
		ttl = 30 * 24 * time.Hour
	}
	sess := authstore.Session{
		TokenHash: hash, AccountID: a.ID, Created: now, Expires: now.Add(ttl), LastSeen: now,
		UserAgent: authstore.Summarise(c.UserAgent, 200), IP: authstore.Summarise(c.IP, 64),
	}
	if err := s.Auth.CreateSession(ctx, sess); err != nil {
		return Signed{}, fmt.Errorf("people: new session for %s: %w", a.ID, err)
	}
	return Signed{Account: a, Secret: secret, Session: sess}, nil
}

// Resolve finds the account a session cookie's secret signs in: ok is
// false for an unknown, expired or revoked session, a disabled account
// and a session older than the last password change.
func (s *Service) Resolve(ctx context.Context, secret string) (accounts.Account, authstore.Session, bool, error) {
	if !strings.HasPrefix(secret, authstore.SessionPrefix) || len(secret) > authstore.MaxSecretLength {
		return accounts.Account{}, authstore.Session{}, false, nil
	}
	sess, err := s.Auth.Session(ctx, authstore.HashToken(secret))
	if errors.Is(err, authstore.ErrNotFound) {
		return accounts.Account{}, authstore.Session{}, false, nil
	}
	if err != nil {
		return accounts.Account{}, authstore.Session{}, false, fmt.Errorf("people: session: %w", err)
	}
	a, err := s.Account(ctx, sess.AccountID)
	if err != nil {
		return accounts.Account{}, authstore.Session{}, false, err
	}
	if !a.SessionValid(sess.Created) {
		return accounts.Account{}, authstore.Session{}, false, nil
	}
	if s.now().Sub(sess.LastSeen) > 5*time.Minute {
		if err := s.Auth.TouchSession(ctx, sess.TokenHash); err != nil {
			s.log().Warn("could not note a session's last use", "error", err)
		}
	}
	return a, sess, true, nil
}

// SignOut ends one of the account's sessions.
func (s *Service) SignOut(ctx context.Context, accountID, sessionHash string) error {
	if err := s.Auth.RevokeSession(ctx, accountID, sessionHash); err != nil {
		return fmt.Errorf("people: sign out: %w", err)
	}
	return nil
}

// Sessions lists the account's live sessions, newest first.
func (s *Service) Sessions(ctx context.Context, accountID string) ([]authstore.Session, error) {
	return s.Auth.Sessions(ctx, accountID)
}

// RevokeSession ends a session the account page names by its id (hash).
func (s *Service) RevokeSession(ctx context.Context, accountID, hash string) error {
	if !authstore.ValidHash(hash) {
		return apperr.New(apperr.Invalid, "That is not a session of yours.")
	}
	return s.SignOut(ctx, accountID, hash)
}

// ChangePassword checks the current password, records the change,
// stores the new one and ends every session (API tokens stay); it
// returns a fresh session for the browser that asked.
func (s *Service) ChangePassword(ctx context.Context, accountID, current, next string, c Client) (Signed, error) {
	if err := s.Policy.MayUsePasswords(); err != nil {
		return Signed{}, err
	}
	a, err := s.Account(ctx, accountID)
	if err != nil {
		return Signed{}, err
	}
	if !a.Exists() {
		return Signed{}, apperr.New(apperr.NotFound, "There is no such account.")
	}
	cred, err := s.Auth.Credential(ctx, accountID)
	if err != nil && !errors.Is(err, authstore.ErrNotFound) {
		return Signed{}, fmt.Errorf("people: change password: %w", err)
	}
	if err != nil || s.Hasher.Verify(ctx, cred.Hash, current) != nil {
		return Signed{}, apperr.FieldError(apperr.Forbidden, "current", "Your current password is not right. Nothing was changed.")
	}
	if err := accounts.CheckPassword(next, a.Name); err != nil {
		return Signed{}, err
	}
	return s.SetPassword(ctx, a, a, next, c)
}

// passwordAttempts bounds SetPassword's appends when the account's
// stream keeps moving on.
const passwordAttempts = 3

// SetPassword records a new password for a (by a itself, an admin or the
// operator), stores it and ends a's sessions (not its API tokens). It
// returns a new session when by is a.
func (s *Service) SetPassword(ctx context.Context, a, by accounts.Account, password string, c Client) (Signed, error) {
	if err := accounts.CheckPassword(password, a.Name); err != nil {
		return Signed{}, err
	}
	hash, err := s.Hasher.Hash(ctx, password)
	if err != nil {
		return Signed{}, err
	}
	// The change is recorded first: its time ends every older session
	// (SessionValid), so once the new password is live no old session
	// survives it. A conflict (the account moved on meanwhile) is retried
	// on the account as it is now, a bounded number of times; if the
	// record cannot be made, nothing changed and the old password stands.
	for attempt := 1; ; attempt++ {
		ev, err := a.ChangePassword(by, s.now())
		if err != nil {
			return Signed{}, err
		}
		_, err = s.Events.Append(ctx, a.ID, a.Version, ev)
		if err == nil {
			break
		}
		if !events.IsConflict(err) {
			return Signed{}, fmt.Errorf("people: set password: %w", err)
		}
		if attempt == passwordAttempts {
			return Signed{}, apperr.New(apperr.Conflict, "The account changed while the password was being set. Nothing was changed; please try again.")
		}
		if a, err = s.Account(ctx, a.ID); err != nil {
			return Signed{}, err
		}
	}
	if err := s.Auth.SetCredential(ctx, authstore.Credential{AccountID: a.ID, Hash: hash, Updated: s.now()}); err != nil {
		return Signed{}, fmt.Errorf("people: set password: %w", err)
	}
	// The sessions' records go too (the event already ends them). API
	// tokens stay: they are credentials of their own, revoked one by one
	// on the account page, and end when the account is disabled (as on
	// most sites; accounts.SessionValid says so).
	if err := s.Auth.RevokeSessions(ctx, a.ID); err != nil {
		return Signed{}, fmt.Errorf("people: set password: sign out: %w", err)
	}
	if by.ID != a.ID {
		return Signed{}, nil
	}
	// The new session must be newer than the change (SessionValid).
	next, err := s.Account(ctx, a.ID)
	if err != nil {
		return Signed{}, err
	}
	return s.newSession(ctx, next, c)
}

// CreateInvite makes a single-use invite link's secret for by (an admin).
func (s *Service) CreateInvite(ctx context.Context, by policy.Principal, role string) (string, authstore.Invite, error) {
	if err := s.Policy.MayManageAccounts(by); err != nil {
		return "", authstore.Invite{}, err
	}
	if role != events.RoleAdmin {
		role = events.RoleMember
	}
	secret, hash, err := authstore.NewSecret(authstore.InvitePrefix)
	if err != nil {
		return "", authstore.Invite{}, err
	}
	ttl := s.InviteTTL
	if ttl <= 0 {
		ttl = 7 * 24 * time.Hour
	}
	now := s.now()
	inv := authstore.Invite{TokenHash: hash, CreatedBy: by.AccountID, Role: role, Created: now, Expires: now.Add(ttl)}
	if err := s.Auth.CreateInvite(ctx, inv); err != nil {
		return "", authstore.Invite{}, fmt.Errorf("people: invite: %w", err)
	}
	return secret, inv, nil
}

// Invites lists the invites that can still be used (not the first-admin slot).
func (s *Service) Invites(ctx context.Context, by policy.Principal) ([]authstore.Invite, error) {
	if err := s.Policy.MayManageAccounts(by); err != nil {
		return nil, err
	}
	all, err := s.Auth.Invites(ctx)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, i := range all {
		if i.TokenHash != firstAdminHash {
			out = append(out, i)
		}
	}
	return out, nil
}

// RevokeInvite removes an invite.
func (s *Service) RevokeInvite(ctx context.Context, by policy.Principal, hash string) error {
	if err := s.Policy.MayManageAccounts(by); err != nil {
		return err
	}
	if !authstore.ValidHash(hash) || hash == firstAdminHash {
		return apperr.New(apperr.Invalid, "That is not an invite.")
	}
	return s.Auth.RevokeInvite(ctx, hash)
}

// OIDCIdentity is who an identity provider vouches for.
type OIDCIdentity struct {
	Issuer, Subject string // the stable key of the person
	Username, Name  string // what the provider calls them (for display only)
	Admin           bool   // the admin claim was present
}

// oidcName is the account name of an identity: derived from issuer and
// subject (never the provider's username or email, which people may
// change), so the account is found again on every login.
func oidcName(id OIDCIdentity) accounts.Name {
	sum := sha256.Sum256([]byte(id.Issuer + "\x00" + id.Subject))
	n := "oidc-" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(sum[:])[:20])
	display := authstore.Summarise(strings.TrimSpace(id.Username), accounts.MaxNameLength)
	if display == "" {
		display = authstore.Summarise(strings.TrimSpace(id.Name), accounts.MaxNameLength)
	}
	if display == "" {
		display = n
	}
	return accounts.Name{Normalised: n, Display: display}
}

// SignInOIDC signs in the account of an identity, making it on first
// login when sign-up allows (the first account of a fresh site is its
// admin; the provider's admin claim makes admins).
func (s *Service) SignInOIDC(ctx context.Context, id OIDCIdentity, c Client) (Signed, error) {
	if id.Issuer == "" || id.Subject == "" {
		return Signed{}, apperr.New(apperr.Invalid, "The identity provider did not say who you are.")
	}
	name := oidcName(id)
	a, err := s.Account(ctx, name.ID())
	if err != nil {
		return Signed{}, err
	}
	registered := false // by this login, which decided its role
	if !a.Exists() {
		registered = true
		has, err := s.HasAccounts(ctx)
		if err != nil {
			return Signed{}, err
		}
		outcome, err := s.Policy.MaySignUp(has, false)
		if err != nil {
			return Signed{}, apperr.New(apperr.Forbidden, "You have no account on this site yet, and it does not let people sign up on their own. Ask its admin.")
		}
		if id.Admin {
			outcome.Role = events.RoleAdmin
		}
		tookFirst := false
		if !has {
			first, err := s.takeFirstAdmin(ctx, name.ID())
			if err != nil {
				return Signed{}, err
			}
			tookFirst = first
			if !first && !id.Admin {
				if _, err := s.Policy.MaySignUp(true, false); err != nil {
					return Signed{}, apperr.New(apperr.Conflict, "Someone else has just made this site's first account. Please try again.")
				}
				outcome.Role = events.RoleMember
			}
		}
		reg := accounts.Registration{Name: name, Role: outcome.Role, Via: events.ViaOIDC, OIDCIssuer: id.Issuer, OIDCSubject: id.Subject}
		a, err = s.register(ctx, reg, "")
		switch {
		case err == nil && tookFirst:
			s.hasAccounts.Store(true)
		case err != nil && tookFirst:
			s.release(ctx, firstAdminHash, name.ID())
		}
		if err != nil {
			if apperr.CodeOf(err) == apperr.Conflict { // a second tab made it meanwhile
				if a, err = s.Account(ctx, name.ID()); err != nil {
					return Signed{}, err
				}
			} else {
				return Signed{}, err
			}
		}
	}
	if err := a.CanSignIn(); err != nil {
		return Signed{}, err
	}
	var (
		ev   events.Event
		what string
	)
	err = nil
	switch {
	case id.Admin && !a.IsAdmin():
		ev, err = a.Promote(accounts.Operator, s.now())
		what = "promote"
	case !id.Admin && !registered && s.OIDCAdminClaim != "" && a.Via == events.ViaOIDC && a.Role == events.RoleAdmin:
		// The provider took the claim away: its word is the role (a
		// fresh site's first account is its admin at registration, and
		// keeps that only while the provider gives it the claim).
		ev, err = a.DemoteFor(accounts.Operator, "the identity provider no longer gives the admin claim "+s.OIDCAdminClaim, s.now())
		what = "demote"
	}
	if err != nil {
		return Signed{}, err
	}
	if what != "" {
		if _, err := s.Events.Append(ctx, a.ID, a.Version, ev); err != nil {
			return Signed{}, fmt.Errorf("people: %s %s from the admin claim: %w", what, a.ID, err)
		}
		if a, err = s.Account(ctx, a.ID); err != nil {
			return Signed{}, err
		}
	}
	return s.newSession(ctx, a, c)
}
