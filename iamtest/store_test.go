package iamtest_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/iamkit/iam"
	"github.com/iamkit/iam/iamtest"
)

// The suite proves something only if it fails for a store that breaks the
// contract: each store below is a MemoryStore with one flaw, and
// CheckStore must fail it, on the case that checks what the flaw breaks.

// dropsCascadeEvents leaves the API keys out of the Changes that list
// more than one event (a delete's cascade), in the feed and in the log.
type dropsCascadeEvents struct{ *iam.MemoryStore }

func withoutKeys(ch iam.Change) iam.Change {
	if len(ch.Events) < 2 {
		return ch
	}
	ch.Events = slices.DeleteFunc(slices.Clone(ch.Events), func(ev iam.Event) bool { return ev.Kind == iam.KindAPIKey })
	return ch
}

func (s dropsCascadeEvents) Subscribe(fn func(iam.Change)) func() {
	return s.MemoryStore.Subscribe(func(ch iam.Change) { fn(withoutKeys(ch)) })
}

func (s dropsCascadeEvents) Changes(ctx context.Context, after uint64) ([]iam.Change, error) {
	chs, err := s.MemoryStore.Changes(ctx, after)
	for i := range chs {
		chs[i] = withoutKeys(chs[i])
	}
	return chs, err
}

// countsRejectedWrites moves its revision on for a rejected write too.
type countsRejectedWrites struct {
	*iam.MemoryStore
	mu       sync.Mutex
	rejected uint64
}

func (s *countsRejectedWrites) count(err error) error {
	if err != nil && !errors.Is(err, iam.ErrDelivery) {
		s.mu.Lock()
		s.rejected++
		s.mu.Unlock()
	}
	return err
}

func (s *countsRejectedWrites) Revision(ctx context.Context) (uint64, error) {
	rev, err := s.MemoryStore.Revision(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	return rev + s.rejected, err
}

func (s *countsRejectedWrites) CreateUser(ctx context.Context, u iam.User) (iam.User, error) {
	u, err := s.MemoryStore.CreateUser(ctx, u)
	return u, s.count(err)
}

func (s *countsRejectedWrites) DeleteUser(ctx context.Context, id string) error {
	return s.count(s.MemoryStore.DeleteUser(ctx, id))
}

// swallowsSubscriberPanics recovers its subscribers' panics itself, so
// that a write never learns of them.
type swallowsSubscriberPanics struct{ *iam.MemoryStore }

func (s swallowsSubscriberPanics) Subscribe(fn func(iam.Change)) func() {
	return s.MemoryStore.Subscribe(func(ch iam.Change) {
		defer func() { _ = recover() }()
		fn(ch)
	})
}

// requireCaseFails asserts that CheckStore fails the stores newStore
// returns, naming the case want among the failed ones.
func requireCaseFails(t *testing.T, newStore func() iam.Store, want string) {
	t.Helper()
	err := iamtest.CheckStore(t.Context(), func(context.Context) (iam.Store, error) { return newStore(), nil })
	if err == nil {
		t.Fatalf("CheckStore passed a store that breaks %s", want)
	}
	if !strings.Contains(err.Error(), want+": ") {
		t.Fatalf("CheckStore failed the store, but not on %s:\n%v", want, err)
	}
	if !strings.HasPrefix(err.Error(), "iamtest: ") {
		t.Fatalf("CheckStore's error does not start with \"iamtest: \": %v", err)
	}
}

func TestCheckStorePassesTheMemoryStore(t *testing.T) {
	t.Parallel()
	if err := iamtest.CheckStore(t.Context(), func(context.Context) (iam.Store, error) { return iam.NewMemoryStore(), nil }); err != nil {
		t.Fatal(err)
	}
}

func TestCheckStoreFailsAStoreThatDropsACascadeEvent(t *testing.T) {
	t.Parallel()
	requireCaseFails(t, func() iam.Store { return dropsCascadeEvents{iam.NewMemoryStore()} },
		"ChangeFeed/SubscribersGetEveryChangeInOrderWithItsCascades")
}

func TestCheckStoreFailsAStoreThatCountsARejectedWrite(t *testing.T) {
	t.Parallel()
	requireCaseFails(t, func() iam.Store { return &countsRejectedWrites{MemoryStore: iam.NewMemoryStore()} },
		"Revision/NoneForARejectedWrite")
}

func TestCheckStoreFailsAStoreThatSwallowsASubscriberPanic(t *testing.T) {
	t.Parallel()
	requireCaseFails(t, func() iam.Store { return swallowsSubscriberPanics{iam.NewMemoryStore()} },
		"ChangeFeed/RevokedGrantNeverSurvivesAPanickingSubscriber")
}

// A failing newStore, a panic and a cancelled context fail cases, and
// CheckStore says so; a store that implements io.Closer is closed.
type closingStore struct {
	*iam.MemoryStore
	closed *int
	mu     *sync.Mutex
}

func (s closingStore) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	*s.closed++
	return nil
}

func TestCheckStoreReportsWhatStopsACase(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	err := iamtest.CheckStore(ctx, func(context.Context) (iam.Store, error) { return nil, errors.New("no database") })
	if err == nil || !strings.Contains(err.Error(), "newStore: no database") {
		t.Fatalf("a failing newStore: %v", err)
	}

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	err = iamtest.CheckStore(cancelled, func(context.Context) (iam.Store, error) { return iam.NewMemoryStore(), nil })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("a cancelled context: %v", err)
	}

	var mu sync.Mutex
	closed, made := 0, 0
	err = iamtest.CheckStore(ctx, func(context.Context) (iam.Store, error) {
		mu.Lock()
		defer mu.Unlock()
		made++
		if made == 1 {
			return nil, nil // a nil store: the first case panics
		}
		return closingStore{MemoryStore: iam.NewMemoryStore(), closed: &closed, mu: &mu}, nil
	})
	if err == nil || !strings.Contains(err.Error(), "panic: ") {
		t.Fatalf("a case that panics: %v", err)
	}
	if !strings.Contains(err.Error(), "fails 1 of the ") {
		t.Fatalf("only the case given a nil store fails: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if closed != made-1 {
		t.Fatalf("%d stores closed, want %d", closed, made-1)
	}
}
