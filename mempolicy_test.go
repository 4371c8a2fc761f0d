package iam

import (
	"context"
	"reflect"
	"testing"
)

// A MemoryStore holds its policies packed: every policy reads back as it
// was written, nil and empty lists told apart, through Get, List and the
// log of changes.
func TestPackedPolicyReadsBackAsWritten(t *testing.T) {
	policies := []Policy{
		{ID: "a", OrganizationID: "o", Name: "n", Tags: []string{"t"}},
		{ID: "b", OrganizationID: "o", Description: "d", Rules: []Rule{}, Tags: []string{}},
		{ID: "d", OrganizationID: "o", Principal: Principal{Type: PrincipalGroup, ID: "g"}, Tags: []string{"t1", "t2"}, Rules: []Rule{{Scope: OrganizationScope("o"), PermissionSets: []string{"S"}}}},
		{ID: "c", OrganizationID: "o", Principal: Principal{Type: PrincipalUser, ID: "u"}, Rules: []Rule{
			{Scope: ProjectsScope("p1", "p2", "p3"), PermissionSets: []string{"A", "B"}},
			{Scope: OrganizationScope("o"), PermissionSets: []string{"C"}, Condition: "x == 1"},
			{Scope: Scope{ProjectIDs: []string{}}, PermissionSets: []string{}},
			{},
			{Scope: ProjectsScope("p1"), Condition: "y"},
		}},
	}
	for _, p := range policies {
		if got := packPolicy(p).unpack(); !reflect.DeepEqual(got, p) {
			t.Errorf("packed and unpacked:\n got %#v\nwant %#v", got, p)
		}
	}

	ctx := context.Background()
	s, org, proj := orgWithProject(t)
	u, err := s.CreateUser(ctx, User{OrganizationID: org.ID, Email: "u@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	rev, err := s.Revision(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := Policy{OrganizationID: org.ID, Name: "p", Principal: Principal{Type: PrincipalUser, ID: u.ID}, Tags: []string{"x"}, Rules: []Rule{
		{Scope: ProjectsScope(proj.ID), PermissionSets: []string{"InstancesFullAccess", "ObjectStorageReadOnly"}},
		{Scope: OrganizationScope(org.ID), PermissionSets: []string{"IAMReadOnly"}},
	}}
	created, err := s.CreatePolicy(ctx, want)
	if err != nil {
		t.Fatal(err)
	}
	want.ID = created.ID
	if !reflect.DeepEqual(created, want) {
		t.Fatalf("created %#v, want %#v", created, want)
	}
	got, err := s.GetPolicy(ctx, want.ID)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("GetPolicy = %#v, %v; want %#v", got, err, want)
	}
	list, err := s.ListPolicies(ctx, org.ID)
	if err != nil || len(list) != 1 || !reflect.DeepEqual(list[0], want) {
		t.Fatalf("ListPolicies = %#v, %v; want [%#v]", list, err, want)
	}
	changes, err := s.Changes(ctx, rev)
	if err != nil || len(changes) != 1 {
		t.Fatalf("Changes = %v, %v; want one change", changes, err)
	}
	var seen bool
	for _, ev := range changes[0].Events {
		if ev.Kind == KindPolicy {
			seen = true
			if !reflect.DeepEqual(ev.Value, any(want)) {
				t.Errorf("the log's policy %#v, want %#v", ev.Value, want)
			}
		}
	}
	if !seen {
		t.Error("the log's change has no policy")
	}
	// A reader's copy is its own.
	got.Rules[0].PermissionSets[0] = "changed"
	if again, _ := s.GetPolicy(ctx, want.ID); !reflect.DeepEqual(again, want) {
		t.Errorf("after the caller changed its copy, GetPolicy = %#v", again)
	}
}

// The policies listed together share one array of rules, each clipped to
// its own.
func TestUnpackPoliciesClipsEachPolicysRules(t *testing.T) {
	ps := []Policy{
		{ID: "a", Rules: []Rule{{PermissionSets: []string{"A"}}, {PermissionSets: []string{"B"}}}},
		{ID: "b"},
		{ID: "c", Rules: []Rule{}, Tags: []string{"x"}},
		{ID: "d", Rules: []Rule{{Scope: ProjectsScope("p"), Condition: "c"}}},
	}
	m := map[string]any{}
	var keys []string
	for _, p := range ps {
		m[p.ID] = packPolicy(p)
		keys = append(keys, p.ID)
	}
	got := unpackPolicies(m, keys)
	if !reflect.DeepEqual(got, ps) {
		t.Fatalf("unpacked %#v, want %#v", got, ps)
	}
	if cap(got[0].Rules) != 2 || cap(got[3].Rules) != 1 {
		t.Errorf("rules not clipped: caps %d and %d", cap(got[0].Rules), cap(got[3].Rules))
	}
	if n := packPolicy(ps[0]).ruleCount(); n != 2 {
		t.Errorf("ruleCount = %d, want 2", n)
	}
}

// orgWithProject returns a MemoryStore holding one organization, its
// owner and one project.
func orgWithProject(t *testing.T) (*MemoryStore, Organization, Project) {
	t.Helper()
	ctx := context.Background()
	s := NewMemoryStore()
	org, err := s.CreateOrganization(ctx, Organization{Name: "o"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateUser(ctx, User{OrganizationID: org.ID, Email: "o@example.com", Type: UserOwner}); err != nil {
		t.Fatal(err)
	}
	proj, err := s.CreateProject(ctx, Project{OrganizationID: org.ID, Name: "p"})
	if err != nil {
		t.Fatal(err)
	}
	return s, org, proj
}
