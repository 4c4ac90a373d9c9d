package limits

import (
	"errors"
	"io"
	"net/http"
	"os"
	"time"
)

// Body bounds how a request body may arrive: it must keep up a minimum
// rate (after a grace period) and be complete within a deadline. It works
// with read deadlines on the connection, so a client that sends nothing
// at all is cut off too, not only one that sends slowly.
type Body struct {
	MinRate  int64         // bytes per second, averaged from the start; 0: no minimum
	Grace    time.Duration // the rate is not checked before this
	Deadline time.Duration // the whole body; 0: none
}

// ErrSlowBody is the refusal of a body that came too slowly.
var ErrSlowBody = &Refusal{Status: http.StatusRequestTimeout, Reason: ReasonSlowBody,
	Message: "The upload arrived too slowly and was stopped. Please try again on a faster connection, or send fewer files at once."}

// Wrap replaces r.Body with a reader that enforces b. When the body is
// done (read to its end, or failed), the connection's read deadline is
// lifted again so that a long handler is not cut off.
func (b Body) Wrap(w http.ResponseWriter, r *http.Request) {
	if r.Body == nil || r.Body == http.NoBody || (b.MinRate <= 0 && b.Deadline <= 0) {
		return
	}
	r.Body = &slowBody{ReadCloser: r.Body, rc: http.NewResponseController(w), b: b, start: time.Now()}
}

type slowBody struct {
	io.ReadCloser
	rc    *http.ResponseController
	b     Body
	start time.Time
	read  int64
	done  bool
	err   error
}

// due is when the bytes read so far, plus one more read, must have come.
func (s *slowBody) due() time.Time {
	var d time.Time
	if s.b.Deadline > 0 {
		d = s.start.Add(s.b.Deadline)
	}
	if s.b.MinRate > 0 {
		r := s.start.Add(s.b.Grace + time.Duration(float64(s.read)/float64(s.b.MinRate)*float64(time.Second)))
		if d.IsZero() || r.Before(d) {
			d = r
		}
	}
	return d
}

func (s *slowBody) Read(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	if s.done {
		return s.ReadCloser.Read(p)
	}
	due := s.due()
	if !time.Now().Before(due) {
		return 0, s.fail(ErrSlowBody)
	}
	if err := s.rc.SetReadDeadline(due); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return 0, err
	}
	n, err := s.ReadCloser.Read(p)
	s.read += int64(n)
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		return n, s.fail(ErrSlowBody)
	case err != nil:
		s.finish()
	}
	return n, err
}

// fail ends the body for good. The read deadline stays in the past: the
// server then gives up on the connection instead of reading the rest of
// the body before it answers (the answer is still written).
func (s *slowBody) fail(err error) error {
	s.err = err
	s.done = true
	s.rc.SetReadDeadline(time.Now())
	return err
}

// finish lifts the read deadline: the rest of the request is the
// handler's business (and the server's idle timeout's).
func (s *slowBody) finish() {
	if !s.done {
		s.done = true
		s.rc.SetReadDeadline(time.Time{})
	}
}

// Done says the handler has read what it wants; the deadline is lifted.
func Done(r *http.Request) {
	if s, ok := r.Body.(*slowBody); ok {
		s.finish()
	}
}
