package people_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"mediashare/internal/accounts"
	"mediashare/internal/apperr"
	"mediashare/internal/authstore"
	authsqlite "mediashare/internal/authstore/sqlite"
	"mediashare/internal/events"
	evsqlite "mediashare/internal/events/sqlite"
	"mediashare/internal/people"
	"mediashare/internal/policy"
	"mediashare/internal/sqlitedb"
)

// racer is the real SQLite event store with a hook that runs just before
// chosen appends: what another request did meanwhile.
type racer struct {
	*evsqlite.Store
	mu     sync.Mutex
	before func(ctx context.Context, stream string, evs []events.Event)
}

func (r *racer) Append(ctx context.Context, stream string, expected int, evs ...events.Event) ([]events.Event, error) {
	r.mu.Lock()
	hook := r.before
	r.mu.Unlock()
	if hook != nil {
		hook(ctx, stream, evs)
	}
	return r.Store.Append(ctx, stream, expected, evs...)
}

func (r *racer) set(f func(ctx context.Context, stream string, evs []events.Event)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.before = f
}

type fixture struct {
	svc    *people.Service
	events *racer
	auth   *authsqlite.Store
}

// newService is the account use cases on one real SQLite file, with a
// cheap password hash (the cost is not under test).
func newService(t *testing.T, pol policy.Policy) fixture {
	t.Helper()
	db, err := sqlitedb.Open(filepath.Join(t.TempDir(), "mediashare.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx := context.Background()
	evs, err := evsqlite.New(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	auth, err := authsqlite.New(ctx, db, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := &racer{Store: evs}
	pol.PasswordLogin = true
	return fixture{events: r, auth: auth, svc: &people.Service{
		Events: r, Audit: evs, Auth: auth, Policy: pol,
		Hasher: accounts.NewHasher(accounts.Params{MemoryKiB: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 2),
	}}
}

const (
	pw1 = "plum-kettle-87-orbit"
	pw2 = "second-lantern-42-fjord"
	pw3 = "third-quarry-19-mango"
)

var client = people.Client{Key: "192.0.2.1", UserAgent: "test", IP: "192.0.2.1"}

// A password change that meets a concurrent change of the account is
// retried on the account as it is now; one that cannot be recorded
// changes nothing (the old password and sessions stand). Once it is
// recorded, every older session ends and API tokens stay.
func TestChangePasswordRecordsFirst(t *testing.T) {
	f := newService(t, policy.Policy{SignUp: policy.SignUpOpen})
	ctx := context.Background()
	_, err := f.svc.SignUp(ctx, people.SignUpInput{Username: "ada", Password: pw1, Client: client})
	if err != nil {
		t.Fatal(err)
	}
	bob, err := f.svc.SignUp(ctx, people.SignUpInput{Username: "bob", Password: pw1, Client: client})
	if err != nil {
		t.Fatal(err)
	}
	other, err := f.svc.SignIn(ctx, "bob", pw1, client)
	if err != nil {
		t.Fatal(err)
	}
	_, tokenHash, _ := authstore.NewSecret(authstore.TokenPrefix)
	if err := f.auth.CreateToken(ctx, authstore.Token{TokenHash: tokenHash, AccountID: bob.Account.ID, Name: "cli",
		Scopes: []string{authstore.ScopeRead}, Created: time.Now().Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}

	// An admin promotes or demotes bob just before each of his appends:
	// conflicts times in a row.
	race := func(conflicts int) {
		n := 0
		f.events.set(func(ctx context.Context, stream string, evs []events.Event) {
			if stream != bob.Account.ID || len(evs) != 1 || evs[0].Type != events.PasswordChanged || n >= conflicts {
				return
			}
			n++
			a, err := f.svc.Account(ctx, stream)
			if err != nil {
				t.Error(err)
				return
			}
			ev, err := a.Promote(accounts.Operator, time.Now())
			if a.Role == events.RoleAdmin {
				ev, err = a.Demote(accounts.Operator, time.Now())
			}
			if err == nil {
				_, err = f.events.Store.Append(ctx, stream, a.Version, ev)
			}
			if err != nil {
				t.Errorf("the racing change: %v", err)
			}
		})
	}

	race(1)
	fresh, err := f.svc.ChangePassword(ctx, bob.Account.ID, pw1, pw2, client)
	if err != nil {
		t.Fatalf("a change that met one concurrent change: %v, want it retried", err)
	}
	if _, err := f.svc.SignIn(ctx, "bob", pw2, client); err != nil {
		t.Errorf("the new password: %v", err)
	}
	if _, err := f.svc.SignIn(ctx, "bob", pw1, client); err == nil {
		t.Error("the old password still signs in")
	}
	for name, secret := range map[string]string{"sign-up": bob.Secret, "other browser": other.Secret} {
		if _, _, ok, _ := f.svc.Resolve(ctx, secret); ok {
			t.Errorf("the %s session outlived the password change", name)
		}
	}
	if _, _, ok, err := f.svc.Resolve(ctx, fresh.Secret); !ok || err != nil {
		t.Errorf("the asking browser's fresh session: ok %v, %v", ok, err)
	}
	if _, err := f.auth.Token(ctx, tokenHash); err != nil {
		t.Errorf("the API token after a password change: %v, want it kept", err)
	}

	race(100)
	_, err = f.svc.ChangePassword(ctx, bob.Account.ID, pw2, pw3, client)
	if apperr.CodeOf(err) != apperr.Conflict || apperr.MessageOf(err) == "" {
		t.Fatalf("a change that always meets another: %v, want a conflict with a message", err)
	}
	f.events.set(nil)
	if _, err := f.svc.SignIn(ctx, "bob", pw2, client); err != nil {
		t.Errorf("after a change that was not recorded, the password in force: %v", err)
	}
	if _, err := f.svc.SignIn(ctx, "bob", pw3, client); err == nil {
		t.Error("a change that was not recorded made its password live")
	}
	if _, _, ok, _ := f.svc.Resolve(ctx, fresh.Secret); !ok {
		t.Error("a change that was not recorded ended the sessions")
	}
}

// A sign-up that loses a race for its name gives back what it consumed:
// on a fresh site the first-admin slot (the operator's users add took
// the name meanwhile), later an invite. The next sign-up becomes the
// admin, or uses the invite.
func TestFailedSignUpGivesBackItsInvite(t *testing.T) {
	f := newService(t, policy.Policy{SignUp: policy.SignUpInvite})
	ctx := context.Background()
	// Just before the sign-up's registration, the operator adds the same
	// name (users add finds the slot taken and makes a member).
	raceName := func(name string) {
		done := false
		f.events.set(func(ctx context.Context, stream string, evs []events.Event) {
			if done || len(evs) != 1 || evs[0].Type != events.AccountRegistered {
				return
			}
			done = true
			if _, err := f.svc.AddUser(ctx, name, pw2, false); err != nil {
				t.Errorf("the racing users add: %v", err)
			}
		})
	}

	raceName("ada")
	_, err := f.svc.SignUp(ctx, people.SignUpInput{Username: "ada", Password: pw1, Client: client})
	if apperr.CodeOf(err) != apperr.Conflict || apperr.FieldOf(err) != "username" {
		t.Fatalf("a sign-up that lost its name: %v, want the name taken", err)
	}
	f.events.set(nil)
	has, err := f.svc.HasAccounts(ctx)
	if err != nil || has {
		t.Errorf("HasAccounts after the first sign-up failed: %v, %v; want false (the slot given back)", has, err)
	}
	bo, err := f.svc.SignUp(ctx, people.SignUpInput{Username: "bo", Password: pw1, Client: client})
	if err != nil {
		t.Fatalf("the next sign-up on the fresh site: %v", err)
	}
	if !bo.Account.IsAdmin() {
		t.Errorf("the next sign-up is %s, want the site's admin", bo.Account.Role)
	}

	admin := policy.Principal{AccountID: bo.Account.ID, Admin: true}
	secret, _, err := f.svc.CreateInvite(ctx, admin, events.RoleMember)
	if err != nil {
		t.Fatal(err)
	}
	raceName("cy")
	_, err = f.svc.SignUp(ctx, people.SignUpInput{Username: "cy", Password: pw1, Invite: secret, Client: client})
	if apperr.CodeOf(err) != apperr.Conflict || apperr.FieldOf(err) != "username" {
		t.Fatalf("an invited sign-up that lost its name: %v, want the name taken", err)
	}
	f.events.set(nil)
	if _, err := f.svc.Invite(ctx, secret); err != nil {
		t.Errorf("the invite after a failed sign-up: %v, want it usable", err)
	}
	if _, err := f.svc.SignUp(ctx, people.SignUpInput{Username: "dee", Password: pw1, Invite: secret, Client: client}); err != nil {
		t.Errorf("a sign-up with the given-back invite: %v", err)
	}
	if _, err := f.svc.Invite(ctx, secret); err == nil {
		t.Error("the invite is still usable after a sign-up used it")
	}
}
