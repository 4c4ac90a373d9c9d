// Package entry is the entry aggregate: it folds an entry's events into
// its state and answers every question about its life (who may delete it,
// what is still to be made, what to purge, whether it is visible). It is
// the one place that reads the payloads of an entry's events: the gallery
// service, the reactor, the projection and the pages ask it.
//
// An entry's life:
//
//	uploaded (processing) ──ThumbnailGenerated──▶ ready ──MediaTrashed──▶ trashed ──MediaDeleted──▶ deleted ──MediaPurged──▶ purged
//	   │                                            ▲  │                    │  (retention, emptied,   ▲
//	   └──ThumbnailFailed──▶ failed ─(likewise)      │  └────MediaDeleted───┼───admin purge)──────────┘
//	                                                 └────MediaRestored─────┘   (trash off: at once)
//
// A trashed entry keeps its original and renditions and remembers the
// state it left (a thumbnail that lands while it is in the trash is
// recorded there), so a restore puts it back as it was, without a new
// decode. MediaDeleted means what it always meant: deleted for good, the
// blobs to be removed now.
//
// New states and decisions (erase, claims, reports) are added here, each
// with its event types and its table tests.
package entry

import (
	"context"
	"fmt"
	"slices"
	"time"

	"mediashare/internal/apperr"
	"mediashare/internal/events"
)

// Status is where an entry is in its life.
type Status string

const (
	None       Status = ""           // no MediaUploaded seen: there is no such entry
	Processing Status = "processing" // uploaded, no thumbnail yet
	Ready      Status = "ready"      // thumbnail made
	Failed     Status = "failed"     // no preview could be made; the entry stays visible
	Trashed    Status = "trashed"    // in its owner's trash: out of the gallery, blobs kept, restorable until TrashUntil
	Deleted    Status = "deleted"    // deleted for good; its blobs are still to be removed
	Purged     Status = "purged"     // deleted and its blobs removed; the events stay
	Erased     Status = "erased"     // erased: its key destroyed, its blobs removed, from any state
)

// Rendition is one image made from the original (the grid thumbnail, a preview).
type Rendition = events.Thumb

// Failure says why no preview could be made: a code for machines and a
// message that is safe to show anyone.
type Failure struct {
	Code    string
	Message string
}

// Entry is the state of one entry, as its events make it.
type Entry struct {
	EIB        string
	Version    int       // the last event folded in
	UploadID   string    // the id of the MediaUploaded event
	UploadedAt time.Time //
	UpdatedAt  time.Time // the time of the last event
	Status     Status

	Owner       string
	Title       string
	Comment     string
	Filename    string
	MediaType   string // "image"
	ContentType string
	Size        int64
	SHA256      string
	Width       int
	Height      int
	Original    string // the original's blob key

	// Renditions made from the original: the grid thumbnail first, then
	// the preview if there is one. Recorded even when they arrive after a
	// delete, so that the purge removes them too.
	Renditions  []Rendition
	Placeholder string
	Failure     Failure // set when Status is Failed

	// The trash: set while Status is Trashed.
	TrashedFrom Status    // the state it left (Processing, Ready or Failed), which a restore puts back
	TrashedAt   time.Time //
	TrashUntil  time.Time // when its trash period ends
	TrashedBy   string    // "owner" or "admin"

	DeletedBy  string   // "owner", "admin" or "retention"
	PurgedKeys []string // the keys MediaPurged recorded

	// Sealed is true when the upload's personal fields are sealed with the
	// entry's key (Title, Comment and Filename are then blank here: Fold
	// never opens them; Read with keys does).
	Sealed  bool
	Erasure Erasure  // set once Status is Erased
	Reports []Report // open reports, oldest first
}

// Fold folds a stream's events, in version order, into the entry. Events
// at or below the version already folded (a duplicate delivery, a stale
// read) change nothing. It fails on a payload it cannot read or an event
// type it does not know.
func Fold(evs []events.Event) (Entry, error) {
	var e Entry
	for _, ev := range evs {
		var err error
		if e, err = e.Apply(ev); err != nil {
			return Entry{}, err
		}
	}
	return e, nil
}

// Apply returns the entry with one more event folded in.
func (e Entry) Apply(ev events.Event) (Entry, error) {
	if ev.Version <= e.Version && e.Version > 0 {
		return e, nil
	}
	f, err := Read(context.Background(), ev, nil)
	if err != nil {
		return e, err
	}
	next := e
	next.EIB, next.Version, next.UpdatedAt = ev.Stream, ev.Version, ev.Time
	switch ev.Type {
	case events.MediaUploaded:
		if e.Status != None {
			return next, nil // a second upload of one stream changes nothing
		}
		u := f.Upload
		next.UploadID, next.UploadedAt, next.Status = ev.ID, ev.Time, Processing
		next.Owner, next.Title, next.Comment, next.Filename = u.Owner, u.Title, u.Comment, u.Filename
		next.MediaType, next.ContentType, next.Size, next.SHA256 = u.MediaType, u.ContentType, u.Size, u.SHA256
		next.Width, next.Height, next.Original = u.Width, u.Height, u.Original
		next.Sealed = f.Withheld
	case events.ThumbnailGenerated:
		// Keys are remembered whatever the state: a late rendition must be purged too.
		next.Renditions = withRenditions(next.Renditions, f.Renditions)
		switch {
		case e.Status == Processing:
			next.Status, next.Placeholder = Ready, f.Placeholder
		case e.Status == Trashed && e.TrashedFrom == Processing:
			next.TrashedFrom, next.Placeholder = Ready, f.Placeholder
		}
	case events.PreviewGenerated:
		// Remembered whatever the state, as a late rendition; the grid
		// thumbnail (recorded before it) stays first.
		next.Renditions = withRenditions(next.Renditions, f.Renditions)
	case events.ThumbnailFailed:
		switch {
		case e.Status == Processing:
			next.Status, next.Failure = Failed, f.Failure
		case e.Status == Trashed && e.TrashedFrom == Processing:
			next.TrashedFrom, next.Failure = Failed, f.Failure
		}
	case events.MediaTrashed:
		if e.Visible() {
			next.Status, next.TrashedFrom, next.TrashedAt, next.TrashUntil, next.TrashedBy = Trashed, e.Status, ev.Time, f.PurgeAfter, f.TrashedBy
		}
	case events.EntryClaimed:
		if e.Owner == f.ClaimedFrom {
			next.Owner = f.ClaimedBy
		}
	case events.MediaRestored:
		if e.Status == Trashed {
			next.Status = e.TrashedFrom
			next.TrashedFrom, next.TrashedAt, next.TrashUntil, next.TrashedBy = None, time.Time{}, time.Time{}, ""
		}
	case events.MediaDeleted:
		if e.Status != Deleted && e.Status != Purged && e.Status != Erased {
			next.Status, next.DeletedBy = Deleted, f.DeletedBy
			next.TrashedFrom, next.TrashedAt, next.TrashUntil, next.TrashedBy = None, time.Time{}, time.Time{}, ""
		}
	case events.MediaPurged:
		next.PurgedKeys = f.PurgedKeys
		if e.Status != Erased {
			next.Status = Purged
		}
	default:
		next = next.applyModeration(ev, f)
	}
	return next, nil
}

// withRenditions adds to have those of add whose keys it does not hold, in order.
func withRenditions(have, add []Rendition) []Rendition {
	for _, r := range add {
		if !slices.ContainsFunc(have, func(x Rendition) bool { return x.Key == r.Key }) {
			have = append(slices.Clip(have), r)
		}
	}
	return have
}

// Exists reports whether the entry was ever uploaded.
func (e Entry) Exists() bool { return e.Status != None }

// Visible reports whether the entry belongs in the gallery and on its page.
func (e Entry) Visible() bool {
	switch e.Status {
	case Processing, Ready, Failed:
		return true
	}
	return false
}

// InTrash reports whether the entry is in its owner's trash.
func (e Entry) InTrash() bool { return e.Status == Trashed }

// NeedsThumbnail reports whether the renditions are still to be made:
// uploaded, no outcome recorded, and still wanted (an entry in the trash
// still gets them, so that a restore finds them made).
func (e Entry) NeedsThumbnail() bool {
	return e.Status == Processing || (e.Status == Trashed && e.TrashedFrom == Processing)
}

// GridSide is the longest side of the grid thumbnail the site makes
// (thumbnail.DefaultMaxSide): an original no larger than it gets no
// preview, as thumbnail.Make decides.
const GridSide = 320

// Thumbnail returns the grid thumbnail, if one was recorded: the first
// rendition.
func (e Entry) Thumbnail() (Rendition, bool) {
	if len(e.Renditions) == 0 {
		return Rendition{}, false
	}
	return e.Renditions[0], true
}

// Preview returns the entry page's preview, if one was recorded: the
// rendition after the grid thumbnail, whether ThumbnailGenerated named it
// (older builds made both at once) or PreviewGenerated did.
func (e Entry) Preview() (Rendition, bool) {
	if len(e.Renditions) < 2 {
		return Rendition{}, false
	}
	return e.Renditions[1], true
}

// WantsPreview reports whether the original is larger than the grid
// thumbnail, so that a preview is worth making (the rule Make applies).
func (e Entry) WantsPreview() bool { return max(e.Width, e.Height) > GridSide }

// NeedsPreview reports whether the preview is still to be made: the grid
// thumbnail is made (ready, in the gallery: not in the trash, deleted or
// erased), the original is larger than it, and no preview is recorded.
// It is made after the grid thumbnail, at a lower priority; a restore
// from the trash asks again.
func (e Entry) NeedsPreview() bool {
	_, has := e.Preview()
	return e.Status == Ready && len(e.Renditions) > 0 && !has && e.WantsPreview()
}

// NeedsPurge reports whether the entry is deleted and its blobs are still
// to be removed.
func (e Entry) NeedsPurge() bool { return e.Status == Deleted }

// PurgeKeys are the blobs to remove once the entry is deleted: the
// original, its grid thumbnail (recorded or not, in case one was stored
// before its event), every recorded rendition, each once, and, for an
// entry whose grid thumbnail was made but whose preview is not recorded
// while one was wanted, both keys the preview may have been stored under
// before its event.
func (e Entry) PurgeKeys() []string {
	if e.Original == "" {
		return nil
	}
	keys := []string{e.Original, ThumbnailKey(e.Original)}
	if _, has := e.Preview(); !has && len(e.Renditions) > 0 && e.WantsPreview() {
		keys = append(keys, PreviewKey(e.Original, ".jpg"), PreviewKey(e.Original, ".png"))
	}
	for _, r := range e.Renditions {
		if !slices.Contains(keys, r.Key) {
			keys = append(keys, r.Key)
		}
	}
	return keys
}

// Unwanted returns those of keys, renditions just written for the entry,
// that its state does not keep: all of them once it is deleted, and any
// its recorded renditions do not name.
func (e Entry) Unwanted(keys []string) []string {
	var out []string
	for _, k := range keys {
		kept := (e.Visible() || e.InTrash()) && slices.ContainsFunc(e.Renditions, func(r Rendition) bool { return r.Key == k })
		if !kept {
			out = append(out, k)
		}
	}
	return out
}

// Actor is who asks for a decision.
type Actor struct {
	Owner string // the visitor's owner id ("" for none)
	Admin bool
	// As is the actor an admin's events are recorded under ("account:…",
	// or events.SystemActor for the command line); "" records the
	// admin's own account (Owner), or "admin" without one.
	As events.Actor
}

// Owns reports whether a is the entry's owner.
func (e Entry) Owns(a Actor) bool { return a.Owner != "" && e.Owner == a.Owner }

// MayDelete says whether a may delete the entry: its owner or an admin,
// while it is there. The error carries an apperr code and a safe message.
func (e Entry) MayDelete(a Actor) error {
	switch {
	case !e.Exists():
		return apperr.New(apperr.NotFound, "There is no such entry.")
	case e.Status == Erased:
		return apperr.New(apperr.NotFound, "This entry has been erased.")
	case e.Status == Deleted || e.Status == Purged:
		return apperr.New(apperr.NotFound, "This entry has already been deleted.")
	case !e.Owns(a) && !a.Admin:
		return apperr.New(apperr.Forbidden, "You can only delete your own uploads.")
	case e.Status == Trashed:
		return apperr.New(apperr.Conflict, "This entry is already in the trash.")
	}
	return nil
}

// reasonOf is who a decision is by, for payloads, and the event's actor.
func (e Entry) reasonOf(a Actor) (string, events.Actor) {
	if e.Owns(a) {
		return "owner", events.OwnerActor(a.Owner)
	}
	return "admin", a.admin()
}

// admin is the actor an admin's decision is recorded under, so that the
// audit log shows which admin it was: a.As, else the admin's own account
// (or owner id), else the bare "admin".
func (a Actor) admin() events.Actor {
	switch {
	case a.As != "":
		return a.As
	case a.Owner != "":
		return ActorOf(a.Owner)
	}
	return events.Actor("admin")
}

// Trash decides a's delete while the trash is on: the MediaTrashed event
// to append at e.Version, the entry restorable until purgeAfter.
func (e Entry) Trash(a Actor, purgeAfter time.Time, id string, at time.Time) (events.Event, error) {
	if err := e.MayDelete(a); err != nil {
		return events.Event{}, err
	}
	if !purgeAfter.After(at) {
		return events.Event{}, fmt.Errorf("entry: trash %s: the trash period ends at %s, not after %s", e.EIB, purgeAfter, at)
	}
	reason, actor := e.reasonOf(a)
	return events.New(id, events.MediaTrashed, e.EIB, at, actor, events.Trashed{Reason: reason, PurgeAfter: purgeAfter.UTC().Truncate(time.Millisecond)})
}

// MayRestore says whether a may take the entry out of the trash at now:
// its owner (or an admin), while it is in the trash and its period has
// not ended.
func (e Entry) MayRestore(a Actor, now time.Time) error {
	switch {
	case !e.Exists():
		return apperr.New(apperr.NotFound, "There is no such entry.")
	case e.Status == Deleted || e.Status == Purged:
		return apperr.New(apperr.NotFound, "This entry was deleted for good; it can no longer be restored.")
	case !e.Owns(a) && !a.Admin:
		return apperr.New(apperr.Forbidden, "You can only restore your own uploads.")
	case e.Status != Trashed:
		return apperr.New(apperr.Conflict, "This entry is not in the trash.")
	case !now.Before(e.TrashUntil):
		return apperr.New(apperr.Conflict, "The trash period of this entry has ended; it is being deleted for good.")
	}
	return nil
}

// Restore decides a's restore: the MediaRestored event to append at
// e.Version.
func (e Entry) Restore(a Actor, id string, at time.Time) (events.Event, error) {
	if err := e.MayRestore(a, at); err != nil {
		return events.Event{}, err
	}
	reason, actor := e.reasonOf(a)
	return events.New(id, events.MediaRestored, e.EIB, at, actor, events.Restored{Reason: reason})
}

// MayPurge says whether a may delete the entry for good now: its owner
// once it is in the trash ("delete now", emptying the trash), an admin
// whether it is in the gallery or the trash.
func (e Entry) MayPurge(a Actor) error {
	switch {
	case !e.Exists():
		return apperr.New(apperr.NotFound, "There is no such entry.")
	case e.Status == Deleted || e.Status == Purged:
		return apperr.New(apperr.NotFound, "This entry has already been deleted.")
	case a.Admin:
		return nil
	case !e.Owns(a):
		return apperr.New(apperr.Forbidden, "You can only delete your own uploads.")
	case e.Status != Trashed:
		return apperr.New(apperr.Conflict, "Only an entry in the trash can be deleted for good; move it to the trash first.")
	}
	return nil
}

// Purge decides a's "delete for good now": the MediaDeleted event to
// append at e.Version (the reactor then removes the blobs).
func (e Entry) Purge(a Actor, id string, at time.Time) (events.Event, error) {
	if err := e.MayPurge(a); err != nil {
		return events.Event{}, err
	}
	reason, actor := "owner", events.OwnerActor(a.Owner)
	if a.Admin {
		reason, actor = "admin", a.admin()
	}
	return events.New(id, events.MediaDeleted, e.EIB, at, actor, events.Deleted{Reason: reason})
}

// Expired reports whether the entry is in the trash and its period has
// ended at now: it is to be deleted for good.
func (e Entry) Expired(now time.Time) bool {
	return e.Status == Trashed && !now.Before(e.TrashUntil)
}

// Expire decides the end of the trash period: the system's MediaDeleted
// (reason "retention") to append at e.Version, or an error when the
// entry is not expired at at.
func (e Entry) Expire(id string, at time.Time) (events.Event, error) {
	if !e.Expired(at) {
		return events.Event{}, apperr.New(apperr.Conflict, "This entry's trash period has not ended.")
	}
	return events.New(id, events.MediaDeleted, e.EIB, at, events.SystemActor, events.Deleted{Reason: "retention"})
}

// HoldsCopy reports whether the entry, owned by owner, holds the bytes
// with that sha256 in the gallery or in the trash: an upload of the same
// bytes by the same owner is a duplicate of it.
func (e Entry) HoldsCopy(owner, sha256 string) bool {
	return owner != "" && e.Owner == owner && sha256 != "" && e.SHA256 == sha256 && (e.Visible() || e.InTrash())
}

// Delete decides a's delete and returns the MediaDeleted event to append
// at e.Version, with id and time given.
func (e Entry) Delete(a Actor, id string, at time.Time) (events.Event, error) {
	if err := e.MayDelete(a); err != nil {
		return events.Event{}, err
	}
	reason, actor := "owner", ActorOf(a.Owner)
	if !e.Owns(a) {
		reason, actor = "admin", a.admin()
	}
	return events.New(id, events.MediaDeleted, e.EIB, at, actor, events.Deleted{Reason: reason})
}

// MayClaim says whether account may take over the entry from the
// anonymous owner: the entry is the owner's (not already an account's)
// and not deleted for good.
func (e Entry) MayClaim(owner, account string) error {
	switch {
	case !e.Exists():
		return apperr.New(apperr.NotFound, "There is no such entry.")
	case e.Status == Deleted || e.Status == Purged:
		return apperr.New(apperr.NotFound, "This entry has been deleted.")
	case !events.IsAccountStream(account):
		return apperr.New(apperr.Invalid, "Entries are claimed for an account.")
	case owner == "" || events.IsAccountStream(owner) || e.Owner != owner:
		return apperr.New(apperr.Forbidden, "This entry is not this browser's to claim.")
	}
	return nil
}

// Claim decides a claim: the EntryClaimed event that gives the entry to
// account, to append at e.Version.
func (e Entry) Claim(owner, account, id string, at time.Time) (events.Event, error) {
	if err := e.MayClaim(owner, account); err != nil {
		return events.Event{}, err
	}
	return events.New(id, events.EntryClaimed, e.EIB, at, events.AccountActor(account), events.Claimed{Account: account, From: owner})
}

// ActorOf is the event actor of an owner id: an account ("account:user-…")
// or an anonymous owner cookie ("owner:…").
func ActorOf(owner string) events.Actor {
	if events.IsAccountStream(owner) {
		return events.AccountActor(owner)
	}
	return events.OwnerActor(owner)
}

// Resend checks a retried upload (the same request id) by owner against
// the entry it made: only the same owner gets it back, and only while it
// is there.
func (e Entry) Resend(owner string) error {
	if e.Owner != owner {
		return apperr.New(apperr.Conflict, "This upload was already sent by someone else.")
	}
	if e.InTrash() {
		return apperr.New(apperr.Conflict, "This upload was sent before and is now in your trash.")
	}
	if !e.Visible() {
		return apperr.New(apperr.Conflict, "This upload was sent before and has since been deleted.")
	}
	return nil
}

// ThumbnailKey is the key of an original's grid thumbnail, as in the
// original application: "<resource>-tn.png".
func ThumbnailKey(resource string) string { return resource + "-tn.png" }

// PreviewKey is the key of an original's preview: "<resource>-preview.jpg"
// (or ".png" for an image with transparency).
func PreviewKey(resource, ext string) string { return resource + "-preview" + ext }

// Fact is what one event of an entry's life says, read from its payload.
// Only the fields of its type are set.
type Fact struct {
	Type events.Type

	Upload events.Uploaded // MediaUploaded

	Renditions  []Rendition // ThumbnailGenerated: grid thumbnail first; PreviewGenerated: the preview
	Placeholder string      //
	Millis      int64       // how long making them took

	Failure Failure // ThumbnailFailed

	DeletedBy string // MediaDeleted: "owner", "admin" or "retention"

	TrashedBy  string    // MediaTrashed: "owner" or "admin"
	PurgeAfter time.Time // MediaTrashed: when its trash period ends

	RestoredBy string // MediaRestored: "owner" or "admin"

	ClaimedBy   string // EntryClaimed: the account it now belongs to
	ClaimedFrom string // EntryClaimed: the anonymous owner it belonged to

	PurgedKeys []string // MediaPurged

	Withheld bool // MediaUploaded: its sealed fields were not opened (Read without keys)
	Erased   bool // MediaUploaded: its sealed fields are gone (the key was destroyed)

	Erasure   events.Erased    // MediaErased
	Report    events.Reported  // EntryReported
	Dismissal events.Dismissed // ReportDismissed
}

// Read reads an event's payload. The sealed fields of an upload (schema
// events.SealedSchema) are opened with the entry's key from keys, or are
// ErasedText (and Erased set) once it was destroyed; with nil keys they
// are withheld (blank, Withheld set). Fields written in the clear by
// older builds read as they are. It fails on an unknown type, a payload
// it cannot decode, and (wrapping ErrKeys) a key store that did not answer.
func Read(ctx context.Context, ev events.Event, keys Keys) (Fact, error) {
	f := Fact{Type: ev.Type}
	switch ev.Type {
	case events.MediaUploaded:
		if err := ev.Decode(&f.Upload); err != nil {
			return f, err
		}
		if sealed(ev) {
			return f, open(ctx, ev, keys, &f)
		}
		return f, nil
	case events.ThumbnailGenerated:
		var p events.ThumbnailsGenerated
		if err := ev.Decode(&p); err != nil {
			return f, err
		}
		f.Renditions, f.Placeholder, f.Millis = p.Thumbnails, p.Placeholder, p.Millis
	case events.PreviewGenerated:
		var p events.PreviewMade
		if err := ev.Decode(&p); err != nil {
			return f, err
		}
		if p.Preview.Key == "" {
			return f, fmt.Errorf("entry: %s %s v%d names no preview", ev.Type, ev.Stream, ev.Version)
		}
		f.Renditions, f.Millis = []Rendition{p.Preview}, p.Millis
	case events.ThumbnailFailed:
		var p events.ThumbnailFailure
		if err := ev.Decode(&p); err != nil {
			return f, err
		}
		f.Failure = failureOf(p)
	case events.MediaDeleted:
		var p events.Deleted
		if err := ev.Decode(&p); err != nil {
			return f, err
		}
		f.DeletedBy = p.Reason
	case events.MediaTrashed:
		var p events.Trashed
		if err := ev.Decode(&p); err != nil {
			return f, err
		}
		f.TrashedBy, f.PurgeAfter = p.Reason, p.PurgeAfter.UTC()
	case events.EntryClaimed:
		var p events.Claimed
		if err := ev.Decode(&p); err != nil {
			return f, err
		}
		f.ClaimedBy, f.ClaimedFrom = p.Account, p.From
	case events.MediaRestored:
		var p events.Restored
		if err := ev.Decode(&p); err != nil {
			return f, err
		}
		f.RestoredBy = p.Reason
	case events.MediaPurged:
		var p events.Purged
		if err := ev.Decode(&p); err != nil {
			return f, err
		}
		f.PurgedKeys = p.Keys
	case events.MediaErased:
		return f, ev.Decode(&f.Erasure)
	case events.EntryReported:
		if err := ev.Decode(&f.Report); err != nil {
			return f, err
		}
		if ev.Schema >= events.SealedSchema {
			return f, openReport(ctx, ev, keys, &f)
		}
		return f, nil
	case events.ReportDismissed:
		return f, ev.Decode(&f.Dismissal)
	default:
		return f, fmt.Errorf("entry: unknown event type %q (%s v%d)", ev.Type, ev.Stream, ev.Version)
	}
	return f, nil
}
