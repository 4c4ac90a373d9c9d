package policy_test

import (
	"testing"
	"time"

	"mediashare/internal/apperr"
	"mediashare/internal/entry"
	"mediashare/internal/events"
	"mediashare/internal/policy"
)

var (
	anonymous  = policy.Principal{Owner: "cookie-1"}
	unverified = policy.Principal{OwnerUnverified: true}
	member     = policy.Principal{AccountID: "user-member", Name: "m", Owner: "cookie-2"}
	admin      = policy.Principal{AccountID: "user-admin", Name: "a", Admin: true}
)

func code(err error) apperr.Code {
	if err == nil {
		return ""
	}
	return apperr.CodeOf(err)
}

func TestMayUpload(t *testing.T) {
	tests := []struct {
		name    string
		uploads policy.Uploads
		p       policy.Principal
		want    apperr.Code
	}{
		{"members: a member", policy.UploadsMembers, member, ""},
		{"members: an anonymous visitor", policy.UploadsMembers, anonymous, apperr.Forbidden},
		{"the zero setting is members", "", anonymous, apperr.Forbidden},
		{"anyone: an anonymous visitor", policy.UploadsAnyone, anonymous, ""},
		{"anyone: an unverified owner cookie", policy.UploadsAnyone, unverified, apperr.Forbidden},
		{"anyone: no owner at all", policy.UploadsAnyone, policy.Principal{}, apperr.Forbidden},
		{"anyone: a member", policy.UploadsAnyone, member, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := code(policy.Policy{Uploads: tt.uploads}.MayUpload(tt.p)); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestOwnerID(t *testing.T) {
	for _, tt := range []struct {
		p    policy.Principal
		want string
	}{{anonymous, "cookie-1"}, {member, "user-member"}, {unverified, ""}, {policy.Principal{}, ""}} {
		if got := tt.p.OwnerID(); got != tt.want {
			t.Errorf("%+v: OwnerID %q, want %q", tt.p, got, tt.want)
		}
	}
	if member.EventActor() != events.AccountActor("user-member") || anonymous.EventActor() != events.OwnerActor("cookie-1") {
		t.Errorf("event actors: %q, %q", member.EventActor(), anonymous.EventActor())
	}
}

func TestMayStore(t *testing.T) {
	pol := policy.Policy{QuotaBytes: 1000}
	for _, tt := range []struct {
		name       string
		p          policy.Principal
		used, size int64
		want       apperr.Code
	}{
		{"within", member, 400, 600, ""},
		{"one byte over", member, 400, 601, apperr.TooLarge},
		{"anonymous uploads have no account to count against", anonymous, 5000, 5000, ""},
	} {
		if got := code(pol.MayStore(tt.p, tt.used, tt.size)); got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
	if err := (policy.Policy{}).MayStore(member, 1<<40, 1<<40); err != nil {
		t.Errorf("no quota: %v", err)
	}
}

func TestMayDelete(t *testing.T) {
	up, err := events.New("e1", events.MediaUploaded, "01JDENTRY0000000000000001", t0, events.AccountActor("user-member"), events.Uploaded{Owner: "user-member", Title: "t"})
	if err != nil {
		t.Fatal(err)
	}
	up.Version = 1
	e, err := entry.Fold([]events.Event{up})
	if err != nil {
		t.Fatal(err)
	}
	pol := policy.Policy{}
	for _, tt := range []struct {
		name string
		p    policy.Principal
		want apperr.Code
	}{
		{"its owner", member, ""},
		{"an admin", admin, ""},
		{"another member", policy.Principal{AccountID: "user-other"}, apperr.Forbidden},
		{"an anonymous visitor", anonymous, apperr.Forbidden},
		{"an unverified cookie", unverified, apperr.Forbidden},
	} {
		if got := code(pol.MayDelete(tt.p, e)); got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestMaySignUp(t *testing.T) {
	for _, tt := range []struct {
		name        string
		signup      policy.SignUp
		has, invite bool
		wantRole    string
		needInvite  bool
		want        apperr.Code
	}{
		{"a fresh site's first account is its admin, whatever the setting", policy.SignUpClosed, false, false, events.RoleAdmin, false, ""},
		{"invite: without one", policy.SignUpInvite, true, false, "", false, apperr.Forbidden},
		{"invite: with one", policy.SignUpInvite, true, true, events.RoleMember, true, ""},
		{"open", policy.SignUpOpen, true, false, events.RoleMember, false, ""},
		{"open with an invite uses it", policy.SignUpOpen, true, true, events.RoleMember, true, ""},
		{"closed", policy.SignUpClosed, true, false, "", false, apperr.Forbidden},
		{"closed: an invite does not open it", policy.SignUpClosed, true, true, "", false, apperr.Forbidden},
	} {
		out, err := policy.Policy{SignUp: tt.signup}.MaySignUp(tt.has, tt.invite)
		if code(err) != tt.want || (err == nil && (out.Role != tt.wantRole || out.NeedInvite != tt.needInvite)) {
			t.Errorf("%s: got %+v %v, want role %q invite %v code %q", tt.name, out, err, tt.wantRole, tt.needInvite, tt.want)
		}
	}
}

func TestAdminOnly(t *testing.T) {
	pol := policy.Policy{}
	for _, p := range []policy.Principal{anonymous, member, unverified} {
		if pol.MayModerate(p) == nil || pol.MayManageAccounts(p) == nil {
			t.Errorf("%+v may moderate or manage accounts", p)
		}
	}
	if pol.MayModerate(admin) != nil || pol.MayManageAccounts(admin) != nil {
		t.Error("an admin may not moderate or manage accounts")
	}
	if (policy.Policy{PasswordLogin: false}).MayUsePasswords() == nil || (policy.Policy{PasswordLogin: true}).MayUsePasswords() != nil {
		t.Error("MayUsePasswords does not follow --password-login")
	}
}

func TestParse(t *testing.T) {
	for _, s := range []string{"members", "anyone"} {
		if _, err := policy.ParseUploads(s); err != nil {
			t.Errorf("ParseUploads(%q): %v", s, err)
		}
	}
	for _, s := range []string{"invite", "open", "closed"} {
		if _, err := policy.ParseSignUp(s); err != nil {
			t.Errorf("ParseSignUp(%q): %v", s, err)
		}
	}
	for _, s := range []string{"", "Members", "everyone"} {
		if _, err := policy.ParseUploads(s); err == nil {
			t.Errorf("ParseUploads(%q) accepted", s)
		}
		if _, err := policy.ParseSignUp(s); err == nil {
			t.Errorf("ParseSignUp(%q) accepted", s)
		}
	}
}

var t0 = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
