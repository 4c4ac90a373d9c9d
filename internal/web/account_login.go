package web

import (
	"net/http"

	"mediashare/views"
)

// loginForm serves GET /login (?return= a path on this site).
func (s *Server) loginForm(w http.ResponseWriter, r *http.Request) {
	if s.People == nil {
		s.notFound(w, r)
		return
	}
	f := s.authForm(r)
	if ret := r.URL.Query().Get("return"); ret != "" {
		f.Return = safeReturn(ret)
	}
	html(w, http.StatusOK)
	views.LoginPage(s.page(r, "Sign in"), f).Render(r.Context(), w)
}

// loginCreate serves POST /login (username, password, return): a fresh
// session (the browser's old one ends), its anonymous uploads claimed,
// 303. An unknown name and a wrong password get the same answer; failed
// sign-ins are limited per name and per client.
func (s *Server) loginCreate(w http.ResponseWriter, r *http.Request) {
	if s.People == nil {
		s.notFound(w, r)
		return
	}
	f := s.authForm(r)
	if err := readForm(w, r, "username", "password", "return"); err != nil {
		s.authFailed(w, r, f, err, false)
		return
	}
	f.Username, f.Return = r.PostForm.Get("username"), safeReturn(r.PostForm.Get("return"))
	signed, err := s.People.SignIn(r.Context(), f.Username, r.PostForm.Get("password"), s.clientOf(r))
	if err != nil {
		s.authFailed(w, r, f, err, false)
		return
	}
	s.signedIn(w, r, signed, f.Return)
}

// logout serves POST /logout: the session ends and its cookie goes.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	p := PrincipalFrom(r.Context())
	if p.SignedIn() && s.People != nil {
		if err := s.People.SignOut(r.Context(), p.AccountID, p.Session); err != nil {
			s.renderError(w, r, err)
			return
		}
	}
	s.clearSession(w)
	if htmxOf(r).Request {
		w.Header().Set("HX-Redirect", "/")
		w.WriteHeader(http.StatusOK)
		return
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}
