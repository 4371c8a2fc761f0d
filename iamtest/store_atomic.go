package iamtest

import (
	"context"
	"errors"
	"fmt"

	"github.com/iamkit/iam"
)

var errBoom = errors.New("boom")

var atomicCases = []storeCase{
	{"AnErrorRollsEverythingBack", func(t *storeT) {
		w := t.world()
		w.Project(w.Org, "p1")
		w.User(w.Org, "u")
		w.Policy(w.Org, "pol", iam.UserPrincipal("u"), onProjects(ids("p1"), "InstancesServerCreate"))
		before := w.dump()
		evRev := w.Ev.Revision()
		err := w.store.Atomic(w.ctx, func(tx iam.Tx) error {
			if _, err := tx.CreateProject(w.ctx, iam.Project{ID: "p2", OrganizationID: w.Org, Name: "P2"}); err != nil {
				return err
			}
			if err := tx.DeleteProject(w.ctx, "p1"); err != nil {
				return err
			}
			if err := tx.DeleteUser(w.ctx, "u"); err != nil {
				return err
			}
			if _, err := tx.UpdateOrganization(w.ctx, iam.Organization{ID: w.Org, Name: "Renamed"}); err != nil {
				return err
			}
			// Reads inside see the transaction's own writes.
			if _, err := tx.GetProject(w.ctx, "p2"); err != nil {
				return err
			}
			if _, err := tx.GetUser(w.ctx, "u"); !errors.Is(err, iam.ErrNotFound) {
				return errors.New("the transaction does not see its own delete")
			}
			return errBoom
		})
		w.is(err, errBoom, "Atomic returns its function's error")
		w.unchanged(before)
		w.equal(evRev, w.Ev.Revision(), "the Evaluator was told of nothing")
		w.expect(inProject(iam.UserPrincipal("u"), "p1", "InstancesServerCreate"), granted)
		w.expect(inProject(iam.UserPrincipal("u"), "p2", "InstancesServerCreate"), isNotFound)
	}},
	{"APanicRollsEverythingBackAndPanicsOn", func(t *storeT) {
		w := t.world()
		w.User(w.Org, "u")
		before := w.dump()
		recovered := func() (p any) {
			defer func() { p = recover() }()
			_ = w.store.Atomic(w.ctx, func(tx iam.Tx) error {
				if _, err := tx.CreateProject(w.ctx, iam.Project{ID: "p2", OrganizationID: w.Org, Name: "P2"}); err != nil {
					return err
				}
				if err := tx.DeleteUser(w.ctx, "u"); err != nil {
					return err
				}
				panic("boom")
			})
			return nil
		}()
		w.equal("boom", recovered, "Atomic panics on with its function's panic value")
		w.unchanged(before)
		// The store is still usable: its lock was released.
		w.step("write after a panic", func() error {
			_, err := w.store.CreateProject(w.ctx, iam.Project{ID: "p3", OrganizationID: w.Org, Name: "P3"})
			return err
		})
		w.expect(inProject(iam.UserPrincipal("u"), "p3", "InstancesServerCreate"), notGranted)
	}},
	{"ManyWritesAreOneRevisionAndOneChange", func(t *storeT) {
		w := t.world()
		var changes []iam.Change
		cancel := w.store.Subscribe(func(c iam.Change) { changes = append(changes, c) })
		defer cancel()
		w.step("atomic", func() error {
			return w.store.Atomic(w.ctx, func(tx iam.Tx) error {
				if _, err := tx.CreateProject(w.ctx, iam.Project{ID: "p1", OrganizationID: w.Org, Name: "P1"}); err != nil {
					return err
				}
				if _, err := tx.CreateUser(w.ctx, iam.User{ID: "u", OrganizationID: w.Org, Email: "u@acme.test"}); err != nil {
					return err
				}
				_, err := tx.CreatePolicy(w.ctx, iam.Policy{ID: "pol", OrganizationID: w.Org, Principal: iam.UserPrincipal("u"), Rules: []iam.Rule{onProjects(ids("p1"), "InstancesServerCreate")}})
				return err
			})
		})
		w.equal(1, len(changes), "one Change")
		w.equal(3, len(changes[0].Events), "one event per write")
		w.expect(inProject(iam.UserPrincipal("u"), "p1", "InstancesServerCreate"), granted)
	}},
	{"ATransactionThatWritesNothingLeavesTheRevision", func(t *storeT) {
		w := t.world()
		before := w.dump()
		w.ok(w.store.Atomic(w.ctx, func(tx iam.Tx) error {
			_, err := tx.ListUsers(w.ctx, w.Org)
			return err
		}), "a read-only Atomic")
		w.unchanged(before)
	}},
	{"ARejectedWriteInsideLeavesNothingOfItself", func(t *storeT) {
		w := t.world()
		before := w.dump()
		w.ok(w.store.Atomic(w.ctx, func(tx iam.Tx) error {
			_, err := tx.CreateUser(w.ctx, iam.User{ID: "second", OrganizationID: w.Org, Email: "s@acme.test", Type: iam.UserOwner})
			if !errors.Is(err, iam.ErrConflict) {
				return fmt.Errorf("a second owner must be a conflict, got %v", err)
			}
			_, err = tx.CreateProject(w.ctx, iam.Project{ID: "p1", OrganizationID: w.Org, Name: "P1"})
			return err
		}), "an Atomic whose function goes on after a rejected write")
		after := w.dump()
		w.equal(before.Revision+1, after.Revision, "the other write lands")
		w.equal(before.Orgs[w.Org].Users, after.Orgs[w.Org].Users, "the rejected user")
		w.equal(2, len(after.Orgs[w.Org].Projects), "the project created")
	}},
	{"ATransactionCannotBeUsedAfterItEnds", func(t *storeT) {
		w := t.world()
		var kept iam.Tx
		w.ok(w.store.Atomic(w.ctx, func(tx iam.Tx) error { kept = tx; return nil }), "Atomic")
		before := w.dump()
		_, err := kept.CreateProject(w.ctx, iam.Project{ID: "late", OrganizationID: w.Org, Name: "Late"})
		w.fails(err, "a write through a transaction that has ended")
		w.unchanged(before)
	}},
	{"ACancelledContextWritesNothing", func(t *storeT) {
		w := t.world()
		before := w.dump()
		ctx, cancel := context.WithCancel(w.ctx)
		cancel()
		_, err := w.store.CreateProject(ctx, iam.Project{ID: "p1", OrganizationID: w.Org, Name: "P1"})
		w.is(err, context.Canceled, "a write with a cancelled context")
		w.unchanged(before)
	}},
}

var revisionCases = []storeCase{
	{"OnePerWriteCascadesIncluded", testRevision},
	{"NoneForARejectedWrite", testNoRevisionForARejectedWrite},
}

// testRevision: the revision starts at zero and grows by one per
// successful write, cascades included.
func testRevision(t *storeT) {
	s, ctx := t.store, t.ctx
	t.equal(uint64(0), t.revision(), "an empty store's revision")
	steps := []struct {
		name  string
		write func() error
	}{
		{"create organization (and its default project)", func() error {
			_, err := s.CreateOrganization(ctx, iam.Organization{ID: "acme", Name: "Acme"})
			return err
		}},
		{"create owner", func() error {
			_, err := s.CreateUser(ctx, iam.User{ID: "o", OrganizationID: "acme", Email: "o@acme.test", Type: iam.UserOwner})
			return err
		}},
		{"create project", func() error {
			_, err := s.CreateProject(ctx, iam.Project{ID: "p1", OrganizationID: "acme", Name: "P1"})
			return err
		}},
		{"create user", func() error {
			_, err := s.CreateUser(ctx, iam.User{ID: "u", OrganizationID: "acme", Email: "u@acme.test"})
			return err
		}},
		{"create group", func() error {
			_, err := s.CreateGroup(ctx, iam.Group{ID: "g", OrganizationID: "acme", Name: "G", UserIDs: ids("u")})
			return err
		}},
		{"create policy", func() error {
			_, err := s.CreatePolicy(ctx, iam.Policy{ID: "pol", OrganizationID: "acme", Principal: iam.UserPrincipal("u"), Rules: []iam.Rule{onProjects(ids("p1"), "InstancesFullAccess")}})
			return err
		}},
		{"create key", func() error {
			_, err := s.CreateAPIKey(ctx, iam.APIKey{AccessKey: "k", OrganizationID: "acme", Bearer: iam.UserPrincipal("u"), DefaultProjectID: "p1"})
			return err
		}},
		{"delete project (cascades to the policy and the key)", func() error { return s.DeleteProject(ctx, "p1") }},
		{"delete user (cascades to key, group, policy)", func() error { return s.DeleteUser(ctx, "u") }},
		{"delete organization", func() error { return s.DeleteOrganization(ctx, "acme") }},
	}
	for _, st := range steps {
		t.step(st.name, st.write)
	}
	t.equal(uint64(len(steps)), t.revision(), "one revision per write")
}

// testNoRevisionForARejectedWrite: a rejected write of every kind (not
// found, conflict, forbidden, invalid) leaves the revision and the store
// as they were, and tells the subscribers nothing.
func testNoRevisionForARejectedWrite(t *storeT) {
	w := t.world()
	w.Project(w.Org, "p1")
	w.User(w.Org, "u")
	var told []iam.Change
	cancel := w.store.Subscribe(func(c iam.Change) { told = append(told, c) })
	defer cancel()
	before := w.dump()
	for _, r := range []struct {
		name  string
		want  error
		write func() error
	}{
		{"delete an unknown user", iam.ErrNotFound, func() error { return w.store.DeleteUser(w.ctx, "nobody") }},
		{"update an unknown project", iam.ErrNotFound, func() error {
			_, err := w.store.UpdateProject(w.ctx, iam.Project{ID: "nowhere", OrganizationID: w.Org, Name: "N"})
			return err
		}},
		{"create a taken ID", iam.ErrConflict, func() error {
			_, err := w.store.CreateProject(w.ctx, iam.Project{ID: "p1", OrganizationID: w.Org, Name: "again"})
			return err
		}},
		{"delete the owner", iam.ErrForbidden, func() error { return w.store.DeleteUser(w.ctx, w.Owner) }},
		{"an invalid user", iam.ErrInvalid, func() error {
			_, err := w.store.CreateUser(w.ctx, iam.User{ID: "bad", OrganizationID: w.Org, Email: "x"})
			return err
		}},
		{"an Atomic whose last write is rejected", iam.ErrNotFound, func() error {
			return w.store.Atomic(w.ctx, func(tx iam.Tx) error {
				if _, err := tx.CreateProject(w.ctx, iam.Project{ID: "p2", OrganizationID: w.Org, Name: "P2"}); err != nil {
					return err
				}
				return tx.DeletePolicy(w.ctx, "nothing")
			})
		}},
	} {
		err := r.write()
		w.is(err, r.want, r.name)
		w.isNot(err, iam.ErrDelivery, "%s: a rejected write delivers nothing", r.name)
		w.unchanged(before, r.name)
	}
	w.equal(0, len(told), "the subscribers were told of no rejected write")
}
