package accounts

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"mediashare/internal/apperr"
)

func TestCommonPasswordList(t *testing.T) {
	list := commonPasswords()
	if len(list) < 300 {
		t.Errorf("the common list has %d passwords, want at least a few hundred", len(list))
	}
	for p := range list {
		if len([]rune(p)) < MinPasswordLength {
			t.Errorf("%q is shorter than %d: the length rule refuses it already, so it does not belong in the list", p, MinPasswordLength)
		}
		if p != strings.ToLower(p) {
			t.Errorf("%q is not lowercase", p)
		}
	}
	for _, walk := range []string{"qwertyuiop", "1234567890", "1q2w3e4r5t", "asdfghjkl;", "zaq12wsxcde3"} {
		if !list[walk] {
			t.Errorf("keyboard walk %q is missing from the list", walk)
		}
	}
}

func TestCheckPassword(t *testing.T) {
	tests := []struct {
		name, password, user, msg string // msg "" means accepted
	}{
		{"long and uncommon", "violet-harbour-kettle", "alice", ""},
		{"exactly ten", "x7#Lq9v!Rb", "alice", ""},
		{"unicode counts characters", "ẞüñçøå€ęłś", "alice", ""},
		{"too short", "Tr0ub4d&3", "alice", "at least 10 characters"},
		{"empty", "", "alice", "at least 10 characters"},
		{"nine multibyte characters are still nine", "ééééééééa", "alice", "at least 10 characters"},
		{"over long", strings.Repeat("ab", MaxPasswordLength), "alice", "at most 256"},
		{"common", "password123", "alice", "most common"},
		{"common in capitals", "PASSWORD123", "alice", "most common"},
		{"common mixed case", "QwErTyUiOp", "alice", "most common"},
		{"keyboard walk", "1q2w3e4r5t", "alice", "most common"},
		{"common with a trailing space", "iloveyou123 ", "alice", "most common"},
		{"repeated character", "zzzzzzzzzzzz", "alice", "one character repeated"},
		{"the username", "alexandria1", "alexandria", "your username"},
		{"the username in capitals", "ALEXANDRIA22", "alexandria", "your username"},
		{"invalid UTF-8", "abcdefghij\xff", "alice", "not valid text"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckPassword(tt.password, tt.user)
			if tt.msg == "" {
				if err != nil {
					t.Fatalf("CheckPassword(%q): %v, want accepted", tt.password, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("CheckPassword(%q) accepted, want %q", tt.password, tt.msg)
			}
			if apperr.CodeOf(err) != apperr.Invalid || apperr.FieldOf(err) != "password" {
				t.Errorf("got code %s field %q, want invalid on password", apperr.CodeOf(err), apperr.FieldOf(err))
			}
			if got := apperr.MessageOf(err); !strings.Contains(got, tt.msg) {
				t.Errorf("message: got %q, want it to contain %q", got, tt.msg)
			}
		})
	}
}

// cheap are small parameters for tests that are not about the cost.
var cheap = Params{MemoryKiB: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func TestHashOWASP(t *testing.T) {
	ctx := context.Background()
	h := NewHasher(OWASP, 2)
	phc, err := h.Hash(ctx, "violet-harbour-kettle")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(phc, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("PHC string %q does not carry the OWASP parameters", phc)
	}
	if err := h.Verify(ctx, phc, "violet-harbour-kettle"); err != nil {
		t.Errorf("Verify the right password: %v", err)
	}
	if err := h.Verify(ctx, phc, "violet-harbour-kettlE"); !errors.Is(err, ErrMismatch) {
		t.Errorf("Verify a wrong password: got %v, want ErrMismatch", err)
	}
	again, _ := h.Hash(ctx, "violet-harbour-kettle")
	if again == phc {
		t.Error("two hashes of one password are equal: the salt is not random")
	}
	if h.NeedsRehash(phc) {
		t.Error("NeedsRehash of a fresh hash")
	}
	if !NewHasher(cheap, 1).NeedsRehash(phc) {
		t.Error("NeedsRehash with other parameters is false")
	}
}

func TestVerifyReadsParametersFromTheString(t *testing.T) {
	ctx := context.Background()
	old, _ := NewHasher(cheap, 1).Hash(ctx, "violet-harbour-kettle")
	if err := NewHasher(OWASP, 1).Verify(ctx, old, "violet-harbour-kettle"); err != nil {
		t.Errorf("a hash made with other parameters does not verify: %v", err)
	}
}

func TestVerifyUnknownTakesAsLong(t *testing.T) {
	ctx := context.Background()
	h := NewHasher(OWASP, 1)
	phc, _ := h.Hash(ctx, "violet-harbour-kettle")
	if err := h.VerifyUnknown(ctx, "whatever-they-typed"); !errors.Is(err, ErrMismatch) {
		t.Fatalf("VerifyUnknown: got %v, want ErrMismatch", err)
	}
	// The fastest of a few interleaved runs of each: a busy machine only
	// ever adds time, so the minimum is the run least disturbed. Skipping
	// the hash would make an unknown name about a thousand times faster;
	// only a gap that gross fails, never the noise of a loaded machine.
	known, unknown := time.Duration(1<<62), time.Duration(1<<62)
	for range 5 {
		start := time.Now()
		h.Verify(ctx, phc, "wrong-password-here")
		known = min(known, time.Since(start))
		start = time.Now()
		h.VerifyUnknown(ctx, "wrong-password-here")
		unknown = min(unknown, time.Since(start))
	}
	if unknown < known/10 {
		t.Errorf("a wrong password takes %v, an unknown name %v: the unknown name must do the same argon2id work", known, unknown)
	}
}

func TestVerifyRefusesBadStrings(t *testing.T) {
	ctx := context.Background()
	h := NewHasher(cheap, 1)
	good, _ := h.Hash(ctx, "violet-harbour-kettle")
	parts := strings.Split(good, "$")
	for _, tt := range []struct{ name, phc string }{
		{"empty", ""},
		{"bcrypt", "$2a$10$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234"},
		{"argon2i", strings.Replace(good, "argon2id", "argon2i", 1)},
		{"old version", strings.Replace(good, "v=19", "v=16", 1)},
		{"huge memory", strings.Join([]string{"", parts[1], parts[2], "m=4294967295,t=2,p=1", parts[4], parts[5]}, "$")},
		{"huge time", strings.Join([]string{"", parts[1], parts[2], "m=64,t=100000,p=1", parts[4], parts[5]}, "$")},
		{"zero threads", strings.Join([]string{"", parts[1], parts[2], "m=64,t=1,p=0", parts[4], parts[5]}, "$")},
		{"unknown parameter", strings.Join([]string{"", parts[1], parts[2], "m=64,t=1,p=1,x=2", parts[4], parts[5]}, "$")},
		{"bad salt", strings.Join([]string{"", parts[1], parts[2], parts[3], "!!!", parts[5]}, "$")},
		{"short key", strings.Join([]string{"", parts[1], parts[2], parts[3], parts[4], "AAAA"}, "$")},
		{"extra field", good + "$x"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := h.Verify(ctx, tt.phc, "violet-harbour-kettle")
			if err == nil || errors.Is(err, ErrMismatch) {
				t.Errorf("Verify(%q): got %v, want a format error", tt.phc, err)
			}
		})
	}
}

func TestHasherBoundsConcurrency(t *testing.T) {
	h := NewHasher(cheap, 1)
	h.slots <- struct{}{} // the one slot is busy
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := h.Hash(ctx, "violet-harbour-kettle"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Hash with no free slot: got %v, want the context's deadline", err)
	}
	<-h.slots
	if _, err := h.Hash(context.Background(), "violet-harbour-kettle"); err != nil {
		t.Errorf("Hash with a free slot: %v", err)
	}
}
