package authstore

import (
	"slices"
	"strings"
	"testing"

	"mediashare/internal/apperr"
)

func TestParseScopes(t *testing.T) {
	for _, tt := range []struct {
		name, in string
		want     []string
		msg      string
	}{
		{"one", "read", []string{"read"}, ""},
		{"all, in any order", "delete, upload,read", []string{"read", "upload", "delete"}, ""},
		{"empty parts ignored", ",read,,", []string{"read"}, ""},
		{"none", "", nil, "at least one scope"},
		{"only commas", " , ,", nil, "at least one scope"},
		{"unknown", "read,admin", nil, `Unknown scope "admin"`},
		{"case matters", "READ", nil, `Unknown scope "READ"`},
		{"twice", "read,read", nil, "given twice"},
		{"huge", strings.Repeat("read,", 100), nil, "Choose scopes"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseScopes(tt.in)
			if tt.msg == "" {
				if err != nil || !slices.Equal(got, tt.want) {
					t.Errorf("ParseScopes(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
				}
				return
			}
			if err == nil || !strings.Contains(apperr.MessageOf(err), tt.msg) || apperr.FieldOf(err) != "scopes" || apperr.CodeOf(err) != apperr.Invalid {
				t.Errorf("ParseScopes(%q): got %v, want an invalid scopes error with %q", tt.in, err, tt.msg)
			}
		})
	}
}

func TestCheckTokenName(t *testing.T) {
	if got, err := CheckTokenName("  ShareX at work "); err != nil || got != "ShareX at work" {
		t.Errorf("got %q, %v", got, err)
	}
	for _, in := range []string{"", "   ", strings.Repeat("x", MaxTokenName+1), "a\x00b", "a\u202eb", "bad\xff"} {
		if _, err := CheckTokenName(in); err == nil || apperr.FieldOf(err) != "name" {
			t.Errorf("CheckTokenName(%q): got %v, want an error on name", in, err)
		}
	}
}

func TestNewSecret(t *testing.T) {
	s1, h1, err := NewSecret(TokenPrefix)
	if err != nil {
		t.Fatal(err)
	}
	s2, h2, _ := NewSecret(TokenPrefix)
	if s1 == s2 || h1 == h2 {
		t.Fatal("two secrets are equal")
	}
	if !strings.HasPrefix(s1, TokenPrefix) || len(s1) != len(TokenPrefix)+43 || len(s1) > MaxSecretLength {
		t.Errorf("secret %q: want %s and 43 base64url characters", s1, TokenPrefix)
	}
	if HashToken(s1) != h1 || !ValidHash(h1) || strings.Contains(h1, s1) {
		t.Errorf("hash %q of %q", h1, s1)
	}
	for _, bad := range []string{"", "abc", strings.ToUpper(h1), h1 + "0", "z" + h1[1:]} {
		if ValidHash(bad) {
			t.Errorf("ValidHash(%q) is true", bad)
		}
	}
}

func TestSummarise(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"Mozilla/5.0 (X11; Linux x86_64)", "Mozilla/5.0 (X11; Linux x86_64)"},
		{"evil\r\nSet-Cookie: x\x00", "evilSet-Cookie: x"},
		{"\u202egnp.exe", "gnp.exe"},
		{"bad\xffbytes", "badbytes"},
		{strings.Repeat("é", 300), strings.Repeat("é", 10)},
	} {
		if got := Summarise(tt.in, 10000); tt.want != strings.Repeat("é", 10) && got != tt.want {
			t.Errorf("Summarise(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := Summarise(strings.Repeat("é", 300), 10); got != strings.Repeat("é", 10) {
		t.Errorf("Summarise to 10: got %q", got)
	}
}
