package iam_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/iamkit/iam"
)

// laggingStore is a MemoryStore whose subscribers hear of a change only
// when the test releases it, as an Evaluator of one replica hears of
// another replica's write some time after it committed.
type laggingStore struct {
	*iam.MemoryStore
	mu      sync.Mutex
	held    []iam.Change
	deliver func(iam.Change)
}

func (s *laggingStore) Subscribe(fn func(iam.Change)) func() {
	s.mu.Lock()
	s.deliver = fn
	s.mu.Unlock()
	return s.MemoryStore.Subscribe(func(ch iam.Change) {
		s.mu.Lock()
		s.held = append(s.held, ch)
		s.mu.Unlock()
	})
}

// release delivers the changes held so far.
func (s *laggingStore) release() {
	s.mu.Lock()
	held, fn := s.held, s.deliver
	s.held = nil
	s.mu.Unlock()
	for _, ch := range held {
		fn(ch)
	}
}

// A caller that wrote at some revision and waits for an Evaluator to
// reach it is woken once the Evaluator has folded the write in, and not
// before: a check made next sees the write.
func TestWaitRevisionReturnsOnlyOnceTheIndexHoldsTheWrite(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := &laggingStore{MemoryStore: iam.NewMemoryStore()}
	ev, err := iam.NewEvaluator(ctx, store)
	if err != nil {
		t.Fatal(err)
	}
	defer ev.Close()
	if err := ev.WaitRevision(ctx, 0); err != nil {
		t.Fatalf("WaitRevision(0) on a fresh index: %v", err)
	}
	if _, err := store.CreateOrganization(ctx, iam.Organization{ID: "acme", Name: "Acme"}); err != nil {
		t.Fatal(err)
	}
	if _, err := store.CreateUser(ctx, iam.User{ID: "owner", OrganizationID: "acme", Email: "o@acme.test", Type: iam.UserOwner}); err != nil {
		t.Fatal(err)
	}
	rev, err := store.Revision(ctx)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- ev.WaitRevision(ctx, rev) }()
	select {
	case err := <-done:
		t.Fatalf("WaitRevision(%d) returned (%v) while the index is at %d", rev, err, ev.Revision())
	case <-time.After(20 * time.Millisecond):
	}
	store.release()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("WaitRevision did not return once the index reached the revision")
	}
	dec, err := ev.Check(ctx, iam.Request{Principal: iam.UserPrincipal("owner"), ProjectID: "acme", Permission: "InstancesFullAccess"})
	if err != nil || !dec.Allowed || dec.Revision < rev {
		t.Fatalf("check after WaitRevision(%d): %+v, %v; want the owner allowed at revision %d", rev, dec, err, rev)
	}
}

// A wait that cannot end says why: the caller's context ended, or the
// Evaluator was closed and follows the store no more.
func TestWaitRevisionEndsWithTheContextOrTheEvaluator(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ev, err := iam.NewEvaluator(ctx, iam.NewMemoryStore())
	if err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	if err := ev.WaitRevision(short, 5); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitRevision past its context: %v, want context.DeadlineExceeded", err)
	}
	done := make(chan error, 1)
	go func() { done <- ev.WaitRevision(ctx, 5) }()
	time.Sleep(5 * time.Millisecond)
	if err := ev.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, iam.ErrInvalid) {
			t.Fatalf("WaitRevision on a closed Evaluator: %v, want ErrInvalid", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("WaitRevision kept waiting on a closed Evaluator")
	}
}
