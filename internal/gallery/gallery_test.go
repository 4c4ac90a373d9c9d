package gallery

import (
	"strings"
	"testing"

	"mediashare/internal/apperr"
)

func TestValidateText(t *testing.T) {
	s := &Service{Limits: DefaultLimits}
	tests := []struct {
		name, title, comment string
		field                string // "" when valid
	}{
		{"valid", "Sunset", "over the sea", ""},
		{"blank title", "  \t", "c", "title"},
		{"title of 200 characters", strings.Repeat("é", 200), "c", ""},
		{"title of 201 characters", strings.Repeat("é", 201), "c", "title"},
		{"blank comment", "t", "\n ", "comment"},
		{"comment of 2001 characters", "t", strings.Repeat("x", 2001), "comment"},
		{"title not UTF-8", "\xff", "c", "title"},
		{"comment not UTF-8", "t", "\xfe", "comment"},
		{"title with a line break", "two\nlines", "c", "title"},
		{"title with a lone CR", "a\rb", "c", "title"},
		{"title with NUL", "a\x00b", "c", "title"},
		{"title with a C1 control", "a\u0085b", "c", "title"},
		{"comment with browser line breaks", "t", "line one\r\nline two\n\ttabbed", ""},
		{"comment with a lone CR (SSE injection)", "t", "x\r\rid: 9\revent: reload\rdata: y\r", ""},
		{"comment with an escape", "t", "a\x1b[31mred", "comment"},
		{"comment with DEL", "t", "a\x7f", "comment"},
	}
	for _, tt := range tests {
		err := s.ValidateText(tt.title, tt.comment)
		if got := apperr.FieldOf(err); got != tt.field || (tt.field != "" && apperr.CodeOf(err) != apperr.Invalid) {
			t.Errorf("%s: got field %q (%v), want %q", tt.name, got, err, tt.field)
		}
	}
}

func TestTitleFromFilename(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"underscores and extension", "beach_day.JPG", "beach day"},
		{"dashes", "sunset-2.png", "sunset 2"},
		{"a path", `C:\Users\me\IMG_0001.jpeg`, "IMG 0001"},
		{"no name", ".png", "Untitled"},
		{"dot file", "...", "Untitled"},
	}
	for _, tt := range tests {
		if got := TitleFromFilename(tt.in); got != tt.want {
			t.Errorf("%s: TitleFromFilename(%q) = %q, want %q", tt.name, tt.in, got, tt.want)
		}
	}
}

func TestCleanComment(t *testing.T) {
	for in, want := range map[string]string{
		"a\r\nb":                 "a\nb",
		"a\rb":                   "a\nb",
		"x\r\rid: 9\revent: x\r": "x\n\nid: 9\nevent: x",
		"  plain  ":              "plain",
	} {
		if got := CleanComment(in); got != want {
			t.Errorf("CleanComment(%q) = %q, want %q", in, got, want)
		}
		if strings.Contains(CleanComment(in), "\r") {
			t.Errorf("CleanComment(%q) keeps a CR", in)
		}
	}
}
