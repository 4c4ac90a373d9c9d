package web

import (
	"slices"

	"mediashare/internal/apperr"
	"mediashare/internal/events"
	"mediashare/internal/gallery"
	"mediashare/internal/policy"
)

// publicTypes are the event types everyone may read in the audit log:
// an entry's (their personal fields are sealed and erasable). An
// account's events (names, roles, provider identities, why an admin
// disabled someone) are for those who manage accounts.
var publicTypes = func() []events.Type {
	var out []events.Type
	for _, t := range events.Types {
		if !slices.Contains(events.AccountTypes, t) {
			out = append(out, t)
		}
	}
	return out
}()

// historyScope narrows the audit log's filter to what p may read: all of
// it for those the policy lets manage accounts, else the entries' events
// only. Asking for an account event type without that right is 403.
// seesAccounts says which it was (for the type list and rowsFor).
func (s *Server) historyScope(p policy.Principal, f events.Filter) (scoped events.Filter, seesAccounts bool, err error) {
	if s.policy().MayManageAccounts(p) == nil {
		return f, true, nil
	}
	if len(f.Types) == 0 {
		f.Types = publicTypes
		return f, false, nil
	}
	for _, t := range f.Types {
		if slices.Contains(events.AccountTypes, t) {
			return f, false, apperr.New(apperr.Forbidden, "Account events are shown to admins only.")
		}
	}
	return f, false, nil
}

// visibleRows drops account streams' rows for a reader who may not see
// them, whatever their type: the filter keeps them out of the page, and
// this keeps a type added to account streams later out too.
func visibleRows(rows []gallery.AuditRow, seesAccounts bool) []gallery.AuditRow {
	if seesAccounts {
		return rows
	}
	return slices.DeleteFunc(rows, func(r gallery.AuditRow) bool { return events.IsAccountStream(r.Event.Stream) })
}

// historyTypes is the type list of the history page's filter for a
// reader.
func historyTypes(seesAccounts bool) []string {
	types := events.Types
	if !seesAccounts {
		types = publicTypes
	}
	out := make([]string, len(types))
	for i, t := range types {
		out[i] = string(t)
	}
	return out
}
