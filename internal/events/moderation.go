package events

// Moderation and erasure: an entry's personal fields sealed, its erasure,
// and reports about it.
const (
	// MediaErased: the entry's personal fields were shredded (its key
	// destroyed) and its bytes removed, at any point of its life. The
	// payload holds no personal data: who erased it and why.
	MediaErased Type = "MediaErased"
	// EntryReported: a visitor reported the entry to the admins.
	EntryReported Type = "EntryReported"
	// ReportDismissed: an admin closed a report without removing the entry.
	ReportDismissed Type = "ReportDismissed"
)

// ModerationTypes lists the moderation event types (they are in Types too).
var ModerationTypes = []Type{MediaErased, EntryReported, ReportDismissed}

// SealedSchema is the schema of a MediaUploaded payload whose title,
// comment and file name are sealed with the entry's key
// (internal/keyring: "ms1:" values, bound to the entry and the field).
// Payloads at a lower schema hold them in the clear.
const SealedSchema = 2

// Sealed fields of MediaUploaded, as keyring binds them.
const (
	FieldTitle    = "title"
	FieldComment  = "comment"
	FieldFilename = "filename"
)

// Erased is the payload of MediaErased.
type Erased struct {
	By     string `json:"by"`     // "owner", "admin" (an account id once there are accounts), or "system" (the command line)
	Reason string `json:"reason"` // why, as the eraser wrote it
}

// Report reasons: a closed list.
const (
	ReportIllegal    = "illegal"
	ReportCopyright  = "copyright"
	ReportPrivacy    = "privacy"
	ReportHarassment = "harassment"
	ReportSpam       = "spam"
	ReportOther      = "other"
)

// ReportReasons lists the reasons a report may give, in the order the form shows them.
var ReportReasons = []string{ReportIllegal, ReportCopyright, ReportPrivacy, ReportHarassment, ReportSpam, ReportOther}

// Reported is the payload of EntryReported. The reporter is kept (for the
// admins and for rate limits) as an opaque id, never shown on public pages.
type Reported struct {
	Report   string `json:"report"` // the report's id
	Reason   string `json:"reason"` // one of ReportReasons
	Text     string `json:"text,omitempty"`
	Reporter string `json:"reporter,omitempty"`
}

// Dismissed is the payload of ReportDismissed.
type Dismissed struct {
	Report string `json:"report"` // the report's id
	By     string `json:"by"`
	Reason string `json:"reason,omitempty"`
}
