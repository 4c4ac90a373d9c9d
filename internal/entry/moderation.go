package entry

import (
	"slices"
	"time"

	"mediashare/internal/apperr"
	"mediashare/internal/events"
	"mediashare/internal/text"
)

// Erasure is who erased an entry, when and why: what remains of it.
type Erasure struct {
	At     time.Time
	By     string // "owner", "admin", "system", or an admin's actor
	Actor  events.Actor
	Reason string
}

// Report is an open report about an entry. Reporter is an opaque id for
// the admins and the rate limits, never for public pages.
type Report struct {
	ID       string
	At       time.Time
	Reason   string
	Text     string
	Reporter string
}

// Limits of moderation texts, in characters.
const (
	MaxEraseReason = 500
	MaxReportText  = 1000
)

func (e Entry) applyModeration(ev events.Event, f Fact) Entry {
	switch ev.Type {
	case events.MediaErased:
		if e.Status != Erased && e.Status != None {
			e.Status = Erased
			e.Erasure = Erasure{At: ev.Time, By: f.Erasure.By, Actor: ev.Actor, Reason: f.Erasure.Reason}
			e.Reports = nil // nothing is left to judge
		}
	case events.EntryReported:
		if e.Visible() && !slices.ContainsFunc(e.Reports, func(r Report) bool { return r.ID == f.Report.Report }) {
			e.Reports = append(slices.Clip(e.Reports), Report{ID: f.Report.Report, At: ev.Time, Reason: f.Report.Reason, Text: f.Report.Text, Reporter: f.Report.Reporter})
		}
	case events.ReportDismissed:
		e.Reports = slices.DeleteFunc(slices.Clone(e.Reports), func(r Report) bool { return r.ID == f.Dismissal.Report })
	}
	return e
}

// checkText trims a free text (line breaks kept, CR made LF) and checks
// it against max characters: the one free-text check (internal/text).
func checkText(field, what, s string, max int) (string, error) {
	return text.Clean(s, text.Rules{Field: field, What: what, Max: max, Lines: true})
}

// MayErase says whether a may erase the entry: its owner or an admin,
// from any state (in the gallery, deleted, in a trash, purged), once.
func (e Entry) MayErase(a Actor) error {
	switch {
	case !e.Exists():
		return apperr.New(apperr.NotFound, "There is no such entry.")
	case e.Status == Erased:
		return apperr.New(apperr.NotFound, "This entry has already been erased.")
	case !e.Owns(a) && !a.Admin:
		return apperr.New(apperr.Forbidden, "You can only erase your own uploads.")
	}
	return nil
}

// Erase decides a's erasure and returns the MediaErased event to append
// at e.Version. An admin must give a reason; an owner may. What the
// erasure then does (destroy the key, remove the blobs, scrub the view)
// follows from the event.
func (e Entry) Erase(a Actor, reason, id string, at time.Time) (events.Event, error) {
	if err := e.MayErase(a); err != nil {
		return events.Event{}, err
	}
	reason, err := checkText("reason", "reason", reason, MaxEraseReason)
	if err != nil {
		return events.Event{}, err
	}
	by, actor := "owner", ActorOf(a.Owner)
	if !e.Owns(a) {
		by, actor = "admin", events.Actor("admin")
		switch {
		case a.As != "":
			by, actor = string(a.As), a.As
		case a.Owner != "":
			by, actor = string(ActorOf(a.Owner)), ActorOf(a.Owner) // the admin's own account
		}
		if reason == "" {
			return events.Event{}, apperr.FieldError(apperr.Invalid, "reason", "Please say why this entry is erased (the audit log keeps it).")
		}
	}
	return events.New(id, events.MediaErased, e.EIB, at, actor, events.Erased{By: by, Reason: reason})
}

// NeedsErase reports whether the entry is erased: its key is to be
// destroyed and its blobs removed (idempotent work, done again after a
// crash).
func (e Entry) NeedsErase() bool { return e.Status == Erased }

// EraseKeys are the blobs an erasure removes: every blob the entry ever
// had, whatever its state (PurgeKeys).
func (e Entry) EraseKeys() []string { return e.PurgeKeys() }

// MayReport says whether the entry can be reported: while it is in the
// gallery. Anyone may report.
func (e Entry) MayReport() error {
	if !e.Visible() {
		return apperr.New(apperr.NotFound, "There is no such entry. It may have been deleted.")
	}
	return nil
}

// Report decides a report by reporter (an opaque id) and returns the
// EntryReported event to append at e.Version. The reason is one of
// events.ReportReasons; the text is optional (required for "other").
func (e Entry) Report(reporter, reason, text, id string, at time.Time) (events.Event, error) {
	if err := e.MayReport(); err != nil {
		return events.Event{}, err
	}
	if !slices.Contains(events.ReportReasons, reason) {
		return events.Event{}, apperr.FieldError(apperr.Invalid, "reason", "Please choose a reason from the list.")
	}
	text, err := checkText("text", "text", text, MaxReportText)
	if err != nil {
		return events.Event{}, err
	}
	if reason == events.ReportOther && text == "" {
		return events.Event{}, apperr.FieldError(apperr.Invalid, "text", "Please say what is wrong with this entry.")
	}
	for _, r := range e.Reports {
		if reporter != "" && r.Reporter == reporter {
			return events.Event{}, apperr.New(apperr.Conflict, "You have already reported this entry; an admin will look at it.")
		}
	}
	return events.New(id, events.EntryReported, e.EIB, at, events.Actor("visitor"), events.Reported{Report: id, Reason: reason, Text: text, Reporter: reporter})
}

// Dismiss decides an admin's dismissal of an open report and returns the
// ReportDismissed event to append at e.Version.
func (e Entry) Dismiss(a Actor, report, reason, id string, at time.Time) (events.Event, error) {
	if !a.Admin {
		return events.Event{}, apperr.New(apperr.Forbidden, "Only an admin can dismiss reports.")
	}
	if !slices.ContainsFunc(e.Reports, func(r Report) bool { return r.ID == report }) {
		return events.Event{}, apperr.New(apperr.NotFound, "There is no such open report.")
	}
	reason, err := checkText("reason", "reason", reason, MaxEraseReason)
	if err != nil {
		return events.Event{}, err
	}
	by := a.As
	switch {
	case by == "" && a.Owner != "":
		by = ActorOf(a.Owner)
	case by == "":
		by = "admin"
	}
	return events.New(id, events.ReportDismissed, e.EIB, at, by, events.Dismissed{Report: report, By: string(by), Reason: reason})
}
