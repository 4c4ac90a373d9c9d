// Package gallery holds mediashare's use cases: upload, delete, browse and
// read an entry's history. It knows nothing of HTTP or HTML; it talks to
// the event store, the entries view and the blob store through their ports.
package gallery

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"mediashare/internal/apperr"
	"mediashare/internal/blob"
	"mediashare/internal/entry"
	"mediashare/internal/events"
	"mediashare/internal/ids"
	"mediashare/internal/keyring"
	"mediashare/internal/media"
	"mediashare/internal/projections"
	"mediashare/internal/text"
)

// Limits on what an upload may be.
type Limits struct {
	MaxBytes        int64 // largest file accepted
	MaxRequestBytes int64 // largest upload request (several files)
	MaxFiles        int   // files in one upload request
	MaxPixels       int64 // largest width×height accepted, read from the header
	MaxTitle        int   // characters
	MaxComment      int   // characters
	PageSize        int   // gallery entries per page
	MaxPageSize     int
	DeleteRetries   int
	// ProjectionWait is how long an upload or delete waits for the view
	// to show it before answering.
	ProjectionWait time.Duration
	// KeepOriginalMetadata stores originals byte for byte. By default
	// location metadata (EXIF GPS, XMP) is removed, pixels untouched.
	KeepOriginalMetadata bool
	// TrashRetention is how long a deleted entry stays in its owner's
	// trash, restorable, before it is deleted for good; 0 deletes at once.
	TrashRetention time.Duration
}

// DefaultLimits are the limits of a default install.
var DefaultLimits = Limits{
	MaxBytes: 25 << 20, MaxRequestBytes: 100 << 20, MaxFiles: 20, MaxPixels: 100_000_000, MaxTitle: 200, MaxComment: 2000,
	PageSize: 24, MaxPageSize: 100, DeleteRetries: 3, ProjectionWait: 3 * time.Second, TrashRetention: DefaultTrashRetention,
}

// DefaultTrashRetention is how long the trash keeps an entry by default.
const DefaultTrashRetention = 720 * time.Hour

// Service runs the use cases.
type Service struct {
	Events events.Store
	Audit  events.Auditor // the audit log's read; nil when the backend has none
	View   projections.View
	Blobs  blob.Store
	// Keys holds the entries' data keys: uploads are sealed with them
	// (title, comment, file name), erasures destroy them. Nil keeps those
	// fields in the clear, as builds before it did.
	Keys   keyring.Store
	Limits Limits
	Log    *slog.Logger
	Now    func() time.Time
	// CheckDecode, when set, refuses an upload whose image could never
	// be decoded for its thumbnail within the server's memory (a TooLarge
	// error about the file), before anything is stored.
	CheckDecode func(info media.Info, size int64) error

	// copies serializes, on this instance, the uploads of one owner's
	// bytes, so that two sent at once (a double click) make one entry
	// and one duplicate.
	copies keyedLock
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// File is an uploaded file the caller has received in full (for HTTP, a
// multipart part spooled by the server).
type File interface {
	io.Reader
	io.ReaderAt
	io.Seeker
}

// UploadInput is what a person submits.
type UploadInput struct {
	Title, Comment string
	Filename       string
	File           File // nil when no file was sent
	Size           int64
	Owner          string
	// RequestID, when it is an id the upload form was given, makes the
	// upload idempotent: a retry of the same request (say, after a lost
	// response) returns the entry the first one made. Index tells the
	// files of one request apart.
	RequestID string
	Index     int
	// Spooled, when set, says File lies whole in a local file that the
	// blob store may take as it is (no copy when nothing is rewritten).
	Spooled *Spooled
}

// Spooled describes an upload the server received into a local file.
type Spooled struct {
	Path string // the file File reads
	// SHA256 is the hex SHA-256 of File's bytes when they were hashed as
	// they arrived ("" when not): it spares a reading of the file when it
	// is stored as it is.
	SHA256 string
	// Scratch, when set, makes a new empty local file (beside Path, on the
	// same file system) for a rewritten copy, the file without its
	// location, which is then stored as it is. Without it the copy is
	// streamed into the blob store.
	Scratch func() (Scratch, error)
}

// Scratch is a local file an upload's rewritten copy is written to; the
// upload removes it when it is done.
type Scratch interface {
	io.Writer
	Name() string
	Remove() error
}

// CleanComment is the comment as stored: trimmed, with the browser's CRLF
// (and any lone CR) line breaks made LF, so that no CR reaches a page or a
// server-sent event, where a lone CR ends a line.
// The rule is text.Clean's for multi-line text; the comment has passed
// ValidateComment when it is stored.
func CleanComment(comment string) string {
	c, _ := text.Clean(comment, text.Rules{Lines: true})
	return c
}

// ValidateText checks the title and comment, the checks that need no file.
func (s *Service) ValidateText(title, comment string) error {
	if err := s.validateTitle(title); err != nil {
		return err
	}
	return s.ValidateComment(comment)
}

// titleRules: one line, no control characters at all.
func (s *Service) titleRules() text.Rules {
	return text.Rules{Field: "title", What: "title", Max: s.Limits.MaxTitle, Required: "Please give the image a title."}
}

// commentRules: line breaks (LF) and tabs kept, CRLF stored as LF.
func (s *Service) commentRules() text.Rules {
	return text.Rules{Field: "comment", What: "comment", Max: s.Limits.MaxComment, Required: "Please write a comment.", Lines: true}
}

func (s *Service) validateTitle(title string) error {
	_, err := text.Clean(title, s.titleRules())
	return err
}

// ValidateComment checks the comment alone (several files share one).
func (s *Service) ValidateComment(comment string) error {
	_, err := text.Clean(comment, s.commentRules())
	return err
}

// TitleFromFilename makes a title from an uploaded file's name.
func TitleFromFilename(name string) string {
	name = cleanFilename(name)
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		name = name[:i]
	}
	name = strings.Trim(strings.NewReplacer("_", " ", "-", " ").Replace(name), " .")
	if name == "" {
		return "Untitled"
	}
	if r := []rune(name); len(r) > 200 {
		name = string(r[:200])
	}
	return name
}

// TooLarge is the error for a file over the size limit.
func (s *Service) TooLarge() error {
	return apperr.FieldError(apperr.TooLarge, "file", "The file is larger than the %s limit.", formatBytes(s.Limits.MaxBytes))
}

// Uploaded is the outcome of an upload that was accepted: the entry it
// made (or, for a retry of the same request, made before), or, when
// Duplicate is set, the entry of the same owner that already holds the
// same bytes (in the gallery, or in the trash when InTrash is set):
// nothing new was stored.
type Uploaded struct {
	Entry     projections.Entry
	Duplicate bool
	InTrash   bool // the duplicate is in the owner's trash (it may be restored)
}

// Upload checks the input, stores the original, then records
// MediaUploaded. Bad input leaves nothing behind, and so does a
// duplicate: bytes the same owner already has in the gallery or the
// trash. It returns the entry as the view will hold it once projected.
func (s *Service) Upload(ctx context.Context, in UploadInput) (Uploaded, error) {
	if err := s.ValidateText(in.Title, in.Comment); err != nil {
		return Uploaded{}, err
	}
	if in.File == nil {
		return Uploaded{}, apperr.FieldError(apperr.Invalid, "file", "Please choose an image to upload.")
	}
	if in.Size > s.Limits.MaxBytes {
		return Uploaded{}, s.TooLarge()
	}
	info, err := media.Inspect(in.File, in.Size, media.Limits{MaxPixels: s.Limits.MaxPixels})
	if err != nil {
		return Uploaded{}, err
	}
	if s.CheckDecode != nil {
		if err := s.CheckDecode(info, in.Size); err != nil {
			return Uploaded{}, err
		}
	}
	strip := false
	if !s.Limits.KeepOriginalMetadata {
		if strip, err = media.HasLocation(in.File, in.Size, info); err != nil {
			return Uploaded{}, apperr.FieldError(apperr.Invalid, "file", "The image's metadata is damaged.")
		}
	}

	at := s.now()
	eib, eventID := ids.New(at), ids.New(at)
	if ids.Valid(in.RequestID) {
		// Derived from the request and its owner: the same on a retry, and
		// no one can aim at another person's entry.
		n := strconv.Itoa(in.Index)
		eib, eventID = ids.Derive(in.RequestID, n, in.Owner), ids.Derive(in.RequestID, n, in.Owner, "uploaded")
		if e, done, err := s.uploadedBefore(ctx, eib, in.Owner); err != nil || done {
			return Uploaded{Entry: e}, err
		}
	}
	// What will be stored: the file, or once written, the file without its
	// location; read once here (to hash it or to write the copy) at most.
	orig, err := s.original(in, info, strip)
	if err != nil {
		return Uploaded{}, err
	}
	defer orig.remove()
	if in.Owner != "" {
		// Held until this upload is in the view (or refused), so a second
		// sending of the same bytes here finds it.
		defer s.copies.lock(in.Owner + "/" + orig.sha256)()
		if dup, ok, err := s.copyOf(ctx, in.Owner, orig.sha256); err != nil || ok {
			return dup, err
		}
	}
	key := eib + info.Ext
	stored, err := s.store(ctx, key, info.ContentType, orig)
	if err != nil {
		return Uploaded{}, fmt.Errorf("gallery: upload %s: store original: %w", eib, err)
	}
	payload := events.Uploaded{
		Title: strings.TrimSpace(in.Title), Comment: CleanComment(in.Comment), MediaType: "image",
		ContentType: info.ContentType, Size: stored.Size, SHA256: orig.sha256,
		Width: info.Width, Height: info.Height, Original: key, Owner: in.Owner, Filename: cleanFilename(in.Filename),
	}
	plain, err := events.New(eventID, events.MediaUploaded, eib, at, entry.ActorOf(in.Owner), payload)
	if err != nil {
		s.Blobs.Delete(context.WithoutCancel(ctx), key)
		return Uploaded{}, err
	}
	ev, err := s.seal(ctx, plain, payload)
	if err != nil {
		if derr := s.Blobs.Delete(context.WithoutCancel(ctx), key); derr != nil {
			s.log().Error("upload: could not remove the original after a failed seal", "key", key, "error", derr)
		}
		return Uploaded{}, err
	}
	appended, err := s.Events.Append(ctx, eib, 0, ev)
	if events.IsConflict(err) && ids.Valid(in.RequestID) {
		// The same request landed meanwhile (the blob is its blob too).
		if e, done, lerr := s.uploadedBefore(ctx, eib, in.Owner); lerr != nil || done {
			return Uploaded{Entry: e}, lerr
		}
	}
	if err != nil {
		// No event names the blob: remove it so nothing is left behind.
		if derr := s.Blobs.Delete(context.WithoutCancel(ctx), key); derr != nil {
			s.log().Error("upload: could not remove the original after a failed append", "key", key, "error", derr)
		}
		return Uploaded{}, fmt.Errorf("gallery: upload %s: %w", eib, err)
	}
	s.awaitProjection(ctx, eib, appended[0].Version)
	plain.Version, plain.Position = appended[0].Version, appended[0].Position
	entry, _, err := projections.Apply(ctx, nil, projections.Entry{}, plain)
	return Uploaded{Entry: entry}, err
}

// copyOf finds the entry of owner that already holds the bytes with
// sha256, in the gallery or the trash: the view's index names the
// candidates, and each one's events decide (the aggregate's HoldsCopy).
func (s *Service) copyOf(ctx context.Context, owner, sha256 string) (Uploaded, bool, error) {
	candidates, err := s.View.Copies(ctx, owner, sha256)
	if err != nil {
		return Uploaded{}, false, fmt.Errorf("gallery: upload: look for copies: %w", err)
	}
	var found *Uploaded
	for _, c := range candidates {
		evs, err := s.Events.Load(ctx, c.EIB)
		if errors.Is(err, events.ErrNotFound) {
			continue
		}
		if err != nil {
			return Uploaded{}, false, fmt.Errorf("gallery: upload: load copy %s: %w", c.EIB, err)
		}
		life, err := entry.Fold(evs)
		if err != nil {
			return Uploaded{}, false, fmt.Errorf("gallery: upload: fold copy %s: %w", c.EIB, err)
		}
		if !life.HoldsCopy(owner, sha256) {
			continue
		}
		row, err := rowOf(ctx, s.keys(), evs)
		if err != nil {
			return Uploaded{}, false, err
		}
		u := Uploaded{Entry: row, Duplicate: true, InTrash: life.InTrash()}
		if found == nil || (found.InTrash && !u.InTrash) { // the one in the gallery first
			found = &u
		}
	}
	if found == nil {
		return Uploaded{}, false, nil
	}
	return *found, true, nil
}

// rowOf is the view's row as a stream's events make it.
func rowOf(ctx context.Context, keys entry.Keys, evs []events.Event) (projections.Entry, error) {
	var e projections.Entry
	for _, ev := range evs {
		var err error
		if e, _, err = projections.Apply(ctx, keys, e, ev); err != nil {
			return projections.Entry{}, err
		}
	}
	return e, nil
}

// seal returns the upload event with its personal fields sealed with the
// entry's key, created first (a retried upload gets the key of its first
// try), so no event names a key that was never stored. Without a keyring
// the event stays as it is.
func (s *Service) seal(ctx context.Context, plain events.Event, p events.Uploaded) (events.Event, error) {
	if s.Keys == nil {
		return plain, nil
	}
	key, err := keyring.New(s.Keys).Key(ctx, plain.Stream)
	if errors.Is(err, keyring.ErrDestroyed) {
		return events.Event{}, apperr.New(apperr.Conflict, "This upload was sent before and has since been erased.")
	}
	if err != nil {
		return events.Event{}, fmt.Errorf("gallery: upload %s: the entry's key: %w", plain.Stream, err)
	}
	sealed, err := entry.Seal(key, plain.Stream, p)
	if err != nil {
		return events.Event{}, err
	}
	ev, err := events.New(plain.ID, plain.Type, plain.Stream, plain.Time, plain.Actor, sealed)
	ev.Schema = events.SealedSchema
	return ev, err
}

// keys returns a memo of the keyring for one request (nil without one).
func (s *Service) keys() entry.Keys {
	if s.Keys == nil {
		return nil
	}
	return entry.NewMemo(s.Keys)
}

// uploadedBefore reports whether the stream eib was already uploaded by
// owner, and returns its entry as its events make it.
func (s *Service) uploadedBefore(ctx context.Context, eib, owner string) (projections.Entry, bool, error) {
	evs, err := s.Events.Load(ctx, eib)
	if errors.Is(err, events.ErrNotFound) {
		return projections.Entry{}, false, nil
	}
	if err != nil {
		return projections.Entry{}, false, fmt.Errorf("gallery: upload %s: %w", eib, err)
	}
	life, err := entry.Fold(evs)
	if err != nil {
		return projections.Entry{}, false, fmt.Errorf("gallery: upload %s: %w", eib, err)
	}
	if err := life.Resend(owner); err != nil {
		return projections.Entry{}, false, err
	}
	e, err := rowOf(ctx, s.keys(), evs)
	if err != nil {
		return projections.Entry{}, false, err
	}
	s.awaitProjection(ctx, eib, evs[0].Version)
	return e, true, nil
}

// awaitProjection waits, briefly, until the view reflects version of the
// stream, so that the page a person lands on after an upload or delete
// shows it (read your own writes). The projection is asynchronous: if it
// is slow the page simply catches up later.
func (s *Service) awaitProjection(ctx context.Context, eib string, version int) {
	wait := s.Limits.ProjectionWait
	if wait <= 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	for delay := time.Millisecond; ; delay = min(delay*2, 50*time.Millisecond) {
		if e, err := s.View.Get(ctx, eib); err == nil && e.Version >= version {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
	}
}

// Delete records that a deleted the entry. Only its owner (or an
// admin) may, as the entry aggregate decides. With a trash retention the
// entry moves to its owner's trash (MediaTrashed), blobs kept; without,
// it is deleted for good (MediaDeleted) and the reactor removes the
// blobs. The events stay.
func (s *Service) Delete(ctx context.Context, eib string, a entry.Actor) error {
	return s.decide(ctx, "delete", eib, func(life entry.Entry, id string, at time.Time) (events.Event, error) {
		if s.Limits.TrashRetention > 0 {
			return life.Trash(a, at.Add(s.Limits.TrashRetention), id, at)
		}
		return life.Delete(a, id, at)
	})
}

// decide folds the stream eib, asks decision for the event to append at
// its version, and appends it, looking again when the stream moved on
// meanwhile (a thumbnail landed). It waits for the view to show it.
func (s *Service) decide(ctx context.Context, op, eib string, decision func(life entry.Entry, id string, at time.Time) (events.Event, error)) error {
	if !ids.Valid(eib) {
		return apperr.New(apperr.NotFound, "There is no such entry.")
	}
	for attempt := 0; ; attempt++ {
		evs, err := s.Events.Load(ctx, eib)
		if errors.Is(err, events.ErrNotFound) {
			return apperr.New(apperr.NotFound, "There is no such entry.")
		}
		if err != nil {
			return fmt.Errorf("gallery: %s %s: %w", op, eib, err)
		}
		life, err := entry.Fold(evs)
		if err != nil {
			return fmt.Errorf("gallery: %s %s: %w", op, eib, err)
		}
		at := s.now()
		ev, err := decision(life, ids.New(at), at)
		if err != nil {
			return err
		}
		appended, err := s.Events.Append(ctx, eib, life.Version, ev)
		if events.IsConflict(err) && attempt < s.Limits.DeleteRetries {
			continue // the stream moved on meanwhile; look again
		}
		if err != nil {
			return fmt.Errorf("gallery: %s %s: %w", op, eib, err)
		}
		s.awaitProjection(ctx, eib, appended[0].Version)
		return nil
	}
}

// Page returns a gallery page.
func (s *Service) Page(ctx context.Context, cursor string, limit int) (projections.Page, error) {
	if limit <= 0 {
		limit = s.Limits.PageSize
	}
	limit = min(limit, s.Limits.MaxPageSize)
	p, err := s.View.List(ctx, cursor, limit)
	if errors.Is(err, projections.ErrBadCursor) {
		return p, apperr.New(apperr.Invalid, "That page link is not valid.")
	}
	return p, err
}

// Entry returns a visible entry and its history, or a NotFound error.
func (s *Service) Entry(ctx context.Context, eib string) (projections.Entry, []events.Event, error) {
	return s.EntryFor(ctx, eib, "")
}

// UploadLimits are the limits uploads are checked against.
func (s *Service) UploadLimits() Limits { return s.Limits }

// Lookup returns the entries view's row for eib, tombstones included, or
// projections.ErrNotFound.
func (s *Service) Lookup(ctx context.Context, eib string) (projections.Entry, error) {
	return s.View.Get(ctx, eib)
}

// Ready reports whether every store answers.
func (s *Service) Ready(ctx context.Context) error {
	if err := s.Events.Ping(ctx); err != nil {
		return err
	}
	if err := s.View.Ping(ctx); err != nil {
		return err
	}
	return s.Blobs.Ping(ctx)
}

func (s *Service) log() *slog.Logger {
	if s.Log == nil {
		return slog.Default()
	}
	return s.Log
}

func cleanFilename(name string) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	if !utf8.ValidString(name) {
		return ""
	}
	if utf8.RuneCountInString(name) > 255 {
		name = string([]rune(name)[:255])
	}
	return name
}

func formatBytes(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
