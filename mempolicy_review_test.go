package iam

import (
	"context"
	"reflect"
	"testing"
)

// Every policy a MemoryStore hands out (created, updated, got, listed)
// is the caller's own: writing over its lists or appending to them
// changes neither the store nor another policy, though the store shares
// equal lists between the policies of one transaction; the input given to
// a write is not kept either.
func TestHandedOutPoliciesAreTheCallersOwn(t *testing.T) {
	ctx := context.Background()
	s, org, proj := orgWithProject(t)
	rules := func() []Rule {
		return []Rule{{Scope: ProjectsScope(proj.ID), PermissionSets: []string{"InstancesReadOnly", "ObjectStorageReadOnly"}}}
	}
	in := []Policy{
		{ID: "pol-a", OrganizationID: org.ID, Tags: []string{"t"}, Rules: rules()},
		{ID: "pol-b", OrganizationID: org.ID, Tags: []string{}, Rules: rules()},
	}
	var made []Policy
	if err := s.Atomic(ctx, func(tx Tx) error {
		for _, p := range in {
			c, err := tx.CreatePolicy(ctx, p)
			if err != nil {
				return err
			}
			made = append(made, c)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	want := []Policy{
		{ID: "pol-a", OrganizationID: org.ID, Tags: []string{"t"}, Rules: rules()},
		{ID: "pol-b", OrganizationID: org.ID, Tags: []string{}, Rules: rules()},
	}
	spoil := func(p Policy) {
		if len(p.Tags) > 0 {
			p.Tags[0] = "spoiled"
		}
		_ = append(p.Tags[:len(p.Tags):len(p.Tags)], "x")
		_ = append(p.Tags, "x")
		for i := range p.Rules {
			r := &p.Rules[i]
			r.Scope.ProjectIDs[0] = "spoiled"
			r.PermissionSets[0] = "spoiled"
			_ = append(r.Scope.ProjectIDs, "x")
			_ = append(r.PermissionSets, "x")
		}
		_ = append(p.Rules, Rule{})
		p.Rules[0] = Rule{}
	}
	check := func(what string) {
		t.Helper()
		list, err := s.ListPolicies(ctx, org.ID)
		if err != nil || !reflect.DeepEqual(list, want) {
			t.Fatalf("after %s: ListPolicies = %#v, %v; want %#v", what, list, err, want)
		}
		for _, w := range want {
			if got, err := s.GetPolicy(ctx, w.ID); err != nil || !reflect.DeepEqual(got, w) {
				t.Fatalf("after %s: GetPolicy(%s) = %#v, %v", what, w.ID, got, err)
			}
		}
	}
	for _, p := range in {
		spoil(p)
	}
	check("the inputs changed")
	for _, p := range made {
		spoil(p)
	}
	check("the created policies changed")
	got, _ := s.GetPolicy(ctx, "pol-a")
	spoil(got)
	check("a got policy changed")
	list, _ := s.ListPolicies(ctx, org.ID)
	for _, p := range list {
		spoil(p)
	}
	check("the listed policies changed")
	up := want[1]
	up.Rules = rules()
	up.Tags = []string{"u"}
	want[1].Tags = []string{"u"}
	updated, err := s.UpdatePolicy(ctx, up)
	if err != nil {
		t.Fatal(err)
	}
	spoil(up)
	spoil(updated)
	check("the updated policy and its input changed")
}

// The changes a MemoryStore's Changes returns are the caller's own: a
// caller that writes over a policy's lists (or a user's, a group's...)
// changes neither the store, nor its log, nor what the next caller reads.
// Were they the store's, a careless reader could rewrite a stored grant
// that the Evaluator following the store never hears of, and that the
// next rebuild would then apply.
func TestChangesAreTheCallersOwn(t *testing.T) {
	ctx := context.Background()
	s := NewMemoryStore()
	org, err := s.CreateOrganization(ctx, Organization{Name: "o"})
	if err != nil {
		t.Fatal(err)
	}
	owner, err := s.CreateUser(ctx, User{OrganizationID: org.ID, Email: "o@example.com", Type: UserOwner, Tags: []string{"t"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateGroup(ctx, Group{ID: "g", OrganizationID: org.ID, Name: "g", UserIDs: []string{owner.ID}, Tags: []string{"t"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreatePolicy(ctx, Policy{ID: "pol", OrganizationID: org.ID, Principal: GroupPrincipal("g"), Tags: []string{"t"},
		Rules: []Rule{{Scope: OrganizationScope(org.ID), PermissionSets: []string{"IAMReadOnly"}}}}); err != nil {
		t.Fatal(err)
	}
	before, err := s.Changes(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	wantPol, _ := s.GetPolicy(ctx, "pol")
	wantGroup, _ := s.GetGroup(ctx, "g")
	wantUser, _ := s.GetUser(ctx, owner.ID)
	spoiled, _ := s.Changes(ctx, 0)
	for _, ch := range spoiled {
		for _, ev := range ch.Events {
			switch v := ev.Value.(type) {
			case Policy:
				v.Tags[0] = "spoiled"
				v.Rules[0].PermissionSets[0] = "OrganizationManager"
			case Group:
				v.UserIDs[0], v.Tags[0] = "spoiled", "spoiled"
			case User:
				v.Tags[0] = "spoiled"
			}
		}
	}
	if got, _ := s.GetPolicy(ctx, "pol"); !reflect.DeepEqual(got, wantPol) {
		t.Errorf("a reader of Changes rewrote the stored policy: %+v", got)
	}
	if got, _ := s.GetGroup(ctx, "g"); !reflect.DeepEqual(got, wantGroup) {
		t.Errorf("a reader of Changes rewrote the stored group: %+v", got)
	}
	if got, _ := s.GetUser(ctx, owner.ID); !reflect.DeepEqual(got, wantUser) {
		t.Errorf("a reader of Changes rewrote the stored user: %+v", got)
	}
	if again, _ := s.Changes(ctx, 0); !reflect.DeepEqual(again, before) {
		t.Errorf("a reader of Changes rewrote the log")
	}
}
