package accounts

import (
	"strings"
	"testing"

	"mediashare/internal/apperr"
)

func TestParseNameSameName(t *testing.T) {
	tests := []struct {
		name string
		a, b string
	}{
		{"case", "Alice", "aLICE"},
		{"full-width letters", "ａｌｉｃｅ", "alice"},
		{"composed and decomposed accent", "Ren\u00e9", "rene\u0301"},
		{"ligature", "ﬁona", "fiona"},
		{"German sharp s folds to ss", "Straße", "STRASSE"},
		{"Greek final sigma", "ΟΔΟΣ", "οδος"},
		{"surrounding space", "  bob ", "bob"},
		{"full-width digits", "user１２", "user12"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := ParseName(tt.a)
			if err != nil {
				t.Fatalf("ParseName(%q): %v", tt.a, err)
			}
			b, err := ParseName(tt.b)
			if err != nil {
				t.Fatalf("ParseName(%q): %v", tt.b, err)
			}
			if a.Normalised != b.Normalised {
				t.Errorf("normalised %q and %q: got %q and %q, want the same", tt.a, tt.b, a.Normalised, b.Normalised)
			}
			if a.ID() != b.ID() {
				t.Errorf("stream ids differ: %s, %s", a.ID(), b.ID())
			}
		})
	}
}

func TestParseNameDifferentNames(t *testing.T) {
	a, _ := ParseName("alice")
	b, _ := ParseName("alice2")
	if a.Normalised == b.Normalised || a.ID() == b.ID() {
		t.Errorf("alice and alice2 are the same: %+v %+v", a, b)
	}
}

func TestParseNameKeepsDisplay(t *testing.T) {
	n, err := ParseName(" Ren\u0065\u0301e ")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := n.Display, "Ren\u00e9e"; got != want {
		t.Errorf("display: got %q, want %q (trimmed, NFC)", got, want)
	}
	if got, want := n.Normalised, "ren\u00e9e"; got != want {
		t.Errorf("normalised: got %q, want %q", got, want)
	}
}

func TestParseNameRefused(t *testing.T) {
	tests := []struct {
		name, in, msg string
	}{
		{"blank", "", "Choose a username."},
		{"spaces only", "   \t", "Choose a username."},
		{"over long", strings.Repeat("a", MaxNameLength+1), "at most 32 characters"},
		{"over long after normalisation", strings.Repeat("ﬀ", 17), "at most 32 characters"}, // 17 ligatures become 34 letters
		{"huge", strings.Repeat("a", 100000), "at most 32 characters"},
		{"inner space", "al ice", "cannot contain spaces"},
		{"newline", "al\nice", "cannot contain spaces"},
		{"NUL", "al\x00ice", "control character"},
		{"bell", "al\x07ice", "control character"},
		{"zero-width joiner", "al\u200dice", "invisible or control"},
		{"right-to-left override", "al\u202eice", "invisible or control"},
		{"bidi isolate", "\u2066alice", "invisible or control"},
		{"BOM", "\ufeffalice", "invisible or control"},
		{"private use", "al\ue000ice", "invisible or control"},
		{"invalid UTF-8", "al\xffice", "not valid text"},
		{"slash", "al/ice", "not \"/\""},
		{"at sign", "alice@example.com", "not \"@\""},
		{"emoji", "alice😀", "not \"😀\""},
		{"HTML", "<script>", "not \"<\""},
		{"leading dot", ".alice", "begin and end"},
		{"trailing hyphen", "alice-", "begin and end"},
		{"lone combining mark first", "\u0301alice", "begin and end"},
		{"reserved system", "System", "reserved"},
		{"reserved anonymous", "ANONYMOUS", "reserved"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := ParseName(tt.in)
			if err == nil {
				t.Fatalf("ParseName(%q) = %+v, want an error", tt.in, n)
			}
			if got := apperr.CodeOf(err); got != apperr.Invalid {
				t.Errorf("code: got %s, want %s", got, apperr.Invalid)
			}
			if got := apperr.FieldOf(err); got != "username" {
				t.Errorf("field: got %q, want username", got)
			}
			if got := apperr.MessageOf(err); !strings.Contains(got, tt.msg) {
				t.Errorf("message: got %q, want it to contain %q", got, tt.msg)
			}
		})
	}
}

func TestParseNameAccepted(t *testing.T) {
	for _, in := range []string{"a", "bob", "alice.smith", "j_doe-2", "Ωμέγα", "渡辺", "Zoë", strings.Repeat("x", MaxNameLength), "١٢٣"} {
		if _, err := ParseName(in); err != nil {
			t.Errorf("ParseName(%q): %v", in, err)
		}
	}
}

func TestStreamID(t *testing.T) {
	id := StreamID("alice")
	if !strings.HasPrefix(id, "user-") || len(id) != len("user-")+52 || strings.ToLower(id) != id {
		t.Errorf("StreamID(alice) = %q, want user- and 52 lowercase base32 characters", id)
	}
	if StreamID("alice") != id {
		t.Error("StreamID is not deterministic")
	}
}
