package entry

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"mediashare/internal/events"
	"mediashare/internal/keyring"
)

// Keys looks up entries' data keys, to open sealed fields; a
// keyring.Store is one. Get answers keyring.ErrNotFound for an entry that
// never had a key and a *keyring.DestroyedError once it was erased.
type Keys interface {
	Get(ctx context.Context, entry string) ([]byte, error)
}

// ErasedText stands in for a sealed field whose key was destroyed.
const ErasedText = "[erased]"

// ErrKeys wraps a failure to look up a key (the key store did not
// answer): the read is worth retrying, unlike a payload it cannot decode.
var ErrKeys = errors.New("entry: could not look up the entry's key")

// Seal seals the personal fields of an upload's payload (title, comment,
// file name) with the entry's key; the event carrying it must have
// events.SealedSchema as its schema. Empty fields stay empty.
func Seal(key []byte, eib string, u events.Uploaded) (events.Uploaded, error) {
	for _, f := range []struct {
		name string
		v    *string
	}{{events.FieldTitle, &u.Title}, {events.FieldComment, &u.Comment}, {events.FieldFilename, &u.Filename}} {
		if *f.v == "" {
			continue
		}
		s, err := keyring.Seal(key, eib, f.name, []byte(*f.v))
		if err != nil {
			return events.Uploaded{}, fmt.Errorf("entry: seal %s of %s: %w", f.name, eib, err)
		}
		*f.v = s
	}
	return u, nil
}

// open opens the sealed fields of an upload read from ev. Without keys
// the fields are withheld (blank): the decisions never need them. With
// keys, a destroyed key gives ErasedText in each field and Erased.
func open(ctx context.Context, ev events.Event, keys Keys, f *Fact) error {
	u := &f.Upload
	if keys == nil {
		u.Title, u.Comment, u.Filename, f.Withheld = "", "", "", true
		return nil
	}
	key, err := keys.Get(ctx, ev.Stream)
	switch {
	case errors.Is(err, keyring.ErrDestroyed):
		f.Erased = true
		for _, v := range []*string{&u.Title, &u.Comment, &u.Filename} {
			if *v != "" {
				*v = ErasedText
			}
		}
		return nil
	case errors.Is(err, keyring.ErrNotFound):
		return fmt.Errorf("entry: %s v%d is sealed but the entry has no key", ev.Stream, ev.Version)
	case err != nil:
		return fmt.Errorf("%w %s: %w", ErrKeys, ev.Stream, err)
	}
	for _, fl := range []struct {
		name string
		v    *string
	}{{events.FieldTitle, &u.Title}, {events.FieldComment, &u.Comment}, {events.FieldFilename, &u.Filename}} {
		if *fl.v == "" {
			continue
		}
		b, err := keyring.Open(key, ev.Stream, fl.name, *fl.v)
		if err != nil {
			return fmt.Errorf("entry: open the %s of %s v%d: %w", fl.name, ev.Stream, ev.Version, err)
		}
		*fl.v = string(b)
	}
	return nil
}

// Reveal returns ev with its sealed fields opened (or ErasedText once the
// key is gone) in its payload, for tools that show payloads whole (the
// NDJSON export, the command line). Other events are returned as they are.
func Reveal(ctx context.Context, ev events.Event, keys Keys) (events.Event, error) {
	if ev.Type == events.EntryReported {
		return Public(ev)
	}
	if !sealed(ev) {
		return ev, nil
	}
	f, err := Read(ctx, ev, keys)
	if err != nil {
		return ev, err
	}
	out, err := events.New(ev.ID, ev.Type, ev.Stream, ev.Time, ev.Actor, f.Upload)
	if err != nil {
		return ev, err
	}
	// The payload is now in the clear: it reads as the schema before sealing.
	out.Version, out.Position, out.Schema = ev.Version, ev.Position, events.SchemaVersion
	return out, nil
}

func sealed(ev events.Event) bool {
	return ev.Type == events.MediaUploaded && ev.Schema >= events.SealedSchema
}

// ReportField is the sealed field of a report's text: bound to the report.
func ReportField(report string) string { return "report/" + report }

// SealReport seals a report's text with the entry's key (the event
// carrying it must have events.SealedSchema): erasing the entry shreds
// what its reports said too (they may quote it).
func SealReport(key []byte, eib string, p events.Reported) (events.Reported, error) {
	if p.Text == "" {
		return p, nil
	}
	t, err := keyring.Seal(key, eib, ReportField(p.Report), []byte(p.Text))
	if err != nil {
		return events.Reported{}, fmt.Errorf("entry: seal the report %s of %s: %w", p.Report, eib, err)
	}
	p.Text = t
	return p, nil
}

// openReport opens a sealed report's text as open does an upload's fields.
func openReport(ctx context.Context, ev events.Event, keys Keys, f *Fact) error {
	r := &f.Report
	if r.Text == "" {
		return nil
	}
	if keys == nil {
		r.Text, f.Withheld = "", true
		return nil
	}
	key, err := keys.Get(ctx, ev.Stream)
	switch {
	case errors.Is(err, keyring.ErrDestroyed):
		r.Text, f.Erased = ErasedText, true
		return nil
	case errors.Is(err, keyring.ErrNotFound):
		return fmt.Errorf("entry: %s v%d is sealed but the entry has no key", ev.Stream, ev.Version)
	case err != nil:
		return fmt.Errorf("%w %s: %w", ErrKeys, ev.Stream, err)
	}
	b, err := keyring.Open(key, ev.Stream, ReportField(r.Report), r.Text)
	if err != nil {
		return fmt.Errorf("entry: open the report %s of %s: %w", r.Report, ev.Stream, err)
	}
	r.Text = string(b)
	return nil
}

// Memo remembers the keys it looks up, for one request or one batch (a
// page of the history, a page of the log): each entry's key is asked for
// once. Keys are immutable until destroyed, but a destroyed key must not
// open anything after the erase on any instance, so a Memo is never kept
// past the work it was made for; only "destroyed", which is for ever, could
// safely be kept longer.
type Memo struct {
	keys Keys
	mu   sync.Mutex
	got  map[string]memoKey
}

type memoKey struct {
	key []byte
	err error
}

// NewMemo returns a memo over keys (nil keys: a nil memo, which withholds).
func NewMemo(keys Keys) Keys {
	if keys == nil {
		return nil
	}
	return &Memo{keys: keys, got: map[string]memoKey{}}
}

// Get implements Keys: the first answer for an entry is kept, but not a
// failure of the store.
func (m *Memo) Get(ctx context.Context, eib string) ([]byte, error) {
	m.mu.Lock()
	k, ok := m.got[eib]
	m.mu.Unlock()
	if ok {
		return k.key, k.err
	}
	key, err := m.keys.Get(ctx, eib)
	if err == nil || errors.Is(err, keyring.ErrDestroyed) || errors.Is(err, keyring.ErrNotFound) {
		m.mu.Lock()
		m.got[eib] = memoKey{key, err}
		m.mu.Unlock()
	}
	return key, err
}

// Public returns a report's event as the public may read it: reason
// only, without the reporter's id or the text (which may quote what it
// reports); the admins' queue reads the events whole.
func Public(ev events.Event) (events.Event, error) {
	if ev.Type != events.EntryReported {
		return ev, nil
	}
	var p events.Reported
	if err := ev.Decode(&p); err != nil {
		return ev, err
	}
	out, err := events.New(ev.ID, ev.Type, ev.Stream, ev.Time, ev.Actor, events.Reported{Report: p.Report, Reason: p.Reason})
	if err != nil {
		return ev, err
	}
	out.Version, out.Position, out.Schema = ev.Version, ev.Position, ev.Schema
	return out, nil
}
