package events

import "strings"

// Account events live on streams of their own, one per account, with the
// stream id derived from the account's normalised name
// (internal/accounts.StreamID: "user-" + base32 of its SHA-256), so two
// sign-ups racing for one name conflict on Append at version 0.
//
// No payload here holds a secret: password hashes are kept out of the log,
// in the credentials record of internal/authstore, so the audit views and
// the NDJSON export can show every account event as it is.
const (
	AccountRegistered Type = "AccountRegistered"
	AccountPromoted   Type = "AccountPromoted"
	AccountDemoted    Type = "AccountDemoted"
	AccountDisabled   Type = "AccountDisabled"
	AccountEnabled    Type = "AccountEnabled"
	PasswordChanged   Type = "PasswordChanged"
)

// AccountTypes lists the account event types (they are in Types too).
var AccountTypes = []Type{AccountRegistered, AccountPromoted, AccountDemoted, AccountDisabled, AccountEnabled, PasswordChanged}

// AccountStreamPrefix begins the stream id of every account stream.
const AccountStreamPrefix = "user-"

// IsAccountStream reports whether stream is an account's stream (and not
// an entry's). Consumers of the whole log that only know entries, such as
// the entries projector, skip these streams.
func IsAccountStream(stream string) bool { return strings.HasPrefix(stream, AccountStreamPrefix) }

// AccountActor is the actor for an account id.
func AccountActor(id string) Actor { return Actor("account:" + id) }

// Roles of an account.
const (
	RoleMember = "member"
	RoleAdmin  = "admin"
)

// How an account was registered.
const (
	ViaPassword = "password"
	ViaOIDC     = "oidc"
)

// Registered is the payload of AccountRegistered.
type Registered struct {
	AccountID   string `json:"account_id"`   // the stream id
	Name        string `json:"name"`         // normalised (NFKC, case-folded): what makes two names the same
	DisplayName string `json:"display_name"` // as the person typed it
	Role        string `json:"role"`         // RoleMember or RoleAdmin
	Via         string `json:"via"`          // ViaPassword or ViaOIDC
	OIDCIssuer  string `json:"oidc_issuer,omitempty"`
	OIDCSubject string `json:"oidc_subject,omitempty"`
	Invite      string `json:"invite,omitempty"` // id of the invite consumed, if any (never the invite's secret)
}

// RoleChange is the payload of AccountPromoted and AccountDemoted.
type RoleChange struct {
	By string `json:"by"` // account id of the admin, or "system"
	// Reason says why, when the system changed the role (the identity
	// provider's admin claim appeared or went away); "" for an admin's
	// own decision.
	Reason string `json:"reason,omitempty"`
}

// AccountStatusChange is the payload of AccountDisabled and AccountEnabled.
type AccountStatusChange struct {
	By     string `json:"by"`
	Reason string `json:"reason"`
}

// PasswordChange is the payload of PasswordChanged. It records that the
// password changed and who changed it; the hash is not in the log.
type PasswordChange struct {
	By string `json:"by"`
}
