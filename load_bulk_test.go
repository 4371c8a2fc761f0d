package iam_test

import (
	"context"
	"errors"
	"testing"

	"github.com/iamkit/iam"
	"github.com/iamkit/iam/internal/testkit"
)

// A world file is written in one transaction through the write rules'
// bulk entry points, and a MemoryStore writes an organization created in
// the transaction without an undo per entity: these tests hold both to
// "all or nothing".

const bulkWorldOld = `{
  "organization": {"id": "acme", "name": "Acme"},
  "projects": [{"id": "p-a", "name": "A"}],
  "users": [{"id": "u-owner", "email": "owner@acme.test", "type": "owner"}, {"id": "u-old", "email": "old@acme.test"}],
  "applications": [{"id": "a-old", "name": "old-app"}],
  "policies": [{"id": "pol-old", "user": "u-old", "rules": [{"projects": ["A"], "permission_sets": ["InstancesReadOnly"]}]}]
}`

// bulkWorldNew replaces acme; badSet, when not empty, makes its last
// policy invalid.
func bulkWorldNew(badSet string) string {
	set := "InstancesFullAccess"
	if badSet != "" {
		set = badSet
	}
	return `{
  "organization": {"id": "acme", "name": "Acme 2"},
  "projects": [{"id": "p-b", "name": "B"}],
  "users": [{"id": "u-owner", "email": "owner@acme.test", "type": "owner"}, {"id": "u-new", "email": "new@acme.test"}],
  "applications": [{"id": "a-new", "name": "new-app"}],
  "groups": [{"id": "g-new", "name": "G", "users": ["u-new"]}],
  "policies": [
    {"id": "pol-new", "user": "u-new", "rules": [{"projects": ["B"], "permission_sets": ["InstancesReadOnly"]}]},
    {"id": "pol-last", "application": "a-new", "rules": [{"organization": true, "permission_sets": ["` + set + `"]}]}
  ]
}`
}

func TestRejectedWorldReplacementLeavesTheStoreUntouched(t *testing.T) {
	ctx := context.Background()
	store := iam.NewMemoryStore()
	if err := iam.Load(ctx, store, "old.json", []byte(bulkWorldOld)); err != nil {
		t.Fatal(err)
	}
	before := testkit.Dump(t, store)
	err := iam.Load(ctx, store, "new.json", []byte(bulkWorldNew("NoSuchSet")), iam.ReplaceExisting())
	if !errors.Is(err, iam.ErrInvalid) {
		t.Fatalf("load of an invalid replacement: got %v, want ErrInvalid", err)
	}
	testkit.RequireUnchanged(t, store, before)
	// The IDs of the rejected file are free again, store-wide, and those
	// of the old organization are its own again.
	if _, err := store.GetUser(ctx, "u-new"); !errors.Is(err, iam.ErrNotFound) {
		t.Fatalf("GetUser(u-new) after the rejected load: %v, want ErrNotFound", err)
	}
	if _, err := store.CreateOrganization(ctx, iam.Organization{ID: "other", Name: "Other"}); err != nil {
		t.Fatal(err)
	}
	if _, err := store.CreateUser(ctx, iam.User{ID: "u-new", OrganizationID: "other", Email: "x@other.test", Type: iam.UserOwner}); err != nil {
		t.Fatalf("the rejected file's user ID is still claimed: %v", err)
	}
	if _, err := store.CreateApplication(ctx, iam.Application{ID: "a-old", OrganizationID: "other", Name: "x"}); !errors.Is(err, iam.ErrConflict) {
		t.Fatalf("the old organization's application ID is no longer claimed: %v", err)
	}
	for _, id := range []string{"u-old", "u-owner"} {
		if u, err := store.GetUser(ctx, id); err != nil || u.OrganizationID != "acme" {
			t.Fatalf("GetUser(%s) = %v, %v after the rejected load", id, u, err)
		}
	}
	if _, err := store.GetPolicy(ctx, "pol-old"); err != nil {
		t.Fatal(err)
	}
	// The same file, corrected, loads.
	if err := iam.Load(ctx, store, "new.json", []byte(bulkWorldNew("")), iam.ReplaceExisting()); !errors.Is(err, iam.ErrConflict) {
		t.Fatalf("load with u-new taken by another organization: got %v, want ErrConflict", err)
	}
}

func TestRejectedWorldLeavesAnEmptyStoreEmpty(t *testing.T) {
	ctx := context.Background()
	store := iam.NewMemoryStore()
	before := testkit.Dump(t, store)
	if err := iam.Load(ctx, store, "new.json", []byte(bulkWorldNew("NoSuchSet"))); !errors.Is(err, iam.ErrInvalid) {
		t.Fatalf("got %v, want ErrInvalid", err)
	}
	testkit.RequireUnchanged(t, store, before)
	if err := iam.Load(ctx, store, "new.json", []byte(bulkWorldNew(""))); err != nil {
		t.Fatalf("the corrected file: %v", err)
	}
	if _, err := store.GetPolicy(ctx, "pol-last"); err != nil {
		t.Fatal(err)
	}
}

// otherStore is a Store whose transactions are not the write rules' own,
// as a store of another kind may hand out: Load falls back to one Create
// call per entity.
type otherStore struct{ *iam.MemoryStore }

type otherTx struct{ iam.Tx }

func (s otherStore) Atomic(ctx context.Context, fn func(tx iam.Tx) error) error {
	return s.MemoryStore.Atomic(ctx, func(tx iam.Tx) error { return fn(otherTx{tx}) })
}

func TestWorldLoadsTheSameThroughAnyTx(t *testing.T) {
	ctx := context.Background()
	direct, other := iam.NewMemoryStore(), iam.NewMemoryStore()
	for _, s := range []iam.Store{direct, otherStore{other}} {
		if err := iam.Load(ctx, s, "old.json", []byte(bulkWorldOld)); err != nil {
			t.Fatal(err)
		}
		if err := iam.Load(ctx, s, "new.json", []byte(bulkWorldNew("NoSuchSet")), iam.ReplaceExisting()); !errors.Is(err, iam.ErrInvalid) {
			t.Fatalf("got %v, want ErrInvalid", err)
		}
		if err := iam.Load(ctx, s, "new.json", []byte(bulkWorldNew("")), iam.ReplaceExisting()); err != nil {
			t.Fatal(err)
		}
	}
	if a, b := testkit.Dump(t, direct), testkit.Dump(t, other); !testkit.Equal(a, b, false) {
		t.Fatalf("the two stores differ:\n%s", testkit.DiffContents(a, b))
	}
}

func TestFailedAtomicForgetsTheOrganizationItCreated(t *testing.T) {
	ctx := context.Background()
	store := iam.NewMemoryStore()
	if _, err := store.CreateOrganization(ctx, iam.Organization{ID: "acme", Name: "Acme"}); err != nil {
		t.Fatal(err)
	}
	if _, err := store.CreateUser(ctx, iam.User{ID: "u1", OrganizationID: "acme", Email: "u1@acme.test", Type: iam.UserOwner}); err != nil {
		t.Fatal(err)
	}
	before := testkit.Dump(t, store)
	errStop := errors.New("stop")
	err := store.Atomic(ctx, func(tx iam.Tx) error {
		// acme goes, comes back with u1 again and others, one of them
		// deleted again; a new organization comes too.
		if err := tx.DeleteOrganization(ctx, "acme"); err != nil {
			return err
		}
		for _, org := range []string{"acme", "beta"} {
			if _, err := tx.CreateOrganization(ctx, iam.Organization{ID: org, Name: org}); err != nil {
				return err
			}
		}
		for _, u := range []iam.User{
			{ID: "u1", OrganizationID: "acme", Email: "x@acme.test", Type: iam.UserOwner},
			{ID: "u2", OrganizationID: "acme", Email: "u2@acme.test"},
			{ID: "u3", OrganizationID: "beta", Email: "u3@beta.test", Type: iam.UserOwner},
		} {
			if _, err := tx.CreateUser(ctx, u); err != nil {
				return err
			}
		}
		if err := tx.DeleteUser(ctx, "u2"); err != nil {
			return err
		}
		return errStop
	})
	if !errors.Is(err, errStop) {
		t.Fatalf("got %v", err)
	}
	testkit.RequireUnchanged(t, store, before)
	if u, err := store.GetUser(ctx, "u1"); err != nil || u.Email != "u1@acme.test" {
		t.Fatalf("GetUser(u1) = %v, %v", u, err)
	}
	for _, id := range []string{"u2", "u3"} {
		if _, err := store.CreateUser(ctx, iam.User{ID: id, OrganizationID: "acme", Email: id + "@acme.test"}); err != nil {
			t.Fatalf("the ID %s is still claimed: %v", id, err)
		}
	}
}
