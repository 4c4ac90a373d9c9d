package web

import (
	"context"
	"net/http"
)

// claimer moves an anonymous owner's entries to an account; the gallery
// service is one.
type claimer interface {
	Claim(ctx context.Context, owner, account string) (int, error)
}

// claim gives the account what this browser uploaded anonymously (its
// owner cookie). It is best effort: a failure is logged, the sign-in
// stands, and the next sign-in from this browser tries again.
func (s *Server) claim(r *http.Request, account string) {
	p := PrincipalFrom(r.Context())
	c, ok := s.Gallery.(claimer)
	if !ok || p.Owner == "" || p.OwnerUnverified {
		return
	}
	n, err := c.Claim(r.Context(), p.Owner, account)
	if err != nil {
		s.log().Warn("could not claim a visitor's anonymous uploads", "account", account, "claimed", n, "error", err)
		return
	}
	if n > 0 {
		s.log().Info("claimed anonymous uploads", "account", account, "entries", n)
	}
}
