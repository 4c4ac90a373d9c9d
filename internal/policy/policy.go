// Package policy decides who may do what on the site: upload, delete,
// erase, report, moderate, manage accounts, sign up. It is the one place
// where that is decided; handlers ask it and render its answer. The
// entry's own rules (it exists, it is not deleted yet, whose it is) stay
// with the entry aggregate (internal/entry) and the account's with the
// account aggregate (internal/accounts): the policy adds the site's
// settings and the visitor, then calls them.
package policy

import (
	"fmt"

	"mediashare/internal/apperr"
	"mediashare/internal/entry"
	"mediashare/internal/events"
)

// Principal is who a request comes from, as the web layer's identity
// middleware resolved it: a signed-in account, or an anonymous visitor
// known by the signed owner cookie (or by nothing at all).
type Principal struct {
	// The signed-in account; "" when nobody is signed in.
	AccountID string
	Name      string // the account's display name
	Admin     bool   // an admin, not disabled
	// Session is the hash (authstore.HashToken) of the session that
	// signed the request in: the account page marks it as "this one".
	Session string

	// Owner is the browser's anonymous owner id (the owner cookie), set
	// whether or not someone is signed in: a visitor's anonymous uploads
	// are claimed for the account they sign in to.
	Owner string
	// OwnerUnverified: the browser carried an owner cookie no key
	// verifies, so anonymously it owns nothing for now.
	OwnerUnverified bool
}

// SignedIn reports whether an account signed the request in.
func (p Principal) SignedIn() bool { return p.AccountID != "" }

// OwnerID is the owner id the principal's uploads get and its deletes
// are checked against: the account when signed in, else the anonymous
// owner id.
func (p Principal) OwnerID() string {
	if p.SignedIn() {
		return p.AccountID
	}
	if p.OwnerUnverified {
		return ""
	}
	return p.Owner
}

// Actor is the principal as the entry aggregate sees it.
func (p Principal) Actor() entry.Actor {
	a := entry.Actor{Owner: p.OwnerID(), Admin: p.Admin}
	if p.Admin {
		a.As = p.EventActor() // the audit log names the admin
	}
	return a
}

// EventActor is who the events the principal causes are recorded as.
func (p Principal) EventActor() events.Actor {
	if p.SignedIn() {
		return events.AccountActor(p.AccountID)
	}
	return events.OwnerActor(p.Owner)
}

// Uploads says who may upload.
type Uploads string

const (
	UploadsMembers Uploads = "members" // signed-in accounts only (the default)
	UploadsAnyone  Uploads = "anyone"  // anonymous visitors too, owned by their owner cookie (the original lab)
)

// SignUp says who may make an account once the site has its admin.
type SignUp string

const (
	SignUpInvite SignUp = "invite" // with a single-use invite link an admin made (the default)
	SignUpOpen   SignUp = "open"   // anyone
	SignUpClosed SignUp = "closed" // nobody: admins add people at the command line
)

// ParseUploads reads --uploads.
func ParseUploads(s string) (Uploads, error) {
	switch u := Uploads(s); u {
	case UploadsMembers, UploadsAnyone:
		return u, nil
	}
	return "", fmt.Errorf("%q is not members or anyone", s)
}

// ParseSignUp reads --signup.
func ParseSignUp(s string) (SignUp, error) {
	switch u := SignUp(s); u {
	case SignUpInvite, SignUpOpen, SignUpClosed:
		return u, nil
	}
	return "", fmt.Errorf("%q is not invite, open or closed", s)
}

// Policy is the site's settings that decide.
type Policy struct {
	Uploads Uploads
	SignUp  SignUp
	// PasswordLogin is false when only an identity provider signs
	// people in (--password-login=false).
	PasswordLogin bool
	// QuotaBytes is how many bytes of uploads an account may keep; 0:
	// no limit.
	QuotaBytes int64
}

// MayUpload says whether p may upload.
func (pol Policy) MayUpload(p Principal) error {
	switch {
	case p.SignedIn():
		return nil
	case pol.Uploads != UploadsAnyone:
		return apperr.FieldError(apperr.Forbidden, "file", "Please sign in to upload. Nothing was stored.")
	case p.OwnerUnverified || p.Owner == "":
		return apperr.FieldError(apperr.Forbidden, "file",
			"This browser's ownership could not be verified, so it cannot upload for now. Nothing was stored.")
	}
	return nil
}

// MayStore says whether an account that keeps used bytes may store size
// more under the quota (413 over it).
func (pol Policy) MayStore(p Principal, used, size int64) error {
	if pol.QuotaBytes <= 0 || !p.SignedIn() {
		return nil
	}
	if used+size > pol.QuotaBytes {
		return apperr.FieldError(apperr.TooLarge, "file",
			"This upload would take you over your quota of %s (you use %s). Delete something first. Nothing was stored.",
			humanBytes(pol.QuotaBytes), humanBytes(used))
	}
	return nil
}

// MayAct says whether p can be told apart from a stranger at all: an
// anonymous visitor whose owner cookie no key verifies owns nothing for
// now and may change nothing (delete, restore, delete for good, empty
// the trash, erase).
func (pol Policy) MayAct(p Principal) error {
	if !p.SignedIn() && p.OwnerUnverified {
		return apperr.New(apperr.Forbidden, "This browser's ownership could not be verified, so it cannot change anything for now. Nothing was changed.")
	}
	return nil
}

// MayDelete says whether p may delete e: its owner or an admin, as the
// entry decides.
func (pol Policy) MayDelete(p Principal, e entry.Entry) error {
	if err := pol.MayAct(p); err != nil {
		return err
	}
	return e.MayDelete(p.Actor())
}

// MayErase says whether p may erase e: its owner (an account, or the
// verified owner cookie of an anonymous upload, as for deleting) or an
// admin; the entry decides (from any state, once).
func (pol Policy) MayErase(p Principal, e entry.Entry) error {
	if err := pol.MayAct(p); err != nil {
		return err
	}
	return e.MayErase(p.Actor())
}

// MayReport says whether p may report an entry: anyone may.
func (pol Policy) MayReport(Principal) error { return nil }

// MayModerate says whether p may see the report queue and remove entries.
func (pol Policy) MayModerate(p Principal) error { return pol.adminOnly(p) }

// MayManageAccounts says whether p may promote, disable and invite.
func (pol Policy) MayManageAccounts(p Principal) error { return pol.adminOnly(p) }

func (pol Policy) adminOnly(p Principal) error {
	switch {
	case !p.SignedIn():
		return apperr.New(apperr.Forbidden, "Please sign in as an admin.")
	case !p.Admin:
		return apperr.New(apperr.Forbidden, "Only an admin may do this.")
	}
	return nil
}

// SignUpOutcome is what a sign-up becomes.
type SignUpOutcome struct {
	Role       string // events.RoleAdmin for a fresh site's first account
	NeedInvite bool   // the sign-up must consume an invite
}

// MaySignUp says whether a sign-up may happen and as what: a fresh site's
// first account is its admin whatever the setting; after that --signup
// decides (an invite link, anyone, or nobody). withInvite is whether the
// form carries an invite.
func (pol Policy) MaySignUp(siteHasAccounts, withInvite bool) (SignUpOutcome, error) {
	if !siteHasAccounts {
		return SignUpOutcome{Role: events.RoleAdmin}, nil
	}
	switch {
	case pol.SignUp == SignUpClosed:
		return SignUpOutcome{}, apperr.New(apperr.Forbidden, "Sign-up is closed on this site. Ask its admin for an account.")
	case withInvite:
		return SignUpOutcome{Role: events.RoleMember, NeedInvite: true}, nil
	}
	switch pol.SignUp {
	case SignUpOpen:
		return SignUpOutcome{Role: events.RoleMember}, nil
	case SignUpClosed:
		return SignUpOutcome{}, apperr.New(apperr.Forbidden, "Sign-up is closed on this site. Ask its admin for an account.")
	}
	return SignUpOutcome{}, apperr.New(apperr.Forbidden, "Sign-up on this site needs an invite link. Ask its admin for one.")
}

// MayUsePasswords says whether the username and password forms work.
func (pol Policy) MayUsePasswords() error {
	if !pol.PasswordLogin {
		return apperr.New(apperr.Forbidden, "This site signs people in with its identity provider only.")
	}
	return nil
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}
