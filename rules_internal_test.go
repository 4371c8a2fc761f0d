package iam

import (
	"context"
	"errors"
	"testing"
)

// failingStoreTx is a MemoryStore transaction whose Apply fails once,
// after it has applied ok events, as a store's disk or connection may.
type failingStoreTx struct {
	*memTx
	ok     int
	failed bool
}

var errDiskOnFire = errors.New("iam: the disk is on fire")

func (f *failingStoreTx) Apply(ctx context.Context, ev Event) error {
	if f.ok == 0 && !f.failed {
		f.failed = true
		return errDiskOnFire
	}
	f.ok--
	return f.memTx.Apply(ctx, ev)
}

func rulesWorld(t *testing.T) *MemoryStore {
	t.Helper()
	ctx := context.Background()
	s := NewMemoryStore()
	err := s.Atomic(ctx, func(tx Tx) error {
		if _, err := tx.CreateOrganization(ctx, Organization{ID: "acme", Name: "Acme"}); err != nil {
			return err
		}
		for _, u := range []User{{ID: "owner", Email: "owner@acme.test", Type: UserOwner}, {ID: "ana", Email: "ana@acme.test"}} {
			u.OrganizationID = "acme"
			if _, err := tx.CreateUser(ctx, u); err != nil {
				return err
			}
		}
		if _, err := tx.CreateAPIKey(ctx, APIKey{AccessKey: "SCWANA00000000000001", OrganizationID: "acme", Bearer: UserPrincipal("ana")}); err != nil {
			return err
		}
		if _, err := tx.CreateGroup(ctx, Group{ID: "ops", OrganizationID: "acme", Name: "Ops", UserIDs: []string{"ana"}}); err != nil {
			return err
		}
		_, err := tx.CreatePolicy(ctx, Policy{ID: "ana-web", OrganizationID: "acme", Principal: UserPrincipal("ana"),
			Rules: []Rule{{Scope: OrganizationScope("acme"), PermissionSets: []string{"AllProductsFullAccess"}}}})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// A store failure half-way through a cascade (the user's key deleted,
// the user not yet removed from its group) leaves the transaction able
// only to fail: the failed write, every later call and Commit return the
// store's error, so that the store rolls back and nothing half-written
// is ever committed.
func TestAStoreFailureHalfWayThroughACascadeCommitsNothing(t *testing.T) {
	ctx := context.Background()
	s := rulesWorld(t)
	mt := &memTx{memState: &s.st}
	wtx := s.rules.Tx(ctx, &failingStoreTx{memTx: mt, ok: 1}, s.rev)

	if err := wtx.DeleteUser(ctx, "ana"); !errors.Is(err, errDiskOnFire) {
		t.Fatalf("DeleteUser: %v; want the store's failure", err)
	}
	if _, err := wtx.CreateProject(ctx, Project{ID: "web", OrganizationID: "acme", Name: "Web"}); !errors.Is(err, errDiskOnFire) {
		t.Fatalf("a write after the failure: %v; want the store's failure", err)
	}
	if _, err := wtx.GetUser(ctx, "ana"); !errors.Is(err, errDiskOnFire) {
		t.Fatalf("a read after the failure: %v; want the store's failure", err)
	}
	if events, err := wtx.Commit(); !errors.Is(err, errDiskOnFire) {
		t.Fatalf("Commit: %d events, %v; want the store's failure", len(events), err)
	}
	mt.rollback()
	if _, err := s.GetAPIKey(ctx, "SCWANA00000000000001"); err != nil {
		t.Fatalf("the rolled-back key: %v", err)
	}
	if g, err := s.GetGroup(ctx, "ops"); err != nil || len(g.UserIDs) != 1 {
		t.Fatalf("the group after the rollback: %v, %v", g, err)
	}
}

// A failed write that applied nothing (an invalid one) leaves the
// transaction usable, as the rules' errors always did: a loader tries a
// read or a write, and goes on.
func TestAnInvalidWriteLeavesTheTransactionUsable(t *testing.T) {
	ctx := context.Background()
	s := rulesWorld(t)
	err := s.Atomic(ctx, func(tx Tx) error {
		if err := tx.DeleteUser(ctx, "owner"); !errors.Is(err, ErrForbidden) {
			t.Errorf("deleting the owner: %v; want ErrForbidden", err)
		}
		_, err := tx.CreateProject(ctx, Project{ID: "web", OrganizationID: "acme", Name: "Web"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetProject(ctx, "web"); err != nil {
		t.Fatal(err)
	}
}

// A Tx kept after its Atomic function returned refuses every call, reads
// included: it would otherwise touch the store's state without its lock.
func TestATxKeptAfterAtomicReturnsRefusesEveryCall(t *testing.T) {
	ctx := context.Background()
	s := rulesWorld(t)
	var kept Tx
	if err := s.Atomic(ctx, func(tx Tx) error { kept = tx; return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := kept.CreateProject(ctx, Project{ID: "web", OrganizationID: "acme", Name: "Web"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("a write through a kept Tx: %v; want ErrInvalid", err)
	}
	if _, err := kept.GetUser(ctx, "ana"); !errors.Is(err, ErrInvalid) {
		t.Errorf("a read through a kept Tx: %v; want ErrInvalid", err)
	}
	if _, err := s.GetProject(ctx, "web"); !errors.Is(err, ErrNotFound) {
		t.Errorf("the project written through a kept Tx: %v; want ErrNotFound", err)
	}
	if _, err := s.rules.Reader(&s.st).CreateProject(ctx, Project{ID: "web", OrganizationID: "acme", Name: "Web"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("a write through a Reader: %v; want ErrInvalid", err)
	}
}

// NewWriteRules reports an invalid catalogue, where NewMemoryStore panics.
func TestNewWriteRulesReportsAnInvalidCatalogue(t *testing.T) {
	_, err := NewWriteRules(WithCatalogue([]PermissionSet{{Name: "Bad", OrganizationID: "acme", ScopeType: ScopeProjects, Permissions: []string{"shop:item:read"}}}))
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("NewWriteRules: %v; want ErrInvalid", err)
	}
}

// The lists a write transaction builds for its cascades (and keeps for
// the next ones) never outlive a rollback: after a rolled-back write,
// the store's lists, inside and outside a transaction, hold nothing of it.
func TestListsAfterARolledBackWriteHoldNothingOfIt(t *testing.T) {
	ctx := context.Background()
	s := rulesWorld(t)
	if _, err := s.CreateApplication(ctx, Application{ID: "ci", OrganizationID: "acme", Name: "CI"}); err != nil {
		t.Fatal(err)
	}
	errUndo := errors.New("iam: undo")
	err := s.Atomic(ctx, func(tx Tx) error {
		if _, err := tx.CreateGroup(ctx, Group{ID: "ghost", OrganizationID: "acme", Name: "Ghost"}); err != nil {
			return err
		}
		if err := tx.DeleteApplication(ctx, "ci"); err != nil { // lists the groups, the ghost included
			return err
		}
		return errUndo
	})
	if !errors.Is(err, errUndo) {
		t.Fatal(err)
	}
	groups, err := s.ListGroups(ctx, "acme")
	if err != nil || len(groups) != 1 || groups[0].ID != "ops" {
		t.Fatalf("groups after the rollback: %v, %v; want ops alone", groups, err)
	}
	err = s.Atomic(ctx, func(tx Tx) error {
		if err := tx.DeleteUser(ctx, "ana"); err != nil { // lists the groups again
			return err
		}
		g, err := tx.GetGroup(ctx, "ops")
		if err != nil || len(g.UserIDs) != 0 {
			t.Errorf("ops after ana's deletion: %v, %v", g, err)
		}
		if _, err := tx.GetGroup(ctx, "ghost"); !errors.Is(err, ErrNotFound) {
			t.Errorf("the rolled-back group: %v; want ErrNotFound", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if apps, err := s.ListApplications(ctx, "acme"); err != nil || len(apps) != 1 {
		t.Fatalf("applications after the rollback: %v, %v; want ci", apps, err)
	}
}
