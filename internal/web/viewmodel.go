package web

import (
	"context"
	"fmt"
	"strings"
	"time"

	"mediashare/internal/entry"
	"mediashare/internal/events"
	"mediashare/internal/gallery"
	"mediashare/internal/ids"
	"mediashare/internal/policy"
	"mediashare/internal/projections"
	"mediashare/views"
)

// The view models: what the pages show, built here from the entries view,
// the events and the entry aggregate, so that views import none of them.

func cardOf(e projections.Entry) views.EntryCard {
	status := string(e.Status)
	switch e.Status {
	case projections.Processing:
		status = views.Processing
	case projections.Ready:
		status = views.Ready
	case projections.Failed:
		status = views.Failed
	}
	return views.EntryCard{
		EIB: e.EIB, Title: e.Title, Comment: e.Comment, Timestamp: e.Timestamp, Status: status, Visible: e.Visible(),
		Thumbnail: e.Thumbnail, ThumbWidth: e.ThumbWidth, ThumbHeight: e.ThumbHeight,
		Preview: e.Preview, PreviewWidth: e.PreviewWidth, PreviewHeight: e.PreviewHeight,
		Placeholder: e.Placeholder,
	}
}

func cardsOf(es []projections.Entry) []views.EntryCard {
	out := make([]views.EntryCard, len(es))
	for i, e := range es {
		out[i] = cardOf(e)
	}
	return out
}

// entryPageOf is an entry's page for viewer at now: the row as the view
// holds it, and its history, which the aggregate folds (and the policy
// asks) to say who may delete or restore it and whether it is in the trash.
func entryPageOf(row projections.Entry, history []events.Event, viewer policy.Principal, pol policy.Policy, now time.Time) views.EntryPage {
	d := views.EntryDetail{
		EntryCard: cardOf(row), Resource: row.Resource, ContentType: row.ContentType,
		Size: row.Size, Width: row.Width, Height: row.Height,
	}
	if life, err := entry.Fold(history); err == nil {
		a := viewer.Actor()
		d.PreviewPending = row.Preview == "" && life.NeedsPreview()
		d.CanDelete = pol.MayDelete(viewer, life) == nil
		d.CanErase = pol.MayErase(viewer, life) == nil
		if pol.MayReport(viewer) == nil && life.MayReport() == nil {
			d.ReportReasons = events.ReportReasons
		}
		if life.InTrash() && life.Owns(a) {
			d.InTrash, d.TrashUntil = true, life.TrashUntil
			d.CanRestore = life.MayRestore(a, now) == nil
			d.CanPurge = life.MayPurge(a) == nil
		}
	}
	p := views.EntryPage{Entry: d, History: make([]views.EventRow, len(history))}
	for i, e := range history {
		p.History[i] = eventRowOf(e)
	}
	return p
}

func eventRowOf(e events.Event) views.EventRow {
	return views.EventRow{
		Position: e.Position, Stream: e.Stream, Version: e.Version, Type: string(e.Type), Time: e.Time,
		Who: actorLabel(e.Actor), Details: describe(e),
	}
}

func auditRowsOf(rows []gallery.AuditRow) []views.EventRow {
	out := make([]views.EventRow, len(rows))
	for i, r := range rows {
		out[i] = eventRowOf(r.Event)
		out[i].Title, out[i].Exists = r.Title, r.Exists
	}
	return out
}

// describe summarises an event for the history tables.
func describe(e events.Event) string {
	f, err := entry.Read(context.Background(), e, nil) // history rows come revealed (gallery)
	if err != nil {
		return ""
	}
	switch e.Type {
	case events.MediaUploaded:
		u := f.Upload
		return fmt.Sprintf("%q, %s, %s, %s", u.Title, u.ContentType, views.HumanBytes(u.Size), views.Dims(u.Width, u.Height))
	case events.ThumbnailGenerated:
		if len(f.Renditions) > 0 {
			return fmt.Sprintf("%s in %d ms", views.Dims(f.Renditions[0].Width, f.Renditions[0].Height), f.Millis)
		}
	case events.PreviewGenerated:
		if len(f.Renditions) > 0 {
			return fmt.Sprintf("preview %s in %d ms", views.Dims(f.Renditions[0].Width, f.Renditions[0].Height), f.Millis)
		}
	case events.ThumbnailFailed:
		return f.Failure.Message
	case events.MediaTrashed:
		return fmt.Sprintf("moved to the trash by %s, kept until %s", f.TrashedBy, f.PurgeAfter.UTC().Format("2 Jan 2006, 15:04 UTC"))
	case events.MediaRestored:
		return "restored from the trash by " + f.RestoredBy
	case events.MediaDeleted:
		if f.DeletedBy == "retention" {
			return "at the end of its time in the trash"
		}
		return "by " + f.DeletedBy
	case events.MediaPurged:
		return fmt.Sprintf("%d files removed", len(f.PurgedKeys))
	case events.EntryClaimed:
		return "claimed by " + actorLabel(events.AccountActor(f.ClaimedBy))
	case events.MediaErased:
		if f.Erasure.Reason == "" {
			return "erased by " + actorLabel(events.Actor(f.Erasure.By))
		}
		return fmt.Sprintf("erased by %s: %s", actorLabel(events.Actor(f.Erasure.By)), f.Erasure.Reason)
	case events.EntryReported:
		return "reported: " + f.Report.Reason // the text and the reporter are for the admins
	case events.ReportDismissed:
		return "a report dismissed"
	}
	return ""
}

func actorLabel(a events.Actor) string {
	s := string(a)
	if owner, ok := strings.CutPrefix(s, "owner:"); ok {
		if len(owner) > 8 {
			owner = owner[:8]
		}
		return "owner " + owner
	}
	return s
}

// withRequestID gives a form about to be rendered a fresh request id: one
// per sending, so that a retry of that sending makes its entries once.
func withRequestID(f views.UploadForm) views.UploadForm {
	f.RequestID = ids.New(time.Now())
	return f
}
