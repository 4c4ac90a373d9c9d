package entry_test

import (
	"testing"

	"mediashare/internal/apperr"
	"mediashare/internal/entry"
	"mediashare/internal/events"
)

const account = "user-abcdefghijklmnop"

func claimed(t *testing.T, v int, to, from string) events.Event {
	return ev(t, v, events.EntryClaimed, events.AccountActor(to), events.Claimed{Account: to, From: from})
}

func TestClaim(t *testing.T) {
	tests := []struct {
		name           string
		history        []events.Event
		owner, account string
		want           apperr.Code // "" for allowed
	}{
		{"an anonymous owner's entry", []events.Event{upload(t, 1)}, "alice", account, ""},
		{"while processing or ready", []events.Event{upload(t, 1), thumb(t, 2, false)}, "alice", account, ""},
		{"after a failed preview", []events.Event{upload(t, 1), failed(t, 2)}, "alice", account, ""},
		{"someone else's", []events.Event{upload(t, 1)}, "bob", account, apperr.Forbidden},
		{"no owner", []events.Event{upload(t, 1)}, "", account, apperr.Forbidden},
		{"to something that is not an account", []events.Event{upload(t, 1)}, "alice", "mallory", apperr.Invalid},
		{"already claimed", []events.Event{upload(t, 1), claimed(t, 2, account, "alice")}, "alice", "user-other", apperr.Forbidden},
		{"deleted", []events.Event{upload(t, 1), deleted(t, 2, "owner")}, "alice", account, apperr.NotFound},
		{"purged", []events.Event{upload(t, 1), deleted(t, 2, "owner"), purged(t, 3)}, "alice", account, apperr.NotFound},
		{"no such entry", nil, "alice", account, apperr.NotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := entry.Fold(tt.history)
			if err != nil {
				t.Fatal(err)
			}
			ev, err := e.Claim(tt.owner, tt.account, "claim-1", t0)
			if got := apperr.CodeOf(err); (err == nil) != (tt.want == "") || (err != nil && got != tt.want) {
				t.Fatalf("Claim: %v (code %q), want code %q", err, got, tt.want)
			}
			if err != nil {
				return
			}
			if ev.Type != events.EntryClaimed || ev.Actor != events.AccountActor(tt.account) || ev.Stream != eib {
				t.Errorf("event: %+v", ev)
			}
			ev.Version = e.Version + 1
			after, err := e.Apply(ev)
			if err != nil {
				t.Fatal(err)
			}
			if after.Owner != tt.account {
				t.Errorf("owner after the claim: %q, want %q", after.Owner, tt.account)
			}
			if after.Status != e.Status {
				t.Errorf("a claim changed the status: %q to %q", e.Status, after.Status)
			}
			if err := after.MayDelete(entry.Actor{Owner: tt.owner}); apperr.CodeOf(err) != apperr.Forbidden {
				t.Errorf("the old anonymous owner may still delete: %v", err)
			}
			if err := after.MayDelete(entry.Actor{Owner: tt.account}); err != nil {
				t.Errorf("the account may not delete its claimed entry: %v", err)
			}
		})
	}
}

// A claim replayed (or delivered twice) changes nothing the second time,
// and one that does not match the owner any more is ignored.
func TestClaimIsIdempotent(t *testing.T) {
	h := []events.Event{upload(t, 1), claimed(t, 2, account, "alice"), claimed(t, 3, "user-other", "alice")}
	e, err := entry.Fold(append(h, h[1]))
	if err != nil {
		t.Fatal(err)
	}
	if e.Owner != account || e.Version != 3 {
		t.Errorf("owner %q at v%d, want %q at v3", e.Owner, e.Version, account)
	}
}
