package text_test

import (
	"strings"
	"testing"

	"mediashare/internal/apperr"
	"mediashare/internal/text"
)

func TestClean(t *testing.T) {
	title := text.Rules{Field: "title", What: "title", Max: 10, Required: "Please give the image a title."}
	comment := text.Rules{Field: "comment", What: "comment", Max: 10, Required: "Please write a comment.", Lines: true}
	reason := text.Rules{Field: "reason", What: "reason", Max: 10, Lines: true} // may be blank
	name := text.Rules{Field: "name", What: "token's name", Max: 10, Required: "Give the token a name.", NoInvisible: true}
	tests := []struct {
		name  string
		rules text.Rules
		in    string
		want  string // the stored text, when it passes
		msg   string // a part of the error's message, when it fails
	}{
		{"a title, trimmed", title, "  Storm \t", "Storm", ""},
		{"a blank title", title, " \n ", "", "Please give the image a title."},
		{"a title with a line break", title, "a\nb", "", "control characters or line breaks"},
		{"a title with a tab", title, "a\tb", "", "control characters or line breaks"},
		{"a title with a CR", title, "a\rb", "", "control characters or line breaks"},
		{"a title with NUL", title, "a\x00b", "", "control characters"},
		{"a title with DEL", title, "a\x7fb", "", "control characters"},
		{"a title with a C1 control", title, "a\u0085b", "", "control characters"},
		{"a title with an emoji sequence (ZWJ, Cf) passes", title, "👩\u200d💻", "👩\u200d💻", ""},
		{"a title not UTF-8", title, "a\xffb", "", "must be text (UTF-8)"},
		{"a title at the limit, in characters", title, strings.Repeat("é", 10), strings.Repeat("é", 10), ""},
		{"a title over the limit", title, strings.Repeat("é", 11), "", "at most 10 characters (it has 11)"},
		{"a comment keeps LF and tab", comment, "a\n\tb", "a\n\tb", ""},
		{"a comment's CRLF is stored as LF", comment, "a\r\nb", "a\nb", ""},
		{"a comment's lone CR is stored as LF", comment, "a\rb", "a\nb", ""},
		{"a comment with a bell", comment, "a\x07b", "", "The comment may not hold control characters."},
		{"a comment with a C1 control", comment, "a\u009bb", "", "control characters"},
		{"a comment of CRLFs only is blank", comment, "\r\n\r\n", "", "Please write a comment."},
		{"a comment counted after CRLF is LF", comment, strings.Repeat("a\r\n", 4) + "bb", "a\na\na\na\nbb", ""},
		{"a blank reason may be", reason, "  ", "", ""},
		{"a reason with ESC", reason, "a\x1bb", "", "control characters"},
		{"a token name", name, " ShareX ", "ShareX", ""},
		{"a blank token name", name, "", "", "Give the token a name."},
		{"a token name with a bidi override", name, "a\u202eb", "", "invisible or control"},
		{"a token name with a ZWJ", name, "a\u200db", "", "invisible or control"},
		{"a token name with a line break", name, "a\nb", "", "control characters"},
		{"a token name over the limit", name, strings.Repeat("x", 11), "", "at most 10"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := text.Clean(tt.in, tt.rules)
			if tt.msg == "" {
				if err != nil || got != tt.want {
					t.Fatalf("got %q, %v; want %q", got, err, tt.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("got %q, want an error saying %q", got, tt.msg)
			}
			if apperr.CodeOf(err) != apperr.Invalid || apperr.FieldOf(err) != tt.rules.Field || !strings.Contains(apperr.MessageOf(err), tt.msg) {
				t.Errorf("got %v (code %q, field %q), want Invalid on %q saying %q", err, apperr.CodeOf(err), apperr.FieldOf(err), tt.rules.Field, tt.msg)
			}
		})
	}
}
