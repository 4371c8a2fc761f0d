package iamfile_test

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iamkit/iam"
	"github.com/iamkit/iam/iamfile"
)

func apply(t *testing.T, s iam.Store, files map[string]string, opts ...iamfile.Option) *iamfile.Result {
	t.Helper()
	res, err := iamfile.Apply(context.Background(), s, sources(files), opts...)
	require.NoError(t, err)
	return res
}

// sources turns name -> contents into Sources, world files first.
func sources(files map[string]string) []iamfile.Source {
	var worlds, others []iamfile.Source
	for _, name := range sortedNames(files) {
		src := iamfile.Source{Name: name, Data: []byte(files[name])}
		if strings.Contains(files[name], `"organization": {`) {
			worlds = append(worlds, src)
		} else {
			others = append(others, src)
		}
	}
	return append(worlds, others...)
}

func sortedNames(m map[string]string) []string { return slices.Sorted(maps.Keys(m)) }

// TestApplyIsIdempotent: applying a world file to an empty store gives
// what loading it gives, and applying it again writes nothing.
func TestApplyIsIdempotent(t *testing.T) {
	ctx := context.Background()
	for _, path := range worldFiles(t) {
		t.Run(path, func(t *testing.T) {
			loaded := newStore()
			require.NoError(t, iam.LoadFile(ctx, loaded, path))
			org := orgOf(t, loaded)

			store := newStore()
			res, err := iamfile.ApplyFiles(ctx, store, []string{path})
			require.NoError(t, err)
			assert.Equal(t, org, res.OrganizationID)
			assert.NotEmpty(t, res.Changes)
			assert.Equal(t, uint64(1), revision(t, store), "one apply, one atomic write")
			requireSameContents(t, read(t, loaded, org), read(t, store, org))

			res, err = iamfile.ApplyFiles(ctx, store, []string{path})
			require.NoError(t, err)
			assert.Empty(t, res.Changes, "a second apply writes nothing")
			assert.Equal(t, uint64(1), revision(t, store), "a second apply leaves the revision alone")
		})
	}
}

const acmeV1 = `{
  "organization": {"id": "acme", "name": "Acme"},
  "projects": [{"name": "A"}, {"name": "F"}, {"name": "Old"}],
  "users": [{"email": "owner@acme.test", "type": "owner"}, {"email": "ana@acme.test"}, {"email": "bob@acme.test"}],
  "applications": [{"name": "production-c"}, {"name": "retired"}],
  "groups": [{"name": "Billing", "users": ["ana@acme.test"]}, {"name": "gone", "users": ["bob@acme.test"]}],
  "api_keys": [
    {"access_key": "SCWPRODC", "application": "production-c", "secret_sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"},
    {"access_key": "SCWBOB", "user": "bob@acme.test", "secret_sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}],
  "permission_sets": [
    {"name": "AppRead", "scope_type": "projects", "permissions": ["app:*:read"]},
    {"name": "AppAll", "scope_type": "projects", "permissions": ["app:*:*"], "includes": ["AppRead"]}],
  "policies": [
    {"name": "prod-c", "application": "production-c", "rules": [
      {"projects": ["A"], "permission_sets": ["InstancesFullAccess"]},
      {"projects": ["Old"], "permission_sets": ["AppAll"]}]},
    {"name": "bob", "user": "bob@acme.test", "rules": [{"organization": true, "permission_sets": ["AppRead"]}]}
  ]
}`

// acmeV2 changes a bit of everything: ownership moves to ana, bob, a
// project, an application, a group, a key and a permission set go, a key
// gets a new secret, a set changes, policies change.
const acmeV2 = `{
  "organization": {"id": "acme", "name": "Acme Corp"},
  "projects": [{"name": "default", "description": "the default one"}, {"name": "A", "description": "apps"}, {"name": "F"}, {"name": "New"}],
  "users": [{"email": "owner@acme.test", "locked": true}, {"email": "ana@acme.test", "type": "owner"}, {"email": "cid@acme.test"}],
  "applications": [{"name": "production-c", "description": "prod"}],
  "groups": [{"name": "Billing", "users": ["cid@acme.test"], "applications": ["production-c"]}],
  "api_keys": [
    {"access_key": "SCWPRODC", "application": "production-c", "secret_sha256": "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752",
     "default_project_id": "New", "expires_at": "2031-01-01T00:00:00Z"}],
  "permission_sets": [
    {"name": "AppRead", "scope_type": "projects", "permissions": ["app:*:read", "app:*:list"], "description": "reads"}],
  "policies": [
    {"name": "prod-c", "application": "production-c", "rules": [
      {"projects": ["A", "New"], "permission_sets": ["InstancesReadOnly"]}]},
    {"name": "billing", "group": "Billing", "rules": [{"organization": true, "permission_sets": ["BillingReadOnly"]}]}
  ]
}`

// TestApplyMakesTheOrganizationWhatTheFileSays: after applying V1 then
// V2, the store holds exactly what loading V2 alone gives, in one more
// write.
func TestApplyMakesTheOrganizationWhatTheFileSays(t *testing.T) {
	ctx := context.Background()
	store := newStore()
	apply(t, store, map[string]string{"acme.json": acmeV1})
	ev, err := iam.NewEvaluator(ctx, store)
	require.NoError(t, err)
	defer ev.Close()

	res := apply(t, store, map[string]string{"acme.json": acmeV2}, iamfile.Prune())
	assert.Equal(t, uint64(2), revision(t, store))

	want := newStore()
	require.NoError(t, iam.Load(ctx, want, "acme.json", []byte(acmeV2)))
	requireSameContents(t, read(t, want, "acme"), read(t, store, "acme"))

	var got []string
	for _, c := range res.Changes {
		got = append(got, c.String())
	}
	assert.ElementsMatch(t, []string{
		"update organization acme (name)",
		"delete policy bob",
		"delete API key SCWBOB",
		"update permission set AppRead (permissions, description)",
		"update project A (description)",
		"create project New",
		"update project acme (description)",
		"update user ana@acme.test (type)",
		"create user cid@acme.test",
		"update user owner@acme.test (type, locked)",
		"update application production-c (description)",
		"update group Billing (users, applications)",
		"update API key SCWPRODC (secret_sha256, default_project_id, expires_at)",
		"create policy billing",
		"update policy prod-c (rules)",
		"delete group gone",
		"delete application retired",
		"delete user bob@acme.test",
		"delete project Old",
		"delete permission set AppAll",
	}, got)

	dec, err := ev.Check(ctx, iam.Request{Principal: iam.ApplicationPrincipal("production-c"), ProjectID: "A", Permission: "InstancesFullAccess"})
	require.NoError(t, err)
	assert.False(t, dec.Allowed, "the narrowed rule took the grant away")
	dec, err = ev.Check(ctx, iam.Request{Principal: iam.UserPrincipal("ana@acme.test"), ProjectID: "A", Permission: "InstancesFullAccess"})
	require.NoError(t, err)
	assert.True(t, dec.Allowed, "ana owns the organization now")
}

// TestApplyIsAllOrNothing: an apply that fails, at any step, writes
// nothing: not the entities before the failing one, not the revision.
func TestApplyIsAllOrNothing(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		files map[string]string
		is    error
		msg   string
		hint  string
	}{
		{
			name:  "invalid file",
			files: map[string]string{"acme.json": strings.Replace(acmeV2, `"BillingReadOnly"`, `"BillingReadOnyl"`, 1)},
			is:    iam.ErrUnknownPermission,
			msg:   "acme.json:15:98: policies[1].rules[0].permission_sets[0]",
		},
		{
			// The scratch copy holds one organization, so only the
			// store's own write finds this clash, after several writes.
			name:  "id of another organization",
			files: map[string]string{"acme.json": strings.Replace(acmeV2, `{"name": "New"}`, `{"name": "New"}, {"name": "globex-web"}`, 1)},
			is:    iam.ErrConflict,
			msg:   `acme.json:3:141: projects[4]: `,
			hint:  "give this project another explicit id",
		},
		{
			name: "a policy in two files",
			files: map[string]string{"acme.json": acmeV2,
				"billing.json": `{"name": "billing", "group": "Billing", "rules": []}`},
			is:  iam.ErrConflict,
			msg: `billing.json: policy "billing" is already defined by acme.json`,
		},
		{
			name:  "two world files",
			files: map[string]string{"acme.json": acmeV2, "other.json": `{"organization": {"id": "other", "name": "Other"}}`},
			is:    iam.ErrInvalid,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store := newStore()
			apply(t, store, map[string]string{"acme.json": acmeV1})
			_, err := store.CreateOrganization(ctx, iam.Organization{ID: "globex", Name: "Globex"})
			require.NoError(t, err)
			_, err = store.CreateProject(ctx, iam.Project{ID: "globex-web", OrganizationID: "globex", Name: "web"})
			require.NoError(t, err)
			before, rev := read(t, store, "acme"), revision(t, store)

			_, err = iamfile.Apply(ctx, store, sources(tc.files), iamfile.Prune())
			require.ErrorIs(t, err, tc.is)
			assert.Contains(t, err.Error(), tc.msg)
			assert.Contains(t, err.Error(), tc.hint)
			assert.True(t, strings.HasPrefix(err.Error(), "iam: "), err.Error())
			assert.Equal(t, rev, revision(t, store), "a failed apply leaves the revision alone")
			requireSameContents(t, before, read(t, store, "acme"))
		})
	}
}

// The seed example's policy, with neither id nor name.
const prodC = `{"application": "production-c", "rules": [
  {"projects": ["A"], "permission_sets": ["InstancesFullAccess"]},
  {"projects": ["F"], "permission_sets": ["InstancesReadOnly"]}]}`

func TestApplyingANamelessPolicyFileAgainChangesNothing(t *testing.T) {
	ctx := context.Background()
	store := newStore()
	require.NoError(t, iam.LoadFile(ctx, store, "../testdata/seed.json"))
	for i := range 3 {
		res := apply(t, store, map[string]string{"prodc.json": prodC})
		if i > 0 {
			assert.Empty(t, res.Changes)
		}
	}
	pols, err := store.ListPolicies(ctx, "acme")
	require.NoError(t, err)
	var ids []string
	for _, p := range pols {
		ids = append(ids, p.ID)
	}
	assert.Equal(t, []string{"application-production-c", "prod-c"}, ids)
	assert.Equal(t, uint64(2), revision(t, store), "the load, then one apply that wrote")
}

func TestApplyingAPolicyFileWithoutARuleRevokesItsGrant(t *testing.T) {
	ctx := context.Background()
	store := newStore()
	require.NoError(t, iam.LoadFile(ctx, store, "../testdata/seed.json"))
	ev, err := iam.NewEvaluator(ctx, store)
	require.NoError(t, err)
	defer ev.Close()
	req := iam.Request{Principal: iam.ApplicationPrincipal("production-c"), ProjectID: "F", Permission: "InstancesReadOnly"}
	apply(t, store, map[string]string{"prodc.json": prodC})
	dec, err := ev.Check(ctx, req)
	require.NoError(t, err)
	require.True(t, dec.Allowed)

	res := apply(t, store, map[string]string{"prodc.json": `{"application": "production-c", "rules": [
  {"projects": ["A"], "permission_sets": ["InstancesFullAccess"]}]}`})
	require.Len(t, res.Changes, 1)
	assert.Equal(t, "update policy application-production-c (rules)", res.Changes[0].String())
	dec, err = ev.Check(ctx, req)
	require.NoError(t, err)
	assert.False(t, dec.Allowed, "the rule left the file, so the grant left the store")
}

const teamPolicy = `{"policies": [{"name": "team", "user": "ana@acme.test", "rules": [{"projects": ["F"], "permission_sets": ["InstancesReadOnly"]}]}]}`

// TestReapplyingAWorldKeepsThePoliciesOfSeparateFiles: a world file
// applied again leaves the policies that a policy file applied on its own
// brought; Prune deletes them; and the two files applied together with
// Prune are one consistent whole.
func TestReapplyingAWorldKeepsThePoliciesOfSeparateFiles(t *testing.T) {
	ctx := context.Background()
	store := newStore()
	world := string(mustRead(t, "../testdata/seed.json"))
	apply(t, store, map[string]string{"seed.json": world})
	apply(t, store, map[string]string{"team.json": teamPolicy})

	res := apply(t, store, map[string]string{"seed.json": world})
	assert.Empty(t, res.Changes)
	_, err := store.GetPolicy(ctx, "team")
	require.NoError(t, err, "the policy file's policy is kept")

	res = apply(t, store, map[string]string{"seed.json": world, "team.json": teamPolicy}, iamfile.Prune())
	assert.Empty(t, res.Changes, "every file together is what the store holds")

	res = apply(t, store, map[string]string{"seed.json": world}, iamfile.Prune())
	require.Len(t, res.Changes, 1)
	assert.Equal(t, "delete policy team", res.Changes[0].String())
	_, err = store.GetPolicy(ctx, "team")
	require.ErrorIs(t, err, iam.ErrNotFound)
}

// TestAKeptPolicyFollowsTheWorldsDeletions: a policy that no file names
// loses a principal and projects that the world file no longer has, as
// the store's cascades would have it.
func TestAKeptPolicyFollowsTheWorldsDeletions(t *testing.T) {
	ctx := context.Background()
	store := newStore()
	world := string(mustRead(t, "../testdata/seed.json"))
	apply(t, store, map[string]string{"seed.json": world})
	apply(t, store, map[string]string{"team.json": `{"name": "team", "user": "ana@acme.test", "rules": [
  {"projects": ["F"], "permission_sets": ["InstancesReadOnly"]},
  {"projects": ["A", "F"], "permission_sets": ["ContainersReadOnly"]}]}`})

	smaller := strings.Replace(strings.Replace(world, `{"name": "F"}`, `{"name": "G"}`, 1), `, {"email": "ana@acme.test"}`, "", 1)
	smaller = strings.Replace(smaller, `"users": ["ana@acme.test"]`, `"users": []`, 1)
	smaller = strings.Replace(smaller, `{"projects": ["F"], "permission_sets": ["ContainerRegistryFullAccess", "ContainersReadOnly", "RelationalDatabasesFullAccess"]},`, "", 1)
	apply(t, store, map[string]string{"seed.json": smaller})
	p, err := store.GetPolicy(ctx, "team")
	require.NoError(t, err)
	assert.True(t, p.Principal.IsZero(), "its user is gone")
	assert.Equal(t, []iam.Rule{{Scope: iam.ProjectsScope("A"), PermissionSets: []string{"ContainersReadOnly"}}}, p.Rules)

	// A kept policy that needs a permission set the world deletes stops
	// the apply, which names it.
	store = newStore()
	custom := strings.Replace(world, `"permission_sets": [],`, `"permission_sets": [{"name": "Mine", "scope_type": "projects", "permissions": ["mine:*:*"]}],`, 1)
	apply(t, store, map[string]string{"seed.json": custom})
	apply(t, store, map[string]string{"team.json": `{"name": "team", "user": "ana@acme.test", "rules": [{"projects": ["A"], "permission_sets": ["Mine"]}]}`})
	rev := revision(t, store)
	_, err = iamfile.Apply(ctx, store, sources(map[string]string{"seed.json": world}))
	require.ErrorIs(t, err, iam.ErrUnknownPermission)
	assert.Contains(t, err.Error(), `policy "team", which no file names`)
	assert.Equal(t, rev, revision(t, store))
}

func TestApplyPolicyFilesTarget(t *testing.T) {
	ctx := context.Background()
	store := newStore()
	_, err := iamfile.Apply(ctx, store, sources(map[string]string{"team.json": teamPolicy}))
	require.ErrorIs(t, err, iam.ErrNotFound, "no organization to apply to")
	apply(t, store, map[string]string{"seed.json": string(mustRead(t, "../testdata/seed.json"))})
	apply(t, store, map[string]string{"g.json": `{"organization": {"id": "globex", "name": "Globex"}}`})
	_, err = iamfile.Apply(ctx, store, sources(map[string]string{"team.json": teamPolicy}))
	require.ErrorIs(t, err, iam.ErrInvalid, "two organizations: say which")
	res := apply(t, store, map[string]string{"team.json": teamPolicy}, iamfile.IntoOrganization("acme"))
	assert.Equal(t, "acme", res.OrganizationID)
	_, err = iamfile.Apply(ctx, store, sources(map[string]string{"team.json": teamPolicy}), iamfile.IntoOrganization("initech"))
	require.ErrorIs(t, err, iam.ErrNotFound)
	_, err = iamfile.Apply(ctx, store, nil)
	require.ErrorIs(t, err, iam.ErrInvalid)
	_, err = iamfile.Apply(ctx, store, []iamfile.Source{{Name: "broken.json", Data: []byte(`{"policies": [`)}})
	var ve *iam.ValidationError
	require.True(t, errors.As(err, &ve), "%v", err)
	assert.Equal(t, "broken.json", ve.File)
}

// TestApplyHandsNamesOver: a name or email that one entity leaves can be
// taken by another in the same apply.
func TestApplyHandsNamesOver(t *testing.T) {
	v1 := `{"organization": {"id": "acme", "name": "Acme"},
  "users": [{"id": "u1", "email": "owner@acme.test", "type": "owner"}, {"id": "u2", "email": "ana@acme.test"}],
  "groups": [{"id": "g1", "name": "ops"}, {"id": "g2", "name": "dev"}],
  "applications": [{"id": "a1", "name": "ci"}]}`
	v2 := `{"organization": {"id": "acme", "name": "Acme"},
  "users": [{"id": "u0", "email": "owner@acme.test", "type": "owner"}, {"id": "u3", "email": "ana@acme.test"}],
  "groups": [{"id": "g0", "name": "ops"}, {"id": "g2", "name": "ops-old"}],
  "applications": [{"id": "a0", "name": "ci"}]}`
	store := newStore()
	apply(t, store, map[string]string{"acme.json": v1})
	apply(t, store, map[string]string{"acme.json": v2})
	want := newStore()
	require.NoError(t, iam.Load(context.Background(), want, "acme.json", []byte(v2)))
	requireSameContents(t, read(t, want, "acme"), read(t, store, "acme"))
	res := apply(t, store, map[string]string{"acme.json": v2})
	assert.Empty(t, res.Changes)
}
