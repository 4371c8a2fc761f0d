package iamtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/iamkit/iam"
)

// TestStore runs the Store conformance suite: whatever implements
// [iam.Store] (a host's own store, a database-backed one) must pass it, as
// [iam.MemoryStore] does. It checks the contract that the package's docs
// state and the Evaluator relies on:
//
//   - create, get, list, update and delete of every entity, copies in and
//     out, API key secrets given back once and kept as a hash;
//   - validation: an invalid write is a *iam.ValidationError matching
//     iam.ErrInvalid, and changes nothing, revision included; every ID is
//     unique across the store;
//   - all or nothing: Atomic lands every write of its function as one
//     revision and one Change, or none of them (error, panic, cancelled
//     context);
//   - revisions: one more per successful write, cascades and Atomic
//     included, never one for a rejected write;
//   - the cascades of deleting a project, a user, a group or an
//     organization, and ownership moving in one write;
//   - read-your-writes: an Evaluator built on the store answers from a
//     write as soon as it returns, with concurrent writers and readers;
//   - the change feed: every committed Change, in revision order, before
//     the write returns, cascades listed; a subscriber that panics stops
//     neither the write nor the delivery to the others, and the writer
//     gets an error matching iam.ErrDelivery; Changes replays the log.
//
// newStore is called once per case, from parallel subtests, with that
// subtest's t (register cleanups with t.Cleanup). It returns a new, empty
// store (revision 0, no organization) whose built-in catalogue is
// iam.ScalewayCatalogue() and which has no condition engine. The cases
// build their own Evaluators on it.
//
// TestStore fails t's subtests, one per case, named after what they check.
// CheckStore runs the same cases where no *testing.T is at hand.
func TestStore(t *testing.T, newStore func(t testing.TB) iam.Store) {
	t.Helper()
	for _, g := range storeSuite() {
		t.Run(g.name, func(t *testing.T) {
			t.Parallel()
			for _, c := range g.cases {
				t.Run(c.name, func(t *testing.T) {
					t.Parallel()
					c.run(newStoreT(t, t.Context(), newStore(t)))
				})
			}
		})
	}
}

// CheckStore runs the cases of TestStore one after the other and returns
// nil when the stores newStore returns pass all of them, or an error that
// lists every failed case with what went wrong. It is TestStore for
// callers without a *testing.T (a command that vets a store, a test
// written in another framework), in the manner of testing/fstest.TestFS.
//
// newStore is called once per case and returns a new, empty store, as for
// TestStore; a store that implements io.Closer is closed when its case
// ends. A panic inside a case (in the store, say) fails that case.
// CheckStore stops early, with ctx's error among those it returns, when
// ctx is done.
func CheckStore(ctx context.Context, newStore func(ctx context.Context) (iam.Store, error)) error {
	var failed []error
	total := 0
	for _, g := range storeSuite() {
		for _, c := range g.cases {
			if err := ctx.Err(); err != nil {
				failed = append(failed, err)
				return storeFailures(failed, total)
			}
			total++
			if err := runRecorded(ctx, g.name+"/"+c.name, newStore, c.run); err != nil {
				failed = append(failed, err)
			}
		}
	}
	if len(failed) == 0 {
		return nil
	}
	return storeFailures(failed, total)
}

func storeFailures(failed []error, total int) error {
	return fmt.Errorf("iamtest: the store fails %d of the %d conformance cases run:\n%w", len(failed), total, errors.Join(failed...))
}

// runRecorded runs one case for CheckStore on its own goroutine, so that a
// fatal failure can end the case as t.FailNow ends a test.
func runRecorded(ctx context.Context, name string, newStore func(ctx context.Context) (iam.Store, error), run func(*storeT)) error {
	rec := &record{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer rec.runCleanups()
		defer func() {
			if p := recover(); p != nil {
				rec.Errorf("panic: %v", p)
			}
		}()
		s, err := newStore(ctx)
		if err != nil {
			rec.Fatalf("newStore: %v", err)
		}
		if c, ok := s.(io.Closer); ok {
			rec.Cleanup(func() {
				if err := c.Close(); err != nil {
					rec.Errorf("closing the store: %v", err)
				}
			})
		}
		run(newStoreT(rec, ctx, s))
	}()
	<-done
	return rec.err(name)
}

// record is what a case of CheckStore reports to: it keeps the failures of
// the case. It is safe for concurrent use, as cases report from goroutines
// of their own.
type record struct {
	mu       sync.Mutex
	failures []string
	cleanups []func()
}

func (r *record) Helper() {}

func (r *record) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failures = append(r.failures, fmt.Sprintf(format, args...))
}

// Fatalf records the failure and ends the goroutine that calls it, as
// testing.T.Fatalf does.
func (r *record) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	runtime.Goexit()
}

func (r *record) Cleanup(f func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cleanups = append(r.cleanups, f)
}

// runCleanups calls the cleanups, last registered first.
func (r *record) runCleanups() {
	for {
		r.mu.Lock()
		n := len(r.cleanups)
		if n == 0 {
			r.mu.Unlock()
			return
		}
		f := r.cleanups[n-1]
		r.cleanups = r.cleanups[:n-1]
		r.mu.Unlock()
		func() {
			defer func() {
				if p := recover(); p != nil {
					r.Errorf("panic in a cleanup: %v", p)
				}
			}()
			f()
		}()
	}
}

func (r *record) err(name string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.failures) == 0 {
		return nil
	}
	return fmt.Errorf("%s: %s", name, strings.Join(r.failures, "; "))
}

// storeCase is one case of the suite; storeGroup a named list of them.
type storeCase struct {
	name string
	run  func(t *storeT)
}

type storeGroup struct {
	name  string
	cases []storeCase
}

// storeSuite lists the suite's cases, grouped by what they check.
func storeSuite() []storeGroup {
	return []storeGroup{
		{"RoundTrip", roundTripCases},
		{"Validation", validationCases},
		{"Cascade", cascadeCases},
		{"Atomic", atomicCases},
		{"Revision", revisionCases},
		{"ChangeFeed", feedCases},
		{"ReadYourWrites", readYourWritesCases},
	}
}
