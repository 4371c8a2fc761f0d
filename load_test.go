package iam

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testConditionEngine is a stand-in for the CEL engine: it accepts every
// expression that does not contain "syntax error", and its conditions never
// hold.
type testConditionEngine struct{}

func (testConditionEngine) Compile(expr string) (Condition, error) {
	if strings.Contains(expr, "syntax error") {
		return nil, fmt.Errorf("iam: condition %q: syntax error at 1:1", expr)
	}
	return testCondition{}, nil
}

type testCondition struct{}

func (testCondition) Eval(*Request) (bool, error) { return false, nil }

// loadedOrg is everything a store holds for one organization, as its List
// methods return it.
type loadedOrg struct {
	Projects       []Project
	Users          []User
	Applications   []Application
	Groups         []Group
	APIKeys        []APIKey
	PermissionSets []PermissionSet
	Policies       []Policy
}

// loadedStore is a store's whole contents and revision.
type loadedStore struct {
	Revision      uint64
	Organizations []Organization
	Orgs          map[string]loadedOrg
}

func loadContents(t *testing.T, s Store) loadedStore {
	t.Helper()
	ctx := context.Background()
	rev, err := s.Revision(ctx)
	require.NoError(t, err)
	orgs, err := s.ListOrganizations(ctx)
	require.NoError(t, err)
	out := loadedStore{Revision: rev, Organizations: orgs, Orgs: map[string]loadedOrg{}}
	for _, o := range orgs {
		var c loadedOrg
		c.Projects, err = s.ListProjects(ctx, o.ID)
		require.NoError(t, err)
		c.Users, err = s.ListUsers(ctx, o.ID)
		require.NoError(t, err)
		c.Applications, err = s.ListApplications(ctx, o.ID)
		require.NoError(t, err)
		c.Groups, err = s.ListGroups(ctx, o.ID)
		require.NoError(t, err)
		c.APIKeys, err = s.ListAPIKeys(ctx, o.ID)
		require.NoError(t, err)
		c.PermissionSets, err = s.ListPermissionSets(ctx, o.ID)
		require.NoError(t, err)
		c.Policies, err = s.ListPolicies(ctx, o.ID)
		require.NoError(t, err)
		out.Orgs[o.ID] = c
	}
	return out
}

// loadCmp compares store contents; an empty and a nil list are equal.
var loadCmp = cmpopts.EquateEmpty()

func requireContents(t *testing.T, want, got loadedStore, opts ...cmp.Option) {
	t.Helper()
	if diff := cmp.Diff(want, got, append([]cmp.Option{loadCmp}, opts...)...); diff != "" {
		t.Fatalf("store contents (-want +got):\n%s", diff)
	}
}

// loadPos returns the 1-based line and byte column at which the first
// occurrence of needle starts in data.
func loadPos(t *testing.T, data, needle string) (line, col int) {
	t.Helper()
	off := strings.Index(data, needle)
	require.GreaterOrEqual(t, off, 0, "%q not in the file", needle)
	require.Equal(t, off, strings.LastIndex(data, needle), "%q is not unique in the file", needle)
	before := data[:off]
	return strings.Count(before, "\n") + 1, off - (strings.LastIndexByte(before, '\n') + 1) + 1
}

// seedContents is what testdata/seed.json loads.
func seedContents() loadedStore {
	return loadedStore{
		Revision:      1,
		Organizations: []Organization{{ID: "acme", Name: "Acme"}},
		Orgs: map[string]loadedOrg{"acme": {
			Projects: []Project{
				{ID: "A", OrganizationID: "acme", Name: "A"},
				{ID: "F", OrganizationID: "acme", Name: "F"},
				{ID: "acme", OrganizationID: "acme", Name: "default"},
			},
			Users: []User{
				{ID: "ana@acme.test", OrganizationID: "acme", Email: "ana@acme.test", Type: UserMember},
				{ID: "owner@acme.test", OrganizationID: "acme", Email: "owner@acme.test", Type: UserOwner},
			},
			Applications: []Application{{ID: "production-c", OrganizationID: "acme", Name: "production-c"}},
			Groups:       []Group{{ID: "Billing", OrganizationID: "acme", Name: "Billing", UserIDs: []string{"ana@acme.test"}}},
			APIKeys: []APIKey{{
				AccessKey:        "SCWPRODC000000000001",
				OrganizationID:   "acme",
				Bearer:           ApplicationPrincipal("production-c"),
				SecretSHA256:     HashSecret("test"),
				DefaultProjectID: "acme",
				ExpiresAt:        time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC),
			}},
			Policies: []Policy{{
				ID: "prod-c", OrganizationID: "acme", Name: "prod-c",
				Principal: ApplicationPrincipal("production-c"),
				Rules: []Rule{
					{Scope: ProjectsScope("A"), PermissionSets: []string{"InstancesFullAccess", "ObjectStorageReadOnly", "RelationalDatabasesFullAccess"}},
					{Scope: ProjectsScope("F"), PermissionSets: []string{"ContainerRegistryFullAccess", "ContainersReadOnly", "RelationalDatabasesFullAccess"}},
					{Scope: OrganizationScope("acme"), PermissionSets: []string{"BillingReadOnly"}, Condition: "request.ip == '203.0.113.7'"},
				},
			}},
		}},
	}
}

func newLoadStore() *MemoryStore { return NewMemoryStore(WithConditions(testConditionEngine{})) }

func TestLoadSeed(t *testing.T) {
	ctx := context.Background()
	store := newLoadStore()
	require.NoError(t, LoadFile(ctx, store, "testdata/seed.json"))
	requireContents(t, seedContents(), loadContents(t, store))
}

func TestLoadSeedWithoutConditions(t *testing.T) {
	ctx := context.Background()
	store := NewMemoryStore()
	err := LoadFile(ctx, store, "testdata/seed.json")
	require.ErrorIs(t, err, ErrInvalid)
	var ve *ValidationError
	require.True(t, errors.As(err, &ve), "%T %v", err, err)

	data, rerr := os.ReadFile("testdata/seed.json")
	require.NoError(t, rerr)
	line, col := loadPos(t, string(data), `"request.ip == '203.0.113.7'"`)
	assert.Equal(t, "policy", ve.Entity)
	assert.Equal(t, "prod-c", ve.ID)
	assert.Equal(t, "rules[2].condition", ve.Field)
	assert.Equal(t, "testdata/seed.json", ve.File)
	assert.Equal(t, "policies[0].rules[2].condition", ve.Path)
	assert.Equal(t, [2]int{line, col}, [2]int{ve.Line, ve.Column})
	msg := err.Error()
	for _, want := range []string{fmt.Sprintf("testdata/seed.json:%d:%d", line, col), `policy "prod-c"`, "policies[0].rules[2].condition", "iam.WithConditions"} {
		assert.Contains(t, msg, want)
	}

	got := loadContents(t, store)
	assert.Equal(t, uint64(0), got.Revision)
	assert.Empty(t, got.Organizations)
}

func TestLoadSeedEvaluator(t *testing.T) {
	ctx := context.Background()
	store := newLoadStore()
	require.NoError(t, LoadFile(ctx, store, "testdata/seed.json"))
	ev, err := NewEvaluator(ctx, store)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, ev.Close()) })

	for _, tt := range []struct {
		project, permission string
		allowed             bool
	}{
		{"A", "InstancesFullAccess", true},
		{"F", "InstancesFullAccess", false},
		{"F", "ContainerRegistryFullAccess", true},
		{"A", "instance:server:create", true},
		{"acme", "InstancesFullAccess", false},
	} {
		dec, err := ev.Check(ctx, Request{Principal: ApplicationPrincipal("production-c"), ProjectID: tt.project, Permission: tt.permission})
		require.NoError(t, err, "%s in %s", tt.permission, tt.project)
		assert.Equal(t, tt.allowed, dec.Allowed, "%s in %s", tt.permission, tt.project)
	}
	// The owner is allowed everything in the organization.
	dec, err := ev.Check(ctx, Request{Principal: UserPrincipal("owner@acme.test"), ProjectID: "F", Permission: "InstancesFullAccess"})
	require.NoError(t, err)
	assert.True(t, dec.Allowed)
}

// loadWorld is a small world file whose policies list is filled in.
const loadWorld = `{
  "organization": {"id": "acme", "name": "Acme"},
  "projects": [{"name": "A"}, {"id": "proj-f", "name": "F"}],
  "users": [{"email": "owner@acme.test", "type": "owner"}, {"email": "ana@acme.test"}],
  "applications": [{"name": "app"}],
  "policies": [
    %s
  ]
}`

func withPolicy(p string) string { return fmt.Sprintf(loadWorld, p) }

// Setups for TestLoadErrors.
func withSeed(t *testing.T, s *MemoryStore) {
	t.Helper()
	require.NoError(t, LoadFile(context.Background(), s, "testdata/seed.json"))
}

func withOrgs(ids ...string) func(*testing.T, *MemoryStore) {
	return func(t *testing.T, s *MemoryStore) {
		t.Helper()
		for _, id := range ids {
			_, err := s.CreateOrganization(context.Background(), Organization{ID: id, Name: "Org " + id})
			require.NoError(t, err)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name     string
		setup    func(*testing.T, *MemoryStore)
		file     string
		opts     []LoadOption
		is       []error  // sentinels the error matches; ErrInvalid unless conflict
		conflict bool     // a *FileError wrapping ErrConflict, not a *ValidationError
		path     string   // the JSON path reported
		at       string   // a snippet of file where line:column must point; "" for no position
		msg      []string // substrings of the message
	}{
		{
			name: "unknown field",
			file: withPolicy(`{"name": "p", "application": "app", "rules": [{"projcts": ["A"], "permission_sets": ["InstancesFullAccess"]}]}`),
			path: "policies[0].rules[0].projcts", at: `"projcts"`,
			msg: []string{`unknown field "projcts"`, `did you mean "projects"?`},
		},
		{
			name: "unknown field with a hint",
			file: `{"organization": {"id": "acme", "name": "Acme"},
  "applications": [{"name": "app"}],
  "api_keys": [{"access_key": "SCW1", "application": "app", "secret": "hunter2"}]}`,
			path: "api_keys[0].secret", at: `"secret"`,
			msg: []string{`unknown field "secret"`, "never carries a plain secret", "secret_sha256"},
		},
		{
			name:  "unknown field in a policy file",
			setup: withSeed,
			file: `{"application": "production-c",
  "rules": [{"organization": true, "permission_sets": ["BillingReadOnly"], "Condition": "x"}]}`,
			path: "rules[0].Condition", at: `"Condition"`,
			msg: []string{`unknown field "Condition"`, "case-sensitive"},
		},
		{
			name: "duplicate key",
			file: `{"organization": {"id": "acme", "name": "Acme",
  "name": "Acme 2"}}`,
			path: "organization.name", at: `"name": "Acme 2"`,
			msg: []string{`"name" is given twice`},
		},
		{
			name: "syntax error",
			file: `{"organization": {"id": "acme", "name": "Acme"},
  "projects": [{"name": "A"},, {"name": "F"}]}`,
			path: "projects[1]", at: `, {"name": "F"}`,
			msg: []string{"syntax error", "invalid character ','"},
		},
		{
			name: "file cut short",
			file: "{\"organization\": {\"id\": \"acme\", \"name\": \"Acme\"},\n  \"projects\": [{\"name\": \"A\"",
			path: "projects[0]", // checked below: the position is the end of the file
			msg:  []string{"unexpected end of JSON input"},
		},
		{
			name: "type error",
			file: `{"organization": {"id": "acme", "name": "Acme"},
  "users": [{"email": "ana@acme.test", "locked": "yes"}]}`,
			path: "users[0].locked", at: `"yes"`,
			msg: []string{"expected true or false", `got the string "yes"`},
		},
		{
			name: "number for a string",
			file: `{"organization": {"id": 42, "name": "Acme"}}`,
			path: "organization.id", at: `42`,
			msg: []string{"expected a string, got the number 42"},
		},
		{
			name: "trailing data",
			file: "{\"organization\": {\"id\": \"acme\", \"name\": \"Acme\"}}\n{}",
			at:   "{}", msg: []string{"after the top-level object"},
		},
		{
			name: "empty object",
			file: "  {}",
			at:   "{}", msg: []string{"neither a world nor a policy"},
		},
		{
			name: "unknown permission set",
			file: withPolicy(`{"name": "p", "application": "app", "rules": [
      {"projects": ["A"], "permission_sets": ["ObjectStorageReadOnly", "InstanceFullAccess"]}]}`),
			is:   []error{ErrUnknownPermission},
			path: "policies[0].rules[0].permission_sets[1]", at: `"InstanceFullAccess"`,
			msg: []string{"unknown permission set", "did you mean InstancesFullAccess?"},
		},
		{
			name: "organization-scoped set on projects",
			file: withPolicy(`{"name": "p", "application": "app", "rules": [
      {"projects": ["A"], "permission_sets": ["BillingReadOnly"]}]}`),
			is:   []error{ErrScopeMismatch},
			path: "policies[0].rules[0].permission_sets[0]", at: `"BillingReadOnly"`,
			msg: []string{`"organization": true`},
		},
		{
			name: "unknown project",
			file: withPolicy(`{"name": "p", "application": "app", "rules": [
      {"projects": ["A", "G"], "permission_sets": ["InstancesFullAccess"]}]}`),
			is:   []error{ErrNotFound},
			path: "policies[0].rules[0].projects[1]", at: `"G"]`,
			msg: []string{`no project "G" in organization "acme"`, "did you mean"},
		},
		{
			name: "unknown principal",
			file: withPolicy(`{"name": "p", "application": "ap", "rules": []}`),
			is:   []error{ErrNotFound},
			path: "policies[0].application", at: `"ap"`,
			msg: []string{`no application "ap"`, "did you mean app?"},
		},
		{
			name: "unknown group member",
			file: `{"organization": {"id": "acme", "name": "Acme"},
  "users": [{"email": "ana@acme.test"}],
  "groups": [{"name": "G", "users": ["ana@acme.test", "bob@acme.test"]}]}`,
			is:   []error{ErrNotFound},
			path: "groups[0].users[1]", at: `"bob@acme.test"`,
			msg: []string{`no user "bob@acme.test"`},
		},
		{
			name: "ambiguous name",
			file: `{"organization": {"id": "acme", "name": "Acme"},
  "applications": [{"id": "web-1", "name": "web"}, {"id": "web-2", "name": "web"}],
  "policies": [{"name": "p", "application": "web", "rules": []}]}`,
			path: "policies[0].application", at: `"web", "rules"`,
			msg: []string{"ambiguous", `"web-1" (applications[0] at case.json:2:`, `"web-2" (applications[1]`, "by its id"},
		},
		{
			name: "same id twice in the file",
			file: `{"organization": {"id": "acme", "name": "Acme"},
  "projects": [{"name": "web"}],
  "applications": [{"name": "web"}]}`,
			is:   []error{ErrConflict},
			path: "applications[0].name", at: `"web"}]}`,
			msg: []string{`the id "web" is already the id of project projects[0] (case.json:2:`, `explicit "id"`},
		},
		{
			name: "name unusable as an id",
			file: `{"organization": {"id": "acme", "name": "Acme"},
  "groups": [{"name": "Billing Team"}]}`,
			path: "groups[0].name", at: `"Billing Team"`,
			msg: []string{"no spaces", `explicit "id"`},
		},
		{
			name: "id clash with another organization",
			setup: func(t *testing.T, s *MemoryStore) {
				withOrgs("other")(t, s)
				_, err := s.CreateApplication(context.Background(), Application{ID: "production-c", OrganizationID: "other", Name: "production-c"})
				require.NoError(t, err)
			},
			file:     mustRead(t, "testdata/seed.json"),
			conflict: true,
			path:     "applications[0].name", at: `"production-c"}]`,
			msg: []string{`application "production-c": the ID is not available:`, `give this application an explicit "id"`},
		},
		{
			name:     "organization already loaded",
			setup:    withSeed,
			file:     mustRead(t, "testdata/seed.json"),
			conflict: true,
			path:     "organization.id", at: `"acme"`,
			msg: []string{`organization "acme" is already in the store`, "iam.ReplaceExisting()"},
		},
		{
			name: "IntoOrganization names another organization",
			file: mustRead(t, "testdata/seed.json"),
			opts: []LoadOption{IntoOrganization("globex")},
			path: "organization.id", at: `"acme"`,
			msg: []string{`describes organization "acme", not "globex"`},
		},
		{
			name: "second owner",
			file: `{"organization": {"id": "acme", "name": "Acme"},
  "users": [{"email": "a@acme.test", "type": "owner"}, {"email": "b@acme.test", "type": "owner"}]}`,
			conflict: true,
			path:     "users[1]", at: `{"email": "b@acme.test"`,
			msg: []string{"already has an owner"},
		},
		{
			name: "rule with projects and organization",
			file: withPolicy(`{"name": "p", "application": "app", "rules": [
      {"projects": ["A"], "organization": true, "permission_sets": ["InstancesFullAccess"]}]}`),
			path: "policies[0].rules[0]", at: `{"projects": ["A"], "organization": true`,
			msg: []string{"exactly one scope", "not both"},
		},
		{
			name: "rule with neither projects nor organization",
			file: withPolicy(`{"name": "p", "application": "app", "rules": [
      {"projects": ["A"], "permission_sets": ["InstancesFullAccess"]},
      {"permission_sets": ["InstancesFullAccess"]}]}`),
			path: "policies[0].rules[1]", at: `{"permission_sets": ["InstancesFullAccess"]}]}`,
			msg: []string{"exactly one scope", `"organization": true`},
		},
		{
			name: "rule with an empty list of projects",
			file: withPolicy(`{"name": "p", "application": "app", "rules": [{"projects": [], "permission_sets": ["InstancesFullAccess"]}]}`),
			path: "policies[0].rules[0].projects", at: `[], "permission_sets"`,
			msg: []string{"the list of projects is empty"},
		},
		{
			name: "rule without permission sets",
			file: withPolicy(`{"name": "p", "application": "app", "rules": [{"organization": true}]}`),
			path: "policies[0].rules[0].permission_sets", at: `{"organization": true}`,
			msg: []string{"at least one permission set"},
		},
		{
			name: "condition that does not compile",
			file: withPolicy(`{"name": "p", "application": "app", "rules": [
      {"organization": true, "permission_sets": ["BillingReadOnly"], "condition": "a syntax error"}]}`),
			path: "policies[0].rules[0].condition", at: `"a syntax error"`,
			msg: []string{"does not compile"},
		},
		{
			name: "policy with two principals",
			file: withPolicy(`{"name": "p", "application": "app", "user": "ana@acme.test", "rules": []}`),
			path: "policies[0].user", at: `"ana@acme.test", "rules"`,
			msg: []string{"at most one principal"},
		},
		{
			name: "API key without a bearer",
			file: `{"organization": {"id": "acme", "name": "Acme"},
  "api_keys": [{"access_key": "SCW1", "secret_sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}]}`,
			path: "api_keys[0]", at: `{"access_key"`,
			msg: []string{"needs a bearer"},
		},
		{
			name: "API key expiry not RFC 3339",
			file: `{"organization": {"id": "acme", "name": "Acme"},
  "applications": [{"name": "app"}],
  "api_keys": [{"access_key": "SCW1", "application": "app", "expires_at": "2030-01-01",
    "secret_sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}]}`,
			path: "api_keys[0].expires_at", at: `"2030-01-01"`,
			msg: []string{"RFC 3339"},
		},
		{
			name: "permission sets that include each other",
			file: `{"organization": {"id": "acme", "name": "Acme"},
  "permission_sets": [
    {"name": "A", "scope_type": "projects", "includes": ["B"]},
    {"name": "B", "scope_type": "projects", "includes": ["A"]}]}`,
			path: "permission_sets[1].includes[0]", at: `"A"]}]}`,
			msg: []string{"cycle: A -> B -> A"},
		},
		{
			name: "policy key in a world file",
			file: `{"organization": {"id": "acme", "name": "Acme"},
  "rules": []}`,
			path: "rules", at: `"rules"`,
			msg: []string{`unknown field "rules" in a world file`},
		},
		{
			name:  "world key in a policy file",
			setup: withSeed,
			file:  `{"application": "production-c", "projects": [{"name": "G"}]}`,
			path:  "projects", at: `"projects"`,
			msg: []string{`"projects" belongs in a world file`},
		},
		{
			name:  "policy file into a store with two organizations",
			setup: withOrgs("acme", "globex"),
			file:  `{"name": "p", "rules": []}`,
			msg:   []string{"holds 2 organizations (acme, globex)", "iam.IntoOrganization"},
		},
		{
			name: "policy file into an empty store",
			file: `{"name": "p", "rules": []}`,
			is:   []error{ErrNotFound},
			msg:  []string{"holds no organization"},
		},
		{
			name:  "policy file into an unknown organization",
			setup: withOrgs("acme"),
			file:  `{"name": "p", "rules": []}`,
			opts:  []LoadOption{IntoOrganization("acne")},
			is:    []error{ErrNotFound},
			msg:   []string{`organization "acne", named with IntoOrganization, is not in the store`, "did you mean acme?"},
		},
		{
			name:     "policy file naming an existing policy",
			setup:    withSeed,
			file:     `{"policies": [{"name": "new", "rules": []}, {"id": "prod-c", "rules": []}]}`,
			conflict: true,
			path:     "policies[1].id", at: `"prod-c"`,
			msg: []string{`policy "prod-c" already exists in organization "acme"`, "iam.ReplaceExisting()"},
		},
		{
			name:     "policy file id taken by another kind",
			setup:    withSeed,
			file:     `{"name": "production-c", "rules": []}`,
			conflict: true,
			path:     "name", at: `"production-c"`,
			msg: []string{`application of organization "acme"`, `give this policy an explicit "id"`},
		},
		{
			name:  "policy file with a bad reference",
			setup: withSeed,
			file: `{"policies": [
  {"application": "production-c", "rules": [{"projects": ["A", "B"], "permission_sets": ["InstancesFullAccess"]}]}]}`,
			is:   []error{ErrNotFound},
			path: "policies[0].rules[0].projects[1]", at: `"B"`,
			msg: []string{`policies[0].rules[0].projects[1]: policy "application-production-c": no project "B"`}, // the name derived from the principal, never a made-up ID
		},
		{
			name: "policy file with a name two stored entities share",
			setup: func(t *testing.T, s *MemoryStore) {
				withSeed(t, s)
				for _, id := range []string{"web-1", "web-2"} {
					_, err := s.CreateApplication(context.Background(), Application{ID: id, OrganizationID: "acme", Name: "web"})
					require.NoError(t, err)
				}
			},
			file: `{"application": "web", "rules": []}`,
			path: "application", at: `"web"`,
			msg: []string{`ambiguous reference: 2 applications are named "web": "web-1" and "web-2"`},
		},
		{
			name: "an entity with the organization's id",
			file: `{"organization": {"id": "acme", "name": "Acme"},
  "applications": [{"id": "acme", "name": "a"}]}`,
			is:   []error{ErrConflict},
			path: "applications[0].id", at: `"acme", "name": "a"`,
			msg: []string{`the id "acme" is already the id of the organization (case.json:1:25)`},
		},
		{
			name:  "same policy twice in a policy file",
			setup: withSeed,
			file:  `{"policies": [{"name": "x", "rules": []}, {"name": "x", "rules": []}]}`,
			is:    []error{ErrConflict},
			path:  "policies[1].name", at: `"x", "rules": []}]}`,
			msg: []string{`already the id of policy policies[0]`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			store := newLoadStore()
			if tt.setup != nil {
				tt.setup(t, store)
			}
			before := loadContents(t, store)

			err := Load(ctx, store, "case.json", []byte(tt.file), tt.opts...)
			require.Error(t, err)
			t.Log(err)
			for _, target := range tt.is {
				assert.ErrorIs(t, err, target)
			}
			var file string
			var line, col int
			var path string
			if tt.conflict {
				assert.ErrorIs(t, err, ErrConflict)
				assert.NotErrorIs(t, err, ErrInvalid)
				var fe *FileError
				require.True(t, errors.As(err, &fe), "%T %v", err, err)
				file, line, col, path = fe.File, fe.Line, fe.Column, fe.Path
			} else {
				assert.ErrorIs(t, err, ErrInvalid)
				var ve *ValidationError
				require.True(t, errors.As(err, &ve), "%T %v", err, err)
				file, line, col, path = ve.File, ve.Line, ve.Column, ve.Path
			}
			assert.Equal(t, "case.json", file)
			assert.Equal(t, tt.path, path)
			switch {
			case tt.at != "":
				wl, wc := loadPos(t, tt.file, tt.at)
				assert.Equal(t, [2]int{wl, wc}, [2]int{line, col}, "position of %v", err)
				assert.Contains(t, err.Error(), fmt.Sprintf("case.json:%d:%d: ", wl, wc))
			case strings.Contains(tt.name, "cut short"):
				wl := strings.Count(tt.file, "\n") + 1
				wc := len(tt.file) - strings.LastIndexByte(tt.file, '\n')
				assert.Equal(t, [2]int{wl, wc}, [2]int{line, col})
			default:
				assert.Zero(t, line, "no position expected")
			}
			for _, m := range tt.msg {
				assert.Contains(t, err.Error(), m)
			}
			assert.True(t, strings.HasPrefix(err.Error(), "iam: case.json"), err.Error())

			requireContents(t, before, loadContents(t, store))
		})
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(data)
}

func TestLoadReplaceExisting(t *testing.T) {
	ctx := context.Background()
	store := newLoadStore()
	old := `{"organization": {"id": "acme", "name": "Old Acme"},
  "projects": [{"name": "Old"}],
  "users": [{"email": "old-owner@acme.test", "type": "owner"}],
  "applications": [{"name": "production-c"}, {"name": "legacy"}],
  "api_keys": [{"access_key": "SCWOLD", "application": "legacy", "secret_sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}],
  "policies": [{"name": "legacy-policy", "application": "legacy", "rules": [{"projects": ["Old"], "permission_sets": ["InstancesFullAccess"]}]}]}`
	require.NoError(t, Load(ctx, store, "old.json", []byte(old)))
	ev, err := NewEvaluator(ctx, store)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, ev.Close()) })

	var changes []Change
	cancel := store.Subscribe(func(ch Change) { changes = append(changes, ch) })
	defer cancel()
	require.NoError(t, LoadFile(ctx, store, "testdata/seed.json", ReplaceExisting()))

	want := seedContents()
	want.Revision = 2
	requireContents(t, want, loadContents(t, store))
	require.Len(t, changes, 1, "the replacement is one atomic write")
	for _, gone := range []string{"Old", "legacy", "old-owner@acme.test", "SCWOLD"} {
		_, err := store.GetProject(ctx, gone)
		assert.ErrorIs(t, err, ErrNotFound)
	}
	_, err = store.GetAPIKey(ctx, "SCWOLD")
	assert.ErrorIs(t, err, ErrNotFound)
	_, err = ev.Check(ctx, Request{Principal: ApplicationPrincipal("legacy"), ProjectID: "acme", Permission: "InstancesFullAccess"})
	assert.ErrorIs(t, err, ErrNotFound, "the evaluator no longer knows the old application")
	dec, err := ev.Check(ctx, Request{Principal: ApplicationPrincipal("production-c"), ProjectID: "A", Permission: "InstancesFullAccess"})
	require.NoError(t, err)
	assert.True(t, dec.Allowed)

	// A rejected replacement keeps the loaded organization as it was.
	before := loadContents(t, store)
	bad := strings.Replace(mustRead(t, "testdata/seed.json"), `"InstancesFullAccess"`, `"InstanceFullAccess"`, 1)
	err = Load(ctx, store, "bad.json", []byte(bad), ReplaceExisting())
	require.ErrorIs(t, err, ErrUnknownPermission)
	requireContents(t, before, loadContents(t, store))
}

// loadIDsWorld has explicit ids that differ from names, so that the
// resolution of names is visible.
const loadIDsWorld = `{
  "organization": {"id": "globex", "name": "Globex"},
  "projects": [{"id": "globex", "name": "Main", "description": "the default project"},
               {"id": "p-web", "name": "web"}, {"id": "p-db", "name": "db"}],
  "users": [{"id": "u-hank", "email": "Hank@Globex.test", "type": "owner", "username": "hank", "tags": ["boss"]},
            {"id": "u-ana", "email": "ana@globex.test", "locked": true}],
  "applications": [{"id": "a-ci", "name": "ci", "description": "builds", "managed": true, "tags": ["x"]},
                   {"id": "a-web", "name": "web"}],
  "groups": [{"id": "g-ops", "name": "ops", "users": ["hank@globex.test", "u-ana"], "applications": ["web"], "description": "d"},
             {"id": "g-all", "name": "everyone", "all_users": true, "all_applications": true}],
  "api_keys": [{"access_key": "SCWCI", "application": "ci", "default_project_id": "web",
                "secret_sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                "expires_at": "2030-01-01T02:00:00+02:00", "description": "ci key"},
               {"access_key": "SCWHANK", "user": "u-hank",
                "secret_sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}],
  "permission_sets": [
    {"name": "WebAll", "scope_type": "projects", "includes": ["WebRead"], "permissions": ["web:*:*"], "description": "all", "categories": ["Web"]},
    {"name": "WebRead", "scope_type": "projects", "permissions": ["web:*:read", "web:*:list"]}],
  "policies": [
    {"id": "pol-ops", "name": "ops", "group": "ops", "description": "ops work", "tags": ["t"], "rules": [
      {"projects": ["web", "p-db"], "permission_sets": ["WebAll"]},
      {"organization": true, "permission_sets": ["IAMManager"]}]},
    {"application": "web", "rules": [{"projects": ["Main"], "permission_sets": ["WebRead"]}]}
  ]
}`

func loadIDsContents() loadedStore {
	return loadedStore{
		Revision:      1,
		Organizations: []Organization{{ID: "globex", Name: "Globex"}},
		Orgs: map[string]loadedOrg{"globex": {
			Projects: []Project{
				{ID: "globex", OrganizationID: "globex", Name: "Main", Description: "the default project"},
				{ID: "p-db", OrganizationID: "globex", Name: "db"},
				{ID: "p-web", OrganizationID: "globex", Name: "web"},
			},
			Users: []User{
				{ID: "u-ana", OrganizationID: "globex", Email: "ana@globex.test", Type: UserMember, Locked: true},
				{ID: "u-hank", OrganizationID: "globex", Email: "Hank@Globex.test", Username: "hank", Type: UserOwner, Tags: []string{"boss"}},
			},
			Applications: []Application{
				{ID: "a-ci", OrganizationID: "globex", Name: "ci", Description: "builds", Managed: true, Tags: []string{"x"}},
				{ID: "a-web", OrganizationID: "globex", Name: "web"},
			},
			Groups: []Group{
				{ID: "g-all", OrganizationID: "globex", Name: "everyone", AllUsers: true, AllApplications: true},
				{ID: "g-ops", OrganizationID: "globex", Name: "ops", Description: "d", UserIDs: []string{"u-hank", "u-ana"}, ApplicationIDs: []string{"a-web"}},
			},
			APIKeys: []APIKey{
				{AccessKey: "SCWCI", OrganizationID: "globex", Bearer: ApplicationPrincipal("a-ci"), SecretSHA256: HashSecret("test"),
					DefaultProjectID: "p-web", ExpiresAt: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), Description: "ci key"},
				{AccessKey: "SCWHANK", OrganizationID: "globex", Bearer: UserPrincipal("u-hank"), SecretSHA256: HashSecret("test"), DefaultProjectID: "globex"},
			},
			PermissionSets: []PermissionSet{
				{Name: "WebAll", OrganizationID: "globex", ScopeType: ScopeProjects, Permissions: []string{"web:*:*"}, Includes: []string{"WebRead"}, Description: "all", Categories: []string{"Web"}},
				{Name: "WebRead", OrganizationID: "globex", ScopeType: ScopeProjects, Permissions: []string{"web:*:read", "web:*:list"}},
			},
			Policies: []Policy{
				// The second policy has neither id nor name: it is named
				// after its principal.
				{ID: "application-a-web", OrganizationID: "globex", Name: "application-a-web", Principal: ApplicationPrincipal("a-web"), Rules: []Rule{
					{Scope: ProjectsScope("globex"), PermissionSets: []string{"WebRead"}},
				}},
				{ID: "pol-ops", OrganizationID: "globex", Name: "ops", Description: "ops work", Tags: []string{"t"}, Principal: GroupPrincipal("g-ops"), Rules: []Rule{
					{Scope: ProjectsScope("p-web", "p-db"), PermissionSets: []string{"WebAll"}},
					{Scope: OrganizationScope("globex"), PermissionSets: []string{"IAMManager"}},
				}},
			},
		}},
	}
}

func TestLoadWorldResolvesNamesAndIDs(t *testing.T) {
	ctx := context.Background()
	store := newLoadStore()
	require.NoError(t, Load(ctx, store, "globex.json", []byte(loadIDsWorld)))
	requireContents(t, loadIDsContents(), loadContents(t, store))
}

func TestLoadDefaultProjectByName(t *testing.T) {
	ctx := context.Background()
	store := newLoadStore()
	file := `{"organization": {"name": "initech"},
  "projects": [{"name": "default", "description": "edited"}],
  "applications": [{"name": "app"}],
  "policies": [{"name": "p", "application": "app", "rules": [{"projects": ["default"], "permission_sets": ["InstancesFullAccess"]}]}]}`
	require.NoError(t, Load(ctx, store, "initech.json", []byte(file)))
	projects, err := store.ListProjects(ctx, "initech")
	require.NoError(t, err)
	assert.Equal(t, []Project{{ID: "initech", OrganizationID: "initech", Name: "default", Description: "edited"}}, projects)
	p, err := store.GetPolicy(ctx, "p")
	require.NoError(t, err)
	assert.Equal(t, ProjectsScope("initech"), p.Rules[0].Scope)
}

func TestLoadPolicyFiles(t *testing.T) {
	ctx := context.Background()
	one := mustRead(t, "testdata/policy_one.json")
	list := mustRead(t, "testdata/policy_list.json")
	wantOne := Policy{ID: "billing", OrganizationID: "globex", Name: "billing", Description: "billing readers",
		Principal: GroupPrincipal("g-ops"),
		Rules: []Rule{
			{Scope: OrganizationScope("globex"), PermissionSets: []string{"BillingReadOnly"}},
			{Scope: ProjectsScope("p-web"), PermissionSets: []string{"WebRead"}, Condition: "request.ip == '10.0.0.1'"},
		}}
	wantList := []Policy{
		{ID: "ana-db", OrganizationID: "globex", Name: "ana-db", Principal: UserPrincipal("u-ana"),
			Rules: []Rule{{Scope: ProjectsScope("p-db"), PermissionSets: []string{"RelationalDatabasesFullAccess"}}}},
		{ID: "ci-deploy", OrganizationID: "globex", Principal: ApplicationPrincipal("a-ci"),
			Rules: []Rule{{Scope: ProjectsScope("p-web", "globex"), PermissionSets: []string{"WebAll"}}}},
	}

	t.Run("one policy, the store's only organization", func(t *testing.T) {
		store := newLoadStore()
		require.NoError(t, Load(ctx, store, "globex.json", []byte(loadIDsWorld)))
		require.NoError(t, LoadFile(ctx, store, "testdata/policy_one.json"))
		got, err := store.GetPolicy(ctx, "billing")
		require.NoError(t, err)
		if diff := cmp.Diff(wantOne, got, loadCmp); diff != "" {
			t.Fatalf("policy (-want +got):\n%s", diff)
		}
		rev, err := store.Revision(ctx)
		require.NoError(t, err)
		assert.Equal(t, uint64(2), rev)
	})
	t.Run("a list of policies, with IntoOrganization among several", func(t *testing.T) {
		store := newLoadStore()
		withOrgs("acme", "zeta")(t, store)
		require.NoError(t, Load(ctx, store, "globex.json", []byte(loadIDsWorld)))
		err := Load(ctx, store, "list.json", []byte(list))
		require.ErrorIs(t, err, ErrInvalid, "several organizations and no IntoOrganization")
		require.NoError(t, Load(ctx, store, "list.json", []byte(list), IntoOrganization("globex")))
		for _, want := range wantList {
			got, err := store.GetPolicy(ctx, want.ID)
			require.NoError(t, err)
			if diff := cmp.Diff(want, got, loadCmp); diff != "" {
				t.Fatalf("policy (-want +got):\n%s", diff)
			}
		}
		ev, err := NewEvaluator(ctx, store)
		require.NoError(t, err)
		defer ev.Close()
		dec, err := ev.Check(ctx, Request{Principal: ApplicationPrincipal("a-ci"), ProjectID: "p-web", Permission: "web:site:deploy"})
		require.NoError(t, err)
		assert.True(t, dec.Allowed)
		dec, err = ev.Check(ctx, Request{Principal: ApplicationPrincipal("a-ci"), ProjectID: "p-db", Permission: "web:site:deploy"})
		require.NoError(t, err)
		assert.False(t, dec.Allowed)
	})
	t.Run("ReplaceExisting updates policies", func(t *testing.T) {
		store := newLoadStore()
		require.NoError(t, Load(ctx, store, "globex.json", []byte(loadIDsWorld)))
		require.NoError(t, Load(ctx, store, "one.json", []byte(one)))
		before := loadContents(t, store)
		err := Load(ctx, store, "one.json", []byte(one))
		require.ErrorIs(t, err, ErrConflict)
		requireContents(t, before, loadContents(t, store))

		changed := strings.Replace(one, `"billing readers"`, `"changed"`, 1)
		require.NoError(t, Load(ctx, store, "one.json", []byte(changed), ReplaceExisting()))
		got, err := store.GetPolicy(ctx, "billing")
		require.NoError(t, err)
		assert.Equal(t, "changed", got.Description)
		after := loadContents(t, store)
		assert.Equal(t, before.Revision+1, after.Revision)
		assert.Len(t, after.Orgs["globex"].Policies, len(before.Orgs["globex"].Policies))
	})
}

func TestLoadFileErrors(t *testing.T) {
	ctx := context.Background()
	store := newLoadStore()
	err := LoadFile(ctx, store, filepath.Join("testdata", "no-such-file.json"))
	require.ErrorIs(t, err, fs.ErrNotExist)
	assert.Contains(t, err.Error(), "no-such-file.json")

	canceled, cancel := context.WithCancel(ctx)
	cancel()
	err = LoadFile(canceled, store, "testdata/seed.json")
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, uint64(0), loadContents(t, store).Revision)
}

func TestLoadByteOrderMark(t *testing.T) {
	ctx := context.Background()
	store := newLoadStore()
	data := append([]byte("\xef\xbb\xbf"), mustRead(t, "testdata/seed.json")...)
	require.NoError(t, Load(ctx, store, "bom.json", data))
	requireContents(t, seedContents(), loadContents(t, store))

	bad := append([]byte("\xef\xbb\xbf"), `{"organization": {"id": 1}}`...)
	err := Load(ctx, newLoadStore(), "bom.json", bad)
	var ve *ValidationError
	require.True(t, errors.As(err, &ve), "%v", err)
	assert.Equal(t, [2]int{1, 28}, [2]int{ve.Line, ve.Column}, "columns count the byte-order mark: %v", err)
}

// BenchmarkLoadWorld loads a generated world file with many policies.
func BenchmarkLoadWorld(b *testing.B) {
	const n = 10_000
	var sb strings.Builder
	sb.WriteString(`{"organization": {"id": "big", "name": "Big"}, "projects": [{"name": "A"}, {"name": "B"}], "applications": [`)
	for i := range n {
		if i > 0 {
			sb.WriteString(",")
		}
		fmt.Fprintf(&sb, `{"name": "app-%d"}`, i)
	}
	sb.WriteString(`], "policies": [`)
	for i := range n {
		if i > 0 {
			sb.WriteString(",\n")
		}
		fmt.Fprintf(&sb, `{"name": "pol-%d", "application": "app-%d", "rules": [{"projects": ["A", "B"], "permission_sets": ["InstancesFullAccess", "ObjectStorageReadOnly"]}, {"organization": true, "permission_sets": ["BillingReadOnly"]}]}`, i, i)
	}
	sb.WriteString("]}")
	data := []byte(sb.String())
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for range b.N {
		if err := Load(context.Background(), NewMemoryStore(), "big.json", data); err != nil {
			b.Fatal(err)
		}
	}
}
