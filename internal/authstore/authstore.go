// Package authstore keeps what proves who someone is: sessions (the
// browser's cookie), personal API tokens, single-use invites and password
// credentials. Secrets are random, handed out once and stored only as
// their SHA-256 (TokenHash), so a copy of the store signs nobody in.
//
// The port is Store (made of Sessions, Tokens, Invites and Credentials,
// so a consumer can ask for only what it uses). Adapters: sqlite (tables
// in the embedded backend's one file) and dynamo (one DynamoDB table with
// a TTL attribute and an index by account). authstoretest is the
// conformance suite both pass.
//
// Every lookup decides expiry against the store's clock and ignores what
// has expired, whether or not the backend has removed it yet (DynamoDB's
// TTL deletes items up to days late).
package authstore

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"

	"mediashare/internal/apperr"
	"mediashare/internal/text"
)

// Errors of the store. Lookups answer ErrNotFound for what is missing,
// expired or revoked alike, so a caller cannot tell them apart by
// accident in a message.
var (
	ErrNotFound      = errors.New("authstore: not found")
	ErrExists        = errors.New("authstore: already exists")
	ErrInviteUsed    = errors.New("authstore: invite already used")
	ErrInviteExpired = errors.New("authstore: invite expired")
)

// Session is a signed-in browser.
type Session struct {
	TokenHash string    // HashToken of the cookie's value; the value itself is never stored
	AccountID string    //
	Created   time.Time //
	Expires   time.Time // lookups ignore the session from then on
	LastSeen  time.Time // updated by TouchSession
	UserAgent string    // a summary (Summarise) for the account page
	IP        string    // a summary, e.g. the client address or its /24
}

// Token is a personal API token.
type Token struct {
	TokenHash string
	AccountID string
	Name      string   // chosen by the person (CheckTokenName)
	Scopes    []string // ScopeRead, ScopeUpload, ScopeDelete (ParseScopes)
	Created   time.Time
	Expires   time.Time // zero: never
	LastUsed  time.Time // updated by TouchToken; zero: never used
}

// Has reports whether the token carries scope.
func (t Token) Has(scope string) bool { return slices.Contains(t.Scopes, scope) }

// Invite is a single-use invitation to sign up.
type Invite struct {
	TokenHash  string    // HashToken of the invite link's secret; also the invite's id (not a secret)
	CreatedBy  string    // the admin's account id
	Role       string    // the role the new account gets (events.RoleMember or events.RoleAdmin)
	Created    time.Time //
	Expires    time.Time //
	ConsumedBy string    // the account that used it; "" while unused
	ConsumedAt time.Time //
}

// Credential is an account's password hash (an argon2id PHC string). It
// is kept here and not in the account's events so the audit log holds no
// secret and erasing an account leaves no hash behind.
type Credential struct {
	AccountID string
	Hash      string
	Updated   time.Time
}

// Sessions stores sessions.
type Sessions interface {
	// CreateSession stores s; ErrExists when its hash is taken.
	CreateSession(ctx context.Context, s Session) error
	// Session returns the session with the hash, or ErrNotFound when there
	// is none, it has expired or it was revoked.
	Session(ctx context.Context, tokenHash string) (Session, error)
	// TouchSession sets the session's LastSeen to the store's now.
	TouchSession(ctx context.Context, tokenHash string) error
	// RevokeSession ends one of the account's sessions (sign out). It is
	// not an error when there is no such session.
	RevokeSession(ctx context.Context, accountID, tokenHash string) error
	// RevokeSessions ends every session of the account made until now
	// (password change, "sign out everywhere", account disabled): also
	// those an index has not listed yet. Sessions made afterwards work.
	RevokeSessions(ctx context.Context, accountID string) error
	// Sessions lists the account's live sessions, newest first.
	Sessions(ctx context.Context, accountID string) ([]Session, error)
}

// Tokens stores personal API tokens.
type Tokens interface {
	// CreateToken stores t; ErrExists when its hash is taken.
	CreateToken(ctx context.Context, t Token) error
	// Token returns the token with the hash, or ErrNotFound when there is
	// none, it has expired or it was revoked.
	Token(ctx context.Context, tokenHash string) (Token, error)
	// TouchToken sets the token's LastUsed to the store's now.
	TouchToken(ctx context.Context, tokenHash string) error
	// RevokeToken removes one of the account's tokens; ErrNotFound when
	// the account has no live token with that hash.
	RevokeToken(ctx context.Context, accountID, tokenHash string) error
	// Tokens lists the account's live tokens, newest first.
	Tokens(ctx context.Context, accountID string) ([]Token, error)
}

// Invites stores invitations.
type Invites interface {
	// CreateInvite stores i; ErrExists when its hash is taken.
	CreateInvite(ctx context.Context, i Invite) error
	// Invite returns the invite with the hash (to show the sign-up page):
	// ErrNotFound, ErrInviteUsed or ErrInviteExpired when it cannot be used.
	Invite(ctx context.Context, tokenHash string) (Invite, error)
	// ConsumeInvite marks the invite used by accountID, atomically: of
	// two concurrent calls exactly one succeeds, the other gets
	// ErrInviteUsed. ErrNotFound and ErrInviteExpired as Invite.
	ConsumeInvite(ctx context.Context, tokenHash, accountID string) (Invite, error)
	// ReleaseInvite undoes ConsumeInvite by accountID, for a sign-up that
	// failed after consuming the invite: it can be used again. When the
	// invite is not consumed by accountID (missing, revoked, unused, used
	// by another) nothing changes and it is not an error.
	ReleaseInvite(ctx context.Context, tokenHash, accountID string) error
	// RevokeInvite removes an invite; not an error when there is none.
	RevokeInvite(ctx context.Context, tokenHash string) error
	// Invites lists the invites that can still be used, newest first.
	Invites(ctx context.Context) ([]Invite, error)
}

// Credentials stores password hashes.
type Credentials interface {
	// SetCredential stores (or replaces) the account's password hash.
	SetCredential(ctx context.Context, c Credential) error
	// Credential returns the account's password hash, or ErrNotFound.
	Credential(ctx context.Context, accountID string) (Credential, error)
}

// Store is the whole port.
type Store interface {
	Sessions
	Tokens
	Invites
	Credentials
	// Ping reports whether the store is reachable.
	Ping(ctx context.Context) error
}

// Token scopes.
const (
	ScopeRead   = "read"
	ScopeUpload = "upload"
	ScopeDelete = "delete"
)

// Scopes lists every scope.
var Scopes = []string{ScopeRead, ScopeUpload, ScopeDelete}

// ParseScopes reads a comma-separated list of scopes ("read,upload"),
// refusing unknown, repeated and missing ones with an Invalid error on
// the field "scopes". The result is in the order of Scopes.
func ParseScopes(s string) ([]string, error) {
	bad := func(format string, args ...any) ([]string, error) {
		return nil, apperr.FieldError(apperr.Invalid, "scopes", format, args...)
	}
	if len(s) > 100 {
		return bad("Choose scopes among %s.", strings.Join(Scopes, ", "))
	}
	seen := map[string]bool{}
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if !slices.Contains(Scopes, p) {
			return bad("Unknown scope %q: choose among %s.", p, strings.Join(Scopes, ", "))
		}
		if seen[p] {
			return bad("The scope %q is given twice.", p)
		}
		seen[p] = true
	}
	if len(seen) == 0 {
		return bad("Choose at least one scope among %s.", strings.Join(Scopes, ", "))
	}
	var out []string
	for _, sc := range Scopes {
		if seen[sc] {
			out = append(out, sc)
		}
	}
	return out, nil
}

// MaxTokenName is the longest token name, in characters.
const MaxTokenName = 64

// CheckTokenName trims a token's name and refuses a blank, over-long or
// control-character one with an Invalid error on the field "name".
func CheckTokenName(s string) (string, error) {
	return text.Clean(s, text.Rules{Field: "name", What: "token's name", Max: MaxTokenName, Required: "Give the token a name.", NoInvisible: true})
}

// Prefixes of the secrets NewSecret makes, so a leaked one is recognisable
// (and secret scanners can match it).
const (
	SessionPrefix = "mss_"
	TokenPrefix   = "mst_"
	InvitePrefix  = "msi_"
)

// NewSecret returns a fresh secret: prefix and 32 random bytes in
// unpadded base64url (43 characters), and its TokenHash. Hand the secret
// out once; store only the hash.
func NewSecret(prefix string) (secret, hash string, err error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", "", fmt.Errorf("authstore: random secret: %w", err)
	}
	secret = prefix + base64.RawURLEncoding.EncodeToString(b[:])
	return secret, HashToken(secret), nil
}

// MaxSecretLength bounds what a caller should accept as a presented
// secret before hashing it (ours are 47 characters).
const MaxSecretLength = 128

// HashToken is the stored form of a secret: the lowercase hex SHA-256 of
// its bytes. (A fast hash is right here: the secret has 256 random bits,
// nothing to guess.)
func HashToken(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// ValidHash reports whether s has the shape of a TokenHash, for ids that
// come from a request (revoke this session, this token).
func ValidHash(s string) bool {
	if len(s) != 64 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil && strings.ToLower(s) == s
}

// Summarise makes a user agent or address fit for the account page:
// valid UTF-8, control characters dropped, at most n characters.
func Summarise(s string, n int) string {
	s = strings.ToValidUTF8(s, "")
	var b strings.Builder
	count := 0
	for _, r := range s {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			continue
		}
		if count == n {
			break
		}
		b.WriteRune(r)
		count++
	}
	return strings.TrimSpace(b.String())
}

// Clock returns the time; adapters take one so tests can move it.
type Clock func() time.Time
