package accounts

import (
	"strings"
	"testing"
	"time"

	"mediashare/internal/apperr"
	"mediashare/internal/events"
)

var t0 = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

// stream numbers evs as a store would.
func stream(evs ...events.Event) []events.Event {
	for i := range evs {
		evs[i].Version = i + 1
	}
	return evs
}

func mustName(t *testing.T, s string) Name {
	t.Helper()
	n, err := ParseName(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func mustRegister(t *testing.T, name, role string) events.Event {
	t.Helper()
	e, err := Register(Registration{Name: mustName(t, name), Role: role, Via: events.ViaPassword}, t0)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func mustFold(t *testing.T, evs []events.Event) Account {
	t.Helper()
	a, err := Fold(evs)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func must(t *testing.T) func(events.Event, error) events.Event {
	return func(e events.Event, err error) events.Event {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
}

func TestFold(t *testing.T) {
	admin := mustFold(t, stream(mustRegister(t, "Root", events.RoleAdmin)))
	reg := mustRegister(t, "Alice", events.RoleMember)
	alice := mustFold(t, stream(reg))
	promoted := must(t)(alice.Promote(admin, t0.Add(time.Minute)))
	disabled := must(t)(alice.Disable(admin, "spam", t0.Add(2*time.Minute)))
	enabled := must(t)(mustFold(t, stream(reg, disabled)).Enable(admin, "appeal accepted", t0.Add(3*time.Minute)))
	pw := must(t)(alice.ChangePassword(alice, t0.Add(4*time.Minute)))
	tests := []struct {
		name    string
		evs     []events.Event
		role    string
		admin   bool
		signIn  apperr.Code // "" when may sign in
		version int
	}{
		{"nothing", nil, "", false, apperr.NotFound, 0},
		{"registered", stream(reg), events.RoleMember, false, "", 1},
		{"promoted", stream(reg, promoted), events.RoleAdmin, true, "", 2},
		{"promoted then disabled", stream(reg, promoted, disabled), events.RoleAdmin, false, apperr.Forbidden, 3},
		{"disabled then enabled", stream(reg, disabled, enabled), events.RoleMember, false, "", 3},
		{"password changed", stream(reg, pw), events.RoleMember, false, "", 2},
		{"an event delivered twice is folded once", append(stream(reg, disabled), stream(reg, disabled)...), events.RoleMember, false, apperr.Forbidden, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := mustFold(t, tt.evs)
			if a.Role != tt.role || a.IsAdmin() != tt.admin || a.Version != tt.version {
				t.Errorf("got role %q admin %v version %d, want %q %v %d", a.Role, a.IsAdmin(), a.Version, tt.role, tt.admin, tt.version)
			}
			if got := apperr.CodeOf(a.CanSignIn()); got != tt.signIn {
				t.Errorf("CanSignIn: got %q, want %q", got, tt.signIn)
			}
		})
	}
	a := mustFold(t, stream(reg, disabled))
	if a.DisabledReason != "spam" || a.ID != mustName(t, "alice").ID() || a.Name != "alice" || a.DisplayName != "Alice" || !a.RegisteredAt.Equal(t0) {
		t.Errorf("folded %+v", a)
	}
}

func TestFoldRefuses(t *testing.T) {
	reg := mustRegister(t, "alice", events.RoleMember)
	other := mustRegister(t, "bob", events.RoleMember)
	alice := mustFold(t, stream(reg))
	pw := must(t)(alice.ChangePassword(alice, t0))
	unknown := pw
	unknown.Type = "AccountRenamed"
	for _, tt := range []struct {
		name string
		evs  []events.Event
		msg  string
	}{
		{"no registration first", stream(pw), "begins with PasswordChanged"},
		{"registered twice", stream(reg, reg), "registered twice"},
		{"another stream's event", stream(reg, other), "belongs to stream"},
		{"unknown type", stream(reg, unknown), "unknown event type"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Fold(tt.evs); err == nil || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("got %v, want an error with %q", err, tt.msg)
			}
		})
	}
}

func TestDecisions(t *testing.T) {
	root := mustFold(t, stream(mustRegister(t, "root", events.RoleAdmin)))
	root2 := mustFold(t, stream(mustRegister(t, "root2", events.RoleAdmin)))
	alice := mustFold(t, stream(mustRegister(t, "alice", events.RoleMember)))
	bob := mustFold(t, stream(mustRegister(t, "bob", events.RoleMember)))
	gone := mustFold(t, stream(mustRegister(t, "gone", events.RoleAdmin)))
	disabledAdmin := mustFold(t, stream(mustRegister(t, "gone", events.RoleAdmin), must(t)(gone.Disable(root2, "left", t0))))
	disabledAlice := mustFold(t, stream(mustRegister(t, "alice", events.RoleMember), must(t)(alice.Disable(root, "spam", t0))))
	nobody := Account{}
	oidc, err := Register(Registration{Name: mustName(t, "carol"), Role: events.RoleMember, Via: events.ViaOIDC, OIDCIssuer: "https://id.example", OIDCSubject: "123"}, t0)
	if err != nil {
		t.Fatal(err)
	}
	carol := mustFold(t, stream(oidc))

	tests := []struct {
		name string
		do   func() (events.Event, error)
		want events.Type // "" when refused
		code apperr.Code
	}{
		{"admin promotes a member", func() (events.Event, error) { return alice.Promote(root, t0) }, events.AccountPromoted, ""},
		{"the operator promotes", func() (events.Event, error) { return alice.Promote(Operator, t0) }, events.AccountPromoted, ""},
		{"member promotes", func() (events.Event, error) { return bob.Promote(alice, t0) }, "", apperr.Forbidden},
		{"member promotes themself", func() (events.Event, error) { return alice.Promote(alice, t0) }, "", apperr.Forbidden},
		{"disabled admin promotes", func() (events.Event, error) { return alice.Promote(disabledAdmin, t0) }, "", apperr.Forbidden},
		{"promote an admin", func() (events.Event, error) { return root2.Promote(root, t0) }, "", apperr.Conflict},
		{"promote a disabled account", func() (events.Event, error) { return disabledAlice.Promote(root, t0) }, "", apperr.Conflict},
		{"promote nobody", func() (events.Event, error) { return nobody.Promote(root, t0) }, "", apperr.NotFound},
		{"admin demotes another admin", func() (events.Event, error) { return root2.Demote(root, t0) }, events.AccountDemoted, ""},
		{"admin demotes themself", func() (events.Event, error) { return root.Demote(root, t0) }, "", apperr.Forbidden},
		{"demote a member", func() (events.Event, error) { return alice.Demote(root, t0) }, "", apperr.Conflict},
		{"admin disables a member", func() (events.Event, error) { return alice.Disable(root, "spam", t0) }, events.AccountDisabled, ""},
		{"admin disables another admin", func() (events.Event, error) { return root2.Disable(root, "compromised", t0) }, events.AccountDisabled, ""},
		{"admin disables themself", func() (events.Event, error) { return root.Disable(root, "bye", t0) }, "", apperr.Forbidden},
		{"member disables", func() (events.Event, error) { return bob.Disable(alice, "spite", t0) }, "", apperr.Forbidden},
		{"disable without a reason", func() (events.Event, error) { return alice.Disable(root, "  ", t0) }, "", apperr.Invalid},
		{"disable with an over-long reason", func() (events.Event, error) { return alice.Disable(root, strings.Repeat("x", 501), t0) }, "", apperr.Invalid},
		{"disable with a control character", func() (events.Event, error) { return alice.Disable(root, "a\x1b[31m", t0) }, "", apperr.Invalid},
		{"disable twice", func() (events.Event, error) { return disabledAlice.Disable(root, "again", t0) }, "", apperr.Conflict},
		{"enable a disabled account", func() (events.Event, error) { return disabledAlice.Enable(root, "ok", t0) }, events.AccountEnabled, ""},
		{"enable an enabled account", func() (events.Event, error) { return alice.Enable(root, "ok", t0) }, "", apperr.Conflict},
		{"member enables", func() (events.Event, error) { return disabledAlice.Enable(bob, "ok", t0) }, "", apperr.Forbidden},
		{"change own password", func() (events.Event, error) { return alice.ChangePassword(alice, t0) }, events.PasswordChanged, ""},
		{"admin changes a password", func() (events.Event, error) { return alice.ChangePassword(root, t0) }, events.PasswordChanged, ""},
		{"member changes another's password", func() (events.Event, error) { return alice.ChangePassword(bob, t0) }, "", apperr.Forbidden},
		{"OIDC account has no password", func() (events.Event, error) { return carol.ChangePassword(carol, t0) }, "", apperr.Conflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := tt.do()
			if tt.want == "" {
				if err == nil {
					t.Fatalf("got %s, want refused with %s", e.Type, tt.code)
				}
				if got := apperr.CodeOf(err); got != tt.code {
					t.Errorf("code: got %s, want %s (%v)", got, tt.code, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			if e.Type != tt.want || !events.IsAccountStream(e.Stream) || e.ID == "" {
				t.Errorf("got %s on %q, want %s on an account stream", e.Type, e.Stream, tt.want)
			}
		})
	}
}

func TestEventActorsAndPayloads(t *testing.T) {
	root := mustFold(t, stream(mustRegister(t, "root", events.RoleAdmin)))
	alice := mustFold(t, stream(mustRegister(t, "alice", events.RoleMember)))
	e := must(t)(alice.Disable(root, " spam ", t0))
	var p events.AccountStatusChange
	if err := e.Decode(&p); err != nil {
		t.Fatal(err)
	}
	if e.Actor != events.AccountActor(root.ID) || p.By != root.ID || p.Reason != "spam" || e.Stream != alice.ID {
		t.Errorf("event %+v payload %+v", e, p)
	}
	op := must(t)(alice.Promote(Operator, t0))
	if op.Actor != events.SystemActor {
		t.Errorf("operator's actor: got %q, want %q", op.Actor, events.SystemActor)
	}
	reg := mustRegister(t, "dave", events.RoleMember)
	if reg.Actor != events.AccountActor(StreamID("dave")) || reg.Stream != StreamID("dave") {
		t.Errorf("self sign-up: actor %q stream %q", reg.Actor, reg.Stream)
	}
	if strings.Contains(string(reg.Data), "hash") || strings.Contains(string(reg.Data), "argon2") {
		t.Errorf("the registration payload mentions a password: %s", reg.Data)
	}
}

func TestRegisterRefuses(t *testing.T) {
	n := mustName(t, "alice")
	for _, tt := range []struct {
		name string
		r    Registration
	}{
		{"no name", Registration{Role: events.RoleMember, Via: events.ViaPassword}},
		{"unknown role", Registration{Name: n, Role: "owner", Via: events.ViaPassword}},
		{"unknown way", Registration{Name: n, Role: events.RoleMember, Via: "magic"}},
		{"OIDC without subject", Registration{Name: n, Role: events.RoleMember, Via: events.ViaOIDC, OIDCIssuer: "https://id.example"}},
		{"password with an OIDC subject", Registration{Name: n, Role: events.RoleMember, Via: events.ViaPassword, OIDCSubject: "1"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Register(tt.r, t0); err == nil {
				t.Error("accepted")
			}
		})
	}
}

func TestSessionValid(t *testing.T) {
	alice := mustFold(t, stream(mustRegister(t, "alice", events.RoleMember)))
	changed := mustFold(t, stream(mustRegister(t, "alice", events.RoleMember), must(t)(alice.ChangePassword(alice, t0.Add(time.Hour)))))
	root := mustFold(t, stream(mustRegister(t, "root", events.RoleAdmin)))
	disabled := mustFold(t, stream(mustRegister(t, "alice", events.RoleMember), must(t)(alice.Disable(root, "spam", t0.Add(time.Hour)))))
	for _, tt := range []struct {
		name    string
		a       Account
		created time.Time
		want    bool
	}{
		{"fresh account", alice, t0.Add(time.Minute), true},
		{"session before the password change", changed, t0.Add(time.Minute), false},
		{"session after the password change", changed, t0.Add(2 * time.Hour), true},
		{"disabled account", disabled, t0.Add(2 * time.Hour), false},
		{"no account", Account{}, t0, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.a.SessionValid(tt.created); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}
