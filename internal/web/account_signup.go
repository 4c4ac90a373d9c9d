package web

import (
	"net/http"

	"mediashare/internal/apperr"
	"mediashare/internal/people"
	"mediashare/views"
)

// authForm is the sign-in or sign-up form's frame for this site.
func (s *Server) authForm(r *http.Request) views.AuthForm {
	return views.AuthForm{Passwords: s.policy().MayUsePasswords() == nil, OIDC: s.OIDC != nil}
}

// signupForm serves GET /signup (?invite= from an invite link). A fresh
// site's form makes its admin.
func (s *Server) signupForm(w http.ResponseWriter, r *http.Request) {
	if s.People == nil {
		s.notFound(w, r)
		return
	}
	f := s.authForm(r)
	has, err := s.People.HasAccounts(r.Context())
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	f.FirstAdmin = !has
	code := http.StatusOK
	if inv := r.URL.Query().Get("invite"); inv != "" && has {
		f.Invite = inv
		if _, err := s.People.Invite(r.Context(), inv); err != nil {
			code, f.Error, f.Field, f.Invite = status(err), apperr.MessageOf(err), "invite", ""
		}
	}
	if has && f.Invite == "" && f.Error == "" {
		if _, err := s.policy().MaySignUp(true, false); err != nil {
			f.Closed = apperr.MessageOf(err)
		}
	}
	html(w, code)
	views.SignUpPage(s.page(r, "Sign up"), f).Render(r.Context(), w)
}

// signupCreate serves POST /signup (username, password, invite): the
// account, a session cookie, the visitor's anonymous uploads claimed, and
// 303 to the gallery.
func (s *Server) signupCreate(w http.ResponseWriter, r *http.Request) {
	if s.People == nil {
		s.notFound(w, r)
		return
	}
	f := s.authForm(r)
	if err := readForm(w, r, "username", "password", "invite"); err != nil {
		s.authFailed(w, r, f, err, true)
		return
	}
	f.Username, f.Invite = r.PostForm.Get("username"), r.PostForm.Get("invite")
	signed, err := s.People.SignUp(r.Context(), people.SignUpInput{
		Username: f.Username, Password: r.PostForm.Get("password"), Invite: f.Invite, Client: s.clientOf(r),
	})
	if err != nil {
		if has, herr := s.People.HasAccounts(r.Context()); herr == nil {
			f.FirstAdmin = !has
		}
		s.authFailed(w, r, f, err, true)
		return
	}
	s.signedIn(w, r, signed, "/")
}

// signedIn finishes a sign-up or sign-in: the old session (if any) ends,
// the new cookie is set, the browser's anonymous uploads are claimed.
func (s *Server) signedIn(w http.ResponseWriter, r *http.Request, signed people.Signed, next string) {
	if old := PrincipalFrom(r.Context()); old.SignedIn() {
		if err := s.People.SignOut(r.Context(), old.AccountID, old.Session); err != nil {
			s.log().Warn("could not end the session replaced by a sign-in", "error", err)
		}
	}
	s.setSession(w, signed)
	s.claim(r, signed.Account.ID)
	http.Redirect(w, r, safeReturn(next), http.StatusSeeOther)
}

// authFailed shows the form again with the name kept and the message.
func (s *Server) authFailed(w http.ResponseWriter, r *http.Request, f views.AuthForm, err error, signup bool) {
	code := status(err)
	if code >= 500 {
		s.log().Error("account request failed", "path", r.URL.Path, "error", err)
	}
	s.countRefusal(err)
	retryAfter(w, err)
	f.Error, f.Field = apperr.MessageOf(err), apperr.FieldOf(err)
	html(w, code)
	if signup {
		views.SignUpPage(s.page(r, "Sign up"), f).Render(r.Context(), w)
		return
	}
	views.LoginPage(s.page(r, "Sign in"), f).Render(r.Context(), w)
}
