package views

import "time"

// AuthForm is the sign-up or sign-in form's state: values to keep (never
// the password) and the message to show.
type AuthForm struct {
	Username string
	Invite   string // the invite link's secret (sign-up)
	Return   string // where to go after signing in
	Error    string
	Field    string
	// FirstAdmin: the site has no account yet; this one becomes its admin.
	FirstAdmin bool
	// Closed says why sign-up is not offered ("" when it is).
	Closed string
	// Passwords is false when only the identity provider signs people in.
	Passwords bool
	// OIDC is true when an identity provider is configured.
	OIDC bool
}

// AccountPage is /account: the viewer's sessions, the password form, the
// uploads and (for admins) invites.
type AccountPage struct {
	Name     string
	Admin    bool
	Sessions []SessionRow
	Uploads  []EntryCard
	Invites  []InviteRow
	// NewInvite is the link just made (shown once).
	NewInvite string
	Notice    string
	Error     string
	Field     string
	Passwords bool
	Tokens    TokensPanel
}

// SessionRow is one signed-in browser.
type SessionRow struct {
	ID        string // the session's hash
	Current   bool
	Created   time.Time
	LastSeen  time.Time
	Expires   time.Time
	UserAgent string
	IP        string
}

// InviteRow is an invite that can still be used.
type InviteRow struct {
	ID      string
	Role    string
	Created time.Time
	Expires time.Time
}
