package web

import (
	"context"
	"net/http"

	"mediashare/internal/apperr"
	"mediashare/internal/authstore"
	"mediashare/internal/projections"
	"mediashare/views"
)

// ownUploads reads an owner's uploads, newest first, a page at a time.
type ownUploads interface {
	Owned(ctx context.Context, owner, cursor string, limit int) (projections.Page, error)
}

// accountShow serves GET /account: the viewer's sessions, the password
// form, their uploads and, for admins, invites.
func (s *Server) accountShow(w http.ResponseWriter, r *http.Request) {
	s.renderAccount(w, r, http.StatusOK, views.AccountPage{})
}

func (s *Server) renderAccount(w http.ResponseWriter, r *http.Request, code int, a views.AccountPage) {
	p := PrincipalFrom(r.Context())
	if !p.SignedIn() || s.People == nil {
		if !sessionRefused(r.Context()) && code == http.StatusOK {
			http.Redirect(w, r, "/login?return=/account", http.StatusSeeOther)
			return
		}
		s.renderError(w, r, notSignedIn(r.Context(), "see your account"))
		return
	}
	sessions, err := s.People.Sessions(r.Context(), p.AccountID)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	a.Name, a.Admin, a.Passwords = p.Name, p.Admin, s.policy().MayUsePasswords() == nil
	if err := s.fillTokens(r, p.AccountID, &a); err != nil {
		s.renderError(w, r, err)
		return
	}
	for _, x := range sessions {
		a.Sessions = append(a.Sessions, sessionRow(x, p.Session))
	}
	if p.Admin {
		invites, err := s.People.Invites(r.Context(), p)
		if err != nil {
			s.renderError(w, r, err)
			return
		}
		for _, i := range invites {
			a.Invites = append(a.Invites, views.InviteRow{ID: i.TokenHash, Role: i.Role, Created: i.Created, Expires: i.Expires})
		}
	}
	if o, ok := s.Gallery.(ownUploads); ok {
		page, err := o.Owned(r.Context(), p.AccountID, r.URL.Query().Get("after"), 0)
		if err != nil {
			s.renderError(w, r, err)
			return
		}
		for _, e := range page.Entries {
			if e.Visible() {
				a.Uploads = append(a.Uploads, cardOf(e))
			}
		}
	}
	w.Header().Set("Cache-Control", "no-store")
	html(w, code)
	views.AccountView(s.page(r, "Your account"), a).Render(r.Context(), w)
}

func sessionRow(x authstore.Session, current string) views.SessionRow {
	return views.SessionRow{ID: x.TokenHash, Current: x.TokenHash == current, Created: x.Created, LastSeen: x.LastSeen,
		Expires: x.Expires, UserAgent: x.UserAgent, IP: x.IP}
}

// accountFailed shows the account page with the message.
func (s *Server) accountFailed(w http.ResponseWriter, r *http.Request, err error) {
	code := status(err)
	if code >= 500 {
		s.renderError(w, r, err)
		return
	}
	retryAfter(w, err)
	s.renderAccount(w, r, code, views.AccountPage{Error: apperr.MessageOf(err), Field: apperr.FieldOf(err)})
}

// signedInOnly answers for a request that needs an account and reports
// whether it went on.
func (s *Server) signedInOnly(w http.ResponseWriter, r *http.Request, what string) bool {
	if s.People == nil {
		s.notFound(w, r)
		return false
	}
	if !PrincipalFrom(r.Context()).SignedIn() {
		s.renderError(w, r, notSignedIn(r.Context(), what))
		return false
	}
	return true
}

// passwordChange serves POST /account/password (current, password):
// every session ends, this browser gets a fresh one.
func (s *Server) passwordChange(w http.ResponseWriter, r *http.Request) {
	if !s.signedInOnly(w, r, "change your password") {
		return
	}
	if err := readForm(w, r, "current", "password"); err != nil {
		s.accountFailed(w, r, err)
		return
	}
	p := PrincipalFrom(r.Context())
	signed, err := s.People.ChangePassword(r.Context(), p.AccountID, r.PostForm.Get("current"), r.PostForm.Get("password"), s.clientOf(r))
	if err != nil {
		s.accountFailed(w, r, err)
		return
	}
	s.setSession(w, signed)
	http.Redirect(w, r, "/account", http.StatusSeeOther)
}

// sessionRevoke serves POST /account/sessions/{id}/revoke: signs one of
// the viewer's browsers out.
func (s *Server) sessionRevoke(w http.ResponseWriter, r *http.Request) {
	if !s.signedInOnly(w, r, "sign a browser out") {
		return
	}
	p := PrincipalFrom(r.Context())
	if err := s.People.RevokeSession(r.Context(), p.AccountID, r.PathValue("id")); err != nil {
		s.accountFailed(w, r, err)
		return
	}
	if r.PathValue("id") == p.Session {
		s.clearSession(w)
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/account", http.StatusSeeOther)
}

// invitesList serves GET /admin/invites: the account page, where an
// admin's invites are.
func (s *Server) invitesList(w http.ResponseWriter, r *http.Request) {
	if !s.signedInOnly(w, r, "see invites") {
		return
	}
	if err := s.policy().MayManageAccounts(PrincipalFrom(r.Context())); err != nil {
		s.renderError(w, r, err)
		return
	}
	s.renderAccount(w, r, http.StatusOK, views.AccountPage{})
}

// inviteCreate serves POST /admin/invites (role: member or admin): a
// single-use link, shown once.
func (s *Server) inviteCreate(w http.ResponseWriter, r *http.Request) {
	if !s.signedInOnly(w, r, "make invites") {
		return
	}
	if err := readForm(w, r, "role"); err != nil {
		s.accountFailed(w, r, err)
		return
	}
	role := r.PostForm.Get("role")
	if role != "" && role != "member" && role != "admin" {
		s.accountFailed(w, r, apperr.FieldError(apperr.Invalid, "role", "An invite makes a member or an admin."))
		return
	}
	secret, _, err := s.People.CreateInvite(r.Context(), PrincipalFrom(r.Context()), role)
	if err != nil {
		if apperr.CodeOf(err) == apperr.Forbidden {
			s.renderError(w, r, err)
			return
		}
		s.accountFailed(w, r, err)
		return
	}
	s.renderAccount(w, r, http.StatusCreated, views.AccountPage{NewInvite: s.inviteLink(r, secret), Notice: "Invite link made."})
}

// inviteLink is the link to send: on this site's sign-up page.
func (s *Server) inviteLink(r *http.Request, secret string) string {
	base := s.PublicURL
	if base == "" {
		scheme := "http"
		if s.Owners.Secure {
			scheme = "https"
		}
		base = scheme + "://" + r.Host
	}
	return base + "/signup?invite=" + secret
}
