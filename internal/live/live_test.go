package live

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"mediashare/internal/projections"
)

func TestHubDropsSlowSubscribersWithoutBlocking(t *testing.T) {
	h := NewHub(2)
	fast, slow := h.Subscribe(), h.Subscribe()
	var got []string
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for m := range fast.C {
			got = append(got, m.ID)
		}
	}()
	done := make(chan struct{})
	go func() {
		for i := 0; i < 10; i++ {
			h.Publish(Message{ID: fmt.Sprint(i)})
			time.Sleep(time.Millisecond)
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Publish blocked on a slow subscriber")
	}
	if !slow.Dropped() {
		t.Error("a subscriber that never read was not dropped")
	}
	n := 0
	for range slow.C { // closed after the buffered messages
		n++
	}
	if n != 2 {
		t.Errorf("the dropped subscriber kept %d messages, want its buffer of 2", n)
	}
	if h.Len() != 1 {
		t.Errorf("hub has %d subscribers, want 1", h.Len())
	}
	fast.Close()
	wg.Wait()
	if len(got) != 10 {
		t.Errorf("the fast subscriber got %d messages, want 10", len(got))
	}
	fast.Close() // twice is fine
}

type memLog struct {
	mu      sync.Mutex
	changes []projections.Change
}

func (m *memLog) add(eib string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.changes = append(m.changes, projections.Change{Position: fmt.Sprintf("%03d", len(m.changes)+1), EIB: eib, Version: 1})
}

func (m *memLog) Changes(_ context.Context, after string, limit int) ([]projections.Change, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []projections.Change
	for _, c := range m.changes {
		if c.Position > after && len(out) < limit {
			out = append(out, c)
		}
	}
	return out, nil
}

func (m *memLog) LastChange(context.Context) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.changes) == 0 {
		return "", nil
	}
	return m.changes[len(m.changes)-1].Position, nil
}

func TestPollerPublishesOnlyNewChangesInOrder(t *testing.T) {
	log := &memLog{}
	log.add("old")   // before the poller starts: already on the page
	h := NewHub(200) // room for a whole burst: the reader below starts late
	sub := h.Subscribe()
	p := &Poller{Changes: log, Hub: h, Interval: time.Hour, Render: func(_ context.Context, c projections.Change) (Message, error) {
		return Message{ID: c.Position, Event: "entry", Data: c.EIB}, nil
	}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go p.Run(ctx)
	time.Sleep(50 * time.Millisecond)
	for i := 0; i < 150; i++ { // more than one batch
		log.add(fmt.Sprint("e", i))
	}
	p.Poke()
	for i := 0; i < 150; i++ {
		select {
		case m := <-sub.C:
			if want := fmt.Sprint("e", i); m.Data != want {
				t.Fatalf("message %d: got %s, want %s", i, m.Data, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("message %d did not arrive", i)
		}
	}
}

// Head says how far the poller has followed the log: nothing before it
// first reads it, then the head it started at, then each change once it
// is published (kept pages are served by it).
func TestPollerHeadFollowsWhatItPublished(t *testing.T) {
	log := &memLog{}
	log.add("old")
	h := NewHub(8)
	sub := h.Subscribe()
	render := make(chan struct{})
	p := &Poller{Changes: log, Hub: h, Interval: time.Hour, Render: func(_ context.Context, c projections.Change) (Message, error) {
		<-render // held until the test lets it go
		return Message{ID: c.Position, Event: "entry", Data: c.EIB}, nil
	}}
	if head, ok := p.Head(); ok {
		t.Fatalf("Head before Run = %q, true; want not known yet", head)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go p.Run(ctx)
	waitHead := func(want string) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
			if head, ok := p.Head(); ok && head == want {
				return
			}
			if time.Now().After(deadline) {
				head, ok := p.Head()
				t.Fatalf("Head = %q, %v; want %q", head, ok, want)
			}
		}
	}
	waitHead("001")
	log.add("new")
	p.Poke()
	time.Sleep(50 * time.Millisecond)
	if head, _ := p.Head(); head != "001" {
		t.Errorf("Head = %q while the change is not yet published, want 001", head)
	}
	close(render)
	<-sub.C
	waitHead("002")
}
