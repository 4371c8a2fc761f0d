package iam_test

import (
	"context"
	"testing"

	"github.com/iamkit/iam"
)

// snapshotStore is a MemoryStore with the SnapshotReader capability,
// which counts its uses.
type snapshotStore struct {
	*iam.MemoryStore
	reads int
}

func (s *snapshotStore) ReadSnapshot(ctx context.Context, fn func(tx iam.Tx) error) error {
	s.reads++
	return s.MemoryStore.Atomic(ctx, fn)
}

// An Evaluator builds its index from a store's snapshot where the store
// offers one, so that a replica starting never holds the write lock of a
// shared store while it reads everything.
func TestNewEvaluatorReadsThroughTheStoresSnapshot(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := &snapshotStore{MemoryStore: iam.NewMemoryStore()}
	if _, err := store.CreateOrganization(ctx, iam.Organization{ID: "acme", Name: "Acme"}); err != nil {
		t.Fatal(err)
	}
	ev, err := iam.NewEvaluator(ctx, store)
	if err != nil {
		t.Fatal(err)
	}
	defer ev.Close()
	if store.reads != 1 {
		t.Fatalf("NewEvaluator read %d snapshots, want 1", store.reads)
	}
	if ev.Revision() != 1 {
		t.Fatalf("the index is at revision %d, want 1", ev.Revision())
	}
}
