package iam

import (
	"context"
	"errors"
	"testing"
)

// TestChangeLogIsBoundedByEventsToo: large changes make the log keep fewer
// than 1024 changes, so that it never holds more than its bound of events,
// except for the newest change, which it always keeps.
func TestChangeLogIsBoundedByEventsToo(t *testing.T) {
	s := NewMemoryStore()
	big := make([]Event, changeLogEvents/4)
	for rev := uint64(1); rev <= 10; rev++ {
		s.record(Change{Revision: rev, Events: big})
	}
	if got := len(s.log); got != 4 || s.logEvents != changeLogEvents {
		t.Fatalf("the log holds %d changes, %d events; want 4 changes, %d events", got, s.logEvents, changeLogEvents)
	}
	huge := make([]Event, 2*changeLogEvents)
	s.record(Change{Revision: 11, Events: huge})
	if len(s.log) != 1 || s.log[0].Revision != 11 {
		t.Fatalf("after a change larger than the bound, the log holds %d changes; want the newest alone", len(s.log))
	}
	ctx := context.Background()
	if _, err := s.Changes(ctx, 9); !errors.Is(err, ErrCompacted) {
		t.Fatalf("Changes after a compacted revision: %v; want ErrCompacted", err)
	}
	if got, err := s.Changes(ctx, 10); err != nil || len(got) != 1 {
		t.Fatalf("Changes(10) = %d changes, %v; want the newest", len(got), err)
	}
}
