package entry

import "mediashare/internal/events"

// Reasons a preview could not be made, as recorded in ThumbnailFailed.
// The raw error behind one is logged, never stored in an event.
const (
	OriginalMissing = "original_missing"
	TooSlow         = "timeout"
	DecodeFailed    = "decode_failed"
	// Poison: making the preview kept failing or stopping the process, so
	// the feed gave up on it (events.Poison).
	Poison = events.ReasonPoison
	// Unrecorded is the code of a failure recorded before codes existed;
	// its message is the free text it was recorded with.
	Unrecorded = "unrecorded"
)

var failureMessages = map[string]string{
	OriginalMissing: "The original file is missing.",
	TooSlow:         "Making the preview took too long.",
	DecodeFailed:    "The image could not be decoded.",
	Poison:          "The image could not be processed.",
}

// FailureOf is the failure for a code, with its safe message.
func FailureOf(code string) Failure {
	msg, ok := failureMessages[code]
	if !ok {
		code, msg = Unrecorded, "No preview could be made."
	}
	return Failure{Code: code, Message: msg}
}

// Payload is the ThumbnailFailed payload that records f.
func (f Failure) Payload() events.ThumbnailFailure {
	return events.ThumbnailFailure{Reason: f.Code, Message: f.Message}
}

func failureOf(p events.ThumbnailFailure) Failure {
	if p.Message == "" {
		// Written before codes: the reason is a sentence, kept readable.
		return Failure{Code: Unrecorded, Message: p.Reason}
	}
	return Failure{Code: p.Reason, Message: p.Message}
}
