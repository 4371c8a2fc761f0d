package iam

import (
	"context"
	"fmt"
	"sync"
)

// WaitRevision waits until the index reflects store revision rev or a
// later one (Revision() >= rev), so that the checks made next see every
// write up to rev. It returns nil at once when the index is there already.
//
// It serves stores shared by several processes, where a write reaches the
// other processes' Evaluators shortly after it returns: a caller that
// wrote through one replica passes the revision of its write (inside
// Store.Atomic, the write commits as tx.Revision()+1; after any write,
// Store.Revision is at least that) to a replica that must see it, which
// waits here before it checks. On a MemoryStore every write is in the
// index before it returns, and WaitRevision never waits.
//
// It returns ctx's error when ctx ends first, and an error wrapping
// ErrInvalid when the Evaluator is closed before it gets there. An
// Evaluator rebuilding its index (see ErrStale) gets there once the
// rebuild is done.
func (e *Evaluator) WaitRevision(ctx context.Context, rev uint64) error {
	for {
		changed := e.watch.changed()
		cur := e.Revision()
		if cur >= rev {
			return nil
		}
		e.mu.Lock()
		closed := e.closed
		e.mu.Unlock()
		if closed {
			return fmt.Errorf("iam: waiting for revision %d: the evaluator was closed at revision %d: %w", rev, cur, ErrInvalid)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("iam: waiting for revision %d (the index is at %d): %w", rev, cur, ctx.Err())
		case <-changed:
		}
	}
}

// publish makes s the snapshot that queries read, and wakes WaitRevision.
// It is the only place a snapshot is published; the caller holds e.mu.
func (e *Evaluator) publish(s *snapshot) {
	e.snap.Store(s)
	e.watch.notify()
}

// revisionWatch wakes the callers of WaitRevision whenever the Evaluator
// publishes a snapshot or closes. Its zero value is ready; it costs a
// publication one uncontended lock while nobody waits.
type revisionWatch struct {
	mu sync.Mutex
	ch chan struct{} // closed on the next publication; nil while nobody waits
}

// changed returns a channel closed at the next publication.
func (w *revisionWatch) changed() <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ch == nil {
		w.ch = make(chan struct{})
	}
	return w.ch
}

// notify wakes every waiter.
func (w *revisionWatch) notify() {
	w.mu.Lock()
	if w.ch != nil {
		close(w.ch)
		w.ch = nil
	}
	w.mu.Unlock()
}
