package admin_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iamkit/iam"
	"github.com/iamkit/iam/admin"
)

// testNow is the clock of the Evaluator in these tests.
var testNow = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

// newWorld builds two organizations:
//
//	acme:   olga (owner), ana (member, no rights), ivan (IAMManager),
//	        pia (IAMPolicyManager), paul (ProjectManager), lou (locked,
//	        IAMManager), application ci, project web, and the API keys
//	        KANA, KANAOLD (expired) of ana, KIVAN, KIVANOLD (expired) of
//	        ivan and KCI of ci, group g-team (pia), permission set Builder;
//	globex: gus (owner).
func newWorld(t *testing.T) (*iam.MemoryStore, *admin.Admin) {
	t.Helper()
	ctx := t.Context()
	store := iam.NewMemoryStore()
	for _, org := range []string{"acme", "globex"} {
		_, err := store.CreateOrganization(ctx, iam.Organization{ID: org, Name: org})
		require.NoError(t, err)
	}
	users := []iam.User{
		{ID: "olga", Type: iam.UserOwner},
		{ID: "ana"}, {ID: "ivan"}, {ID: "pia"}, {ID: "paul"},
		{ID: "lou", Locked: true},
	}
	for _, u := range users {
		u.OrganizationID, u.Email = "acme", u.ID+"@acme.test"
		if u.Type == "" {
			u.Type = iam.UserMember
		}
		_, err := store.CreateUser(ctx, u)
		require.NoError(t, err)
	}
	_, err := store.CreateUser(ctx, iam.User{ID: "gus", OrganizationID: "globex", Email: "gus@globex.test", Type: iam.UserOwner})
	require.NoError(t, err)
	_, err = store.CreateApplication(ctx, iam.Application{ID: "ci", OrganizationID: "acme", Name: "ci"})
	require.NoError(t, err)
	_, err = store.CreateProject(ctx, iam.Project{ID: "web", OrganizationID: "acme", Name: "web"})
	require.NoError(t, err)
	_, err = store.CreateGroup(ctx, iam.Group{ID: "g-team", OrganizationID: "acme", Name: "team", UserIDs: []string{"pia"}})
	require.NoError(t, err)
	_, err = store.CreatePermissionSet(ctx, iam.PermissionSet{Name: "Builder", OrganizationID: "acme",
		ScopeType: iam.ScopeProjects, Permissions: []string{"instance:image:create"}})
	require.NoError(t, err)
	for user, set := range map[string]string{"ivan": "IAMManager", "pia": "IAMPolicyManager", "paul": "ProjectManager", "lou": "IAMManager"} {
		_, err := store.CreatePolicy(ctx, grantAt("p-"+user, user, set))
		require.NoError(t, err)
	}
	keys := []iam.APIKey{
		{AccessKey: "KANA", Bearer: iam.UserPrincipal("ana")},
		{AccessKey: "KANAOLD", Bearer: iam.UserPrincipal("ana"), ExpiresAt: testNow.Add(-time.Hour)},
		{AccessKey: "KIVAN", Bearer: iam.UserPrincipal("ivan"), ExpiresAt: testNow.Add(time.Hour)},
		{AccessKey: "KIVANOLD", Bearer: iam.UserPrincipal("ivan"), ExpiresAt: testNow},
		{AccessKey: "KCI", Bearer: iam.ApplicationPrincipal("ci")},
	}
	for _, k := range keys {
		k.OrganizationID = "acme"
		_, err := store.CreateAPIKey(ctx, k)
		require.NoError(t, err)
	}
	ev, err := iam.NewEvaluator(ctx, store, iam.WithClock(func() time.Time { return testNow }))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, ev.Close()) })
	return store, admin.New(store, ev)
}

// grantAt is a policy of acme giving user the organization-scoped set.
func grantAt(id, user, set string) iam.Policy {
	return iam.Policy{ID: id, OrganizationID: "acme", Principal: iam.UserPrincipal(user),
		Rules: []iam.Rule{{Scope: iam.OrganizationScope("acme"), PermissionSets: []string{set}}}}
}

// op is one call through an Admin view.
type op func(ctx context.Context, e iam.Entities) error

func createUser(id string) op {
	return func(ctx context.Context, e iam.Entities) error {
		_, err := e.CreateUser(ctx, iam.User{ID: id, OrganizationID: "acme", Email: id + "@acme.test", Type: iam.UserMember})
		return err
	}
}

func createGroup(ctx context.Context, e iam.Entities) error {
	_, err := e.CreateGroup(ctx, iam.Group{ID: "g-new", OrganizationID: "acme", Name: "ops", UserIDs: []string{"ana"}})
	return err
}

func createApplication(ctx context.Context, e iam.Entities) error {
	_, err := e.CreateApplication(ctx, iam.Application{ID: "app-new", OrganizationID: "acme", Name: "new"})
	return err
}

func createPolicy(ctx context.Context, e iam.Entities) error {
	_, err := e.CreatePolicy(ctx, grantAt("p-new", "ana", "IAMReadOnly"))
	return err
}

func updatePolicy(id string) op {
	return func(ctx context.Context, e iam.Entities) error {
		p := grantAt(id, "ana", "IAMReadOnly")
		_, err := e.UpdatePolicy(ctx, p)
		return err
	}
}

func deletePolicy(id string) op {
	return func(ctx context.Context, e iam.Entities) error { return e.DeletePolicy(ctx, id) }
}

func createPermissionSet(ctx context.Context, e iam.Entities) error {
	_, err := e.CreatePermissionSet(ctx, iam.PermissionSet{Name: "Deployer", OrganizationID: "acme",
		ScopeType: iam.ScopeProjects, Permissions: []string{"instance:server:create"}})
	return err
}

func createProject(ctx context.Context, e iam.Entities) error {
	_, err := e.CreateProject(ctx, iam.Project{ID: "proj-new", OrganizationID: "acme", Name: "new"})
	return err
}

func deleteProject(ctx context.Context, e iam.Entities) error {
	return e.DeleteProject(ctx, "web")
}

func updateOrganization(ctx context.Context, e iam.Entities) error {
	_, err := e.UpdateOrganization(ctx, iam.Organization{ID: "acme", Name: "Acme Inc"})
	return err
}

func createOrganization(ctx context.Context, e iam.Entities) error {
	_, err := e.CreateOrganization(ctx, iam.Organization{ID: "initech", Name: "Initech"})
	return err
}

func createKeyFor(org string, bearer iam.Principal) op {
	return func(ctx context.Context, e iam.Entities) error {
		_, err := e.CreateAPIKey(ctx, iam.APIKey{OrganizationID: org, Bearer: bearer})
		return err
	}
}

func readKey(ak string) op {
	return func(ctx context.Context, e iam.Entities) error {
		_, err := e.GetAPIKey(ctx, ak)
		return err
	}
}

func updateKey(ak string, bearer iam.Principal) op {
	return func(ctx context.Context, e iam.Entities) error {
		_, err := e.UpdateAPIKey(ctx, iam.APIKey{AccessKey: ak, OrganizationID: "acme", Bearer: bearer, Description: "renamed"})
		return err
	}
}

func deleteKey(ak string) op {
	return func(ctx context.Context, e iam.Entities) error { return e.DeleteAPIKey(ctx, ak) }
}

func readUser(id string) op {
	return func(ctx context.Context, e iam.Entities) error {
		_, err := e.GetUser(ctx, id)
		return err
	}
}

func listUsers(org string) op {
	return func(ctx context.Context, e iam.Entities) error {
		_, err := e.ListUsers(ctx, org)
		return err
	}
}

func listPolicies(ctx context.Context, e iam.Entities) error {
	_, err := e.ListPolicies(ctx, "acme")
	return err
}

func TestRules(t *testing.T) {
	t.Parallel()
	var (
		olga    = iam.UserPrincipal("olga")
		ana     = iam.UserPrincipal("ana")
		ivan    = iam.UserPrincipal("ivan")
		pia     = iam.UserPrincipal("pia")
		paul    = iam.UserPrincipal("paul")
		lou     = iam.UserPrincipal("lou")
		gus     = iam.UserPrincipal("gus")
		ci      = iam.ApplicationPrincipal("ci")
		anaKey  = iam.APIKeyPrincipal("KANA")
		anaOld  = iam.APIKeyPrincipal("KANAOLD")
		ivanKey = iam.APIKeyPrincipal("KIVAN")
		ivanOld = iam.APIKeyPrincipal("KIVANOLD")
	)
	const anotherUser = "nobody creates an API key for another user"
	tests := []struct {
		name   string
		caller iam.Principal
		op     op
		want   []error // nil: allowed
		msg    string  // in the error message
	}{
		// The owner may do everything in its organization...
		{name: "owner creates a user", caller: olga, op: createUser("new")},
		{name: "owner creates a group", caller: olga, op: createGroup},
		{name: "owner creates an application", caller: olga, op: createApplication},
		{name: "owner creates a policy", caller: olga, op: createPolicy},
		{name: "owner creates a permission set", caller: olga, op: createPermissionSet},
		{name: "owner creates a project", caller: olga, op: createProject},
		{name: "owner updates the organization", caller: olga, op: updateOrganization},
		{name: "owner deletes a policy", caller: olga, op: deletePolicy("p-pia")},
		{name: "owner creates a key for an application", caller: olga, op: createKeyFor("acme", ci)},
		{name: "owner creates its own key", caller: olga, op: createKeyFor("acme", olga)},
		{name: "owner deletes another's key", caller: olga, op: deleteKey("KANA")},
		{name: "owner reads another's key", caller: olga, op: readKey("KCI")},
		// ...but not create keys for other users, nor organizations.
		{name: "owner may not create a key for another user", caller: olga, op: createKeyFor("acme", ana),
			want: []error{iam.ErrForbidden}, msg: anotherUser},
		{name: "owner may not create organizations", caller: olga, op: createOrganization,
			want: []error{iam.ErrForbidden}, msg: "the host creates organizations directly on the Store"},

		// IAMManager, granted by a policy on the organization.
		{name: "IAM manager creates a user", caller: ivan, op: createUser("new")},
		{name: "IAM manager creates a group", caller: ivan, op: createGroup},
		{name: "IAM manager creates a policy", caller: ivan, op: createPolicy},
		{name: "IAM manager creates a key for an application", caller: ivan, op: createKeyFor("acme", ci)},
		{name: "IAM manager creates a project (IAMManager includes ProjectManager)", caller: ivan, op: createProject},
		{name: "IAM manager deletes another's key", caller: ivan, op: deleteKey("KANA")},
		{name: "IAM manager updates another's key", caller: ivan, op: updateKey("KCI", ci)},
		{name: "IAM manager lists users", caller: ivan, op: listUsers("acme")},
		{name: "IAM manager may not create a key for another user", caller: ivan, op: createKeyFor("acme", ana),
			want: []error{iam.ErrForbidden}, msg: anotherUser},
		{name: "IAM manager may not update the organization", caller: ivan, op: updateOrganization,
			want: []error{iam.ErrForbidden}, msg: "it needs organization:organization:update (held through OrganizationManager or ownership)"},

		// IAMPolicyManager writes policies, nothing else.
		{name: "policy manager creates a policy", caller: pia, op: createPolicy},
		{name: "policy manager updates a policy", caller: pia, op: updatePolicy("p-ivan")},
		{name: "policy manager deletes a policy", caller: pia, op: deletePolicy("p-paul")},
		{name: "policy manager may not create users", caller: pia, op: createUser("new"),
			want: []error{iam.ErrForbidden}, msg: `user "pia" may not create users in organization "acme": it needs iam:user:create`},
		{name: "policy manager may not create keys for applications", caller: pia, op: createKeyFor("acme", ci),
			want: []error{iam.ErrForbidden}, msg: "it needs iam:api_key:create"},

		// ProjectManager writes projects, not policies.
		{name: "project manager creates a project", caller: paul, op: createProject},
		{name: "project manager deletes a project", caller: paul, op: deleteProject},
		{name: "project manager may not create policies", caller: paul, op: createPolicy,
			want: []error{iam.ErrForbidden}, msg: "it needs iam:policy:create"},

		// A member with no rights.
		{name: "member may not create policies", caller: ana, op: createPolicy,
			want: []error{iam.ErrForbidden}, msg: `user "ana" may not create policies in organization "acme": it needs iam:policy:create (held through IAMManager, IAMPolicyManager, OrganizationManager or ownership)`},
		{name: "member may not update a policy", caller: ana, op: updatePolicy("p-ivan"),
			want: []error{iam.ErrForbidden}, msg: `may not update policy "p-ivan" in organization "acme": it needs iam:policy:update`},
		{name: "member may not read another user", caller: ana, op: readUser("olga"),
			want: []error{iam.ErrForbidden}, msg: "it needs iam:user:read"},
		{name: "member may not list policies", caller: ana, op: listPolicies,
			want: []error{iam.ErrForbidden}, msg: "may not list policies in organization \"acme\": it needs iam:policy:list"},
		{name: "member may not create projects", caller: ana, op: createProject,
			want: []error{iam.ErrForbidden}, msg: "it needs project:project:create"},
		{name: "member may not create permission sets", caller: ana, op: createPermissionSet,
			want: []error{iam.ErrForbidden}, msg: "it needs iam:permission_set:create"},
		{name: "member may not delete a missing policy", caller: ana, op: deletePolicy("p-none"),
			want: []error{iam.ErrNotFound}},

		// API keys of one's own.
		{name: "member creates its own key", caller: ana, op: createKeyFor("acme", ana)},
		{name: "member reads its own key", caller: ana, op: readKey("KANA")},
		{name: "member updates its own key", caller: ana, op: updateKey("KANA", ana)},
		{name: "member deletes its own key", caller: ana, op: deleteKey("KANA")},
		{name: "member may not create a key for another user", caller: ana, op: createKeyFor("acme", ivan),
			want: []error{iam.ErrForbidden}, msg: anotherUser},
		{name: "member may not create a key for an application", caller: ana, op: createKeyFor("acme", ci),
			want: []error{iam.ErrForbidden}, msg: `may not create API keys for application "ci" in organization "acme": it needs iam:api_key:create (held through IAMManager, OrganizationManager or ownership)`},
		{name: "member may not read another's key", caller: ana, op: readKey("KCI"),
			want: []error{iam.ErrForbidden}, msg: "it needs iam:api_key:read"},
		{name: "member may not update another's key", caller: ana, op: updateKey("KCI", ci),
			want: []error{iam.ErrForbidden}, msg: "it needs iam:api_key:update"},
		{name: "member may not delete another's key", caller: ana, op: deleteKey("KCI"),
			want: []error{iam.ErrForbidden}, msg: `may not delete API key "KCI" in organization "acme": it needs iam:api_key:delete`},
		{name: "application may not create its own key", caller: ci, op: createKeyFor("acme", ci),
			want: []error{iam.ErrForbidden}, msg: "it needs iam:api_key:create"},
		{name: "application may not extend its own key", caller: ci, op: updateKey("KCI", ci),
			want: []error{iam.ErrForbidden}, msg: "it needs iam:api_key:update"},
		{name: "application reads its own key", caller: ci, op: readKey("KCI")},
		{name: "application deletes its own key", caller: ci, op: deleteKey("KCI")},

		// An API key caller is its bearer, never more.
		{name: "member's key may not create policies", caller: anaKey, op: createPolicy,
			want: []error{iam.ErrForbidden}, msg: `API key "KANA" of user "ana" may not create policies in organization "acme": it needs iam:policy:create`},
		{name: "member's key creates a key for its user", caller: anaKey, op: createKeyFor("acme", ana)},
		{name: "member's key deletes another key of its user", caller: anaKey, op: deleteKey("KANAOLD")},
		{name: "member's key may not create a key for another user", caller: anaKey, op: createKeyFor("acme", ivan),
			want: []error{iam.ErrForbidden}, msg: anotherUser},
		{name: "IAM manager's key creates a user", caller: ivanKey, op: createUser("new")},
		{name: "IAM manager's key may not update the organization", caller: ivanKey, op: updateOrganization,
			want: []error{iam.ErrForbidden}, msg: "it needs organization:organization:update"},

		// An expired key is denied, even for its own user's keys.
		{name: "expired key of an IAM manager may not create a user", caller: ivanOld, op: createUser("new"),
			want: []error{iam.ErrForbidden, iam.ErrExpired}, msg: `API key "KIVANOLD" of user "ivan" may not create users in organization "acme": the API key has expired`},
		{name: "expired key may not renew itself", caller: anaOld, op: createKeyFor("acme", ana),
			want: []error{iam.ErrForbidden, iam.ErrExpired}},
		{name: "expired key may not delete its user's keys", caller: anaOld, op: deleteKey("KANA"),
			want: []error{iam.ErrForbidden, iam.ErrExpired}},

		// A locked user is denied everything, its rights and its own keys alike.
		{name: "locked IAM manager may not create a user", caller: lou, op: createUser("new"),
			want: []error{iam.ErrForbidden}, msg: `user "lou" may not create users in organization "acme": the user is locked`},
		{name: "locked user may not create its own key", caller: lou, op: createKeyFor("acme", lou),
			want: []error{iam.ErrForbidden}, msg: "the user is locked"},

		// Another organization's caller learns nothing, not even existence.
		{name: "cross-org owner reads a user", caller: gus, op: readUser("ana"),
			want: []error{iam.ErrNotFound}, msg: `iam: user "ana": iam: not found`},
		{name: "cross-org owner deletes a policy", caller: gus, op: deletePolicy("p-ivan"),
			want: []error{iam.ErrNotFound}, msg: `iam: policy "p-ivan": iam: not found`},
		{name: "cross-org owner updates a policy", caller: gus, op: updatePolicy("p-ivan"),
			want: []error{iam.ErrNotFound}},
		{name: "cross-org owner creates a user", caller: gus, op: createUser("new"),
			want: []error{iam.ErrNotFound}, msg: `iam: organization "acme": iam: not found`},
		{name: "cross-org owner lists users", caller: gus, op: listUsers("acme"),
			want: []error{iam.ErrNotFound}},
		{name: "cross-org owner deletes a key", caller: gus, op: deleteKey("KANA"),
			want: []error{iam.ErrNotFound}},
		{name: "cross-org owner creates a key for a user", caller: gus, op: createKeyFor("acme", ana),
			want: []error{iam.ErrNotFound}},
		{name: "cross-org owner creates a key for an application", caller: gus, op: createKeyFor("acme", ci),
			want: []error{iam.ErrNotFound}},
		{name: "cross-org owner updates the organization", caller: gus, op: updateOrganization,
			want: []error{iam.ErrNotFound}},
		{name: "cross-org owner deletes a project", caller: gus, op: deleteProject,
			want: []error{iam.ErrNotFound}},

		// Callers that do not exist.
		{name: "unknown caller", caller: iam.UserPrincipal("ghost"), op: createUser("new"),
			want: []error{iam.ErrNotFound}, msg: `user "ghost"`},
		{name: "unknown API key caller", caller: iam.APIKeyPrincipal("KNONE"), op: createKeyFor("acme", ana),
			want: []error{iam.ErrNotFound}},
		{name: "user ID given as an application", caller: iam.ApplicationPrincipal("ana"), op: createUser("new"),
			want: []error{iam.ErrNotFound}},
		{name: "zero caller", caller: iam.Principal{}, op: createUser("new"),
			want: []error{iam.ErrInvalid}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			store, adm := newWorld(t)
			before, err := store.Revision(ctx)
			require.NoError(t, err)

			err = tt.op(ctx, adm.As(tt.caller))

			if tt.want == nil {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			for _, want := range tt.want {
				assert.ErrorIs(t, err, want)
			}
			for _, other := range []error{iam.ErrForbidden, iam.ErrNotFound, iam.ErrExpired} {
				if !slices.Contains(tt.want, other) {
					assert.NotErrorIs(t, err, other)
				}
			}
			if tt.msg != "" {
				assert.Contains(t, err.Error(), tt.msg)
			}
			after, err := store.Revision(ctx)
			require.NoError(t, err)
			assert.Equal(t, before, after, "a refused call wrote to the store")
		})
	}
}

func TestDenialMessage(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	_, adm := newWorld(t)
	_, err := adm.As(iam.UserPrincipal("ana")).CreatePolicy(ctx, grantAt("p-new", "ana", "IAMManager"))
	require.ErrorIs(t, err, iam.ErrForbidden)
	assert.Equal(t, `iam: user "ana" may not create policies in organization "acme": it needs iam:policy:create `+
		`(held through IAMManager, IAMPolicyManager, OrganizationManager or ownership): iam: forbidden`, err.Error())
}

// A caller of another organization gets, for an entity that exists, the
// very error it gets for one that does not.
func TestCrossOrganizationLooksMissing(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	_, adm := newWorld(t)
	gus := adm.As(iam.UserPrincipal("gus"))
	for _, kind := range []struct {
		name string
		op   func(id string) error
		id   string
	}{
		{"user", func(id string) error { _, err := gus.GetUser(ctx, id); return err }, "ana"},
		{"policy", func(id string) error { return gus.DeletePolicy(ctx, id) }, "p-ivan"},
		{"API key", func(id string) error { _, err := gus.GetAPIKey(ctx, id); return err }, "KANA"},
		{"project", func(id string) error { _, err := gus.GetProject(ctx, id); return err }, "web"},
	} {
		t.Run(kind.name, func(t *testing.T) {
			exists := kind.op(kind.id)
			missing := kind.op("missing")
			require.ErrorIs(t, exists, iam.ErrNotFound)
			require.ErrorIs(t, missing, iam.ErrNotFound)
			assert.Equal(t, fmt.Sprintf("iam: %s %q: iam: not found", kind.name, kind.id), exists.Error())
			assert.Equal(t, fmt.Sprintf("iam: %s %q: iam: not found", kind.name, "missing"), missing.Error())
		})
	}
}

func TestListAPIKeys(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	_, adm := newWorld(t)
	accessKeys := func(keys []iam.APIKey) []string {
		var out []string
		for _, k := range keys {
			out = append(out, k.AccessKey)
		}
		return out
	}
	tests := []struct {
		name   string
		caller iam.Principal
		want   []string
	}{
		{"owner lists every key", iam.UserPrincipal("olga"), []string{"KANA", "KANAOLD", "KCI", "KIVAN", "KIVANOLD"}},
		{"IAM manager lists every key", iam.UserPrincipal("ivan"), []string{"KANA", "KANAOLD", "KCI", "KIVAN", "KIVANOLD"}},
		{"member lists its own keys", iam.UserPrincipal("ana"), []string{"KANA", "KANAOLD"}},
		{"member's key lists its user's keys", iam.APIKeyPrincipal("KANA"), []string{"KANA", "KANAOLD"}},
		{"application lists its own keys", iam.ApplicationPrincipal("ci"), []string{"KCI"}},
		{"member without keys lists none", iam.UserPrincipal("pia"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keys, err := adm.As(tt.caller).ListAPIKeys(ctx, "acme")
			require.NoError(t, err)
			assert.ElementsMatch(t, tt.want, accessKeys(keys))
		})
	}

	_, err := adm.As(iam.UserPrincipal("lou")).ListAPIKeys(ctx, "acme")
	assert.ErrorIs(t, err, iam.ErrForbidden, "locked user")
	_, err = adm.As(iam.APIKeyPrincipal("KANAOLD")).ListAPIKeys(ctx, "acme")
	assert.ErrorIs(t, err, iam.ErrExpired, "expired key")
	_, err = adm.As(iam.UserPrincipal("gus")).ListAPIKeys(ctx, "acme")
	assert.ErrorIs(t, err, iam.ErrNotFound, "other organization")
}

func TestOrganizationAndCatalogue(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	_, adm := newWorld(t)

	orgs, err := adm.As(iam.UserPrincipal("olga")).ListOrganizations(ctx)
	require.NoError(t, err)
	assert.Equal(t, []iam.Organization{{ID: "acme", Name: "acme"}}, orgs, "only the caller's own organization")

	_, err = adm.As(iam.UserPrincipal("ana")).GetOrganization(ctx, "acme")
	assert.ErrorIs(t, err, iam.ErrForbidden)
	_, err = adm.As(iam.UserPrincipal("olga")).GetOrganization(ctx, "globex")
	assert.ErrorIs(t, err, iam.ErrNotFound)

	// The built-in catalogue is read with the rights of the caller's own
	// organization, and cannot be written.
	sets, err := adm.As(iam.UserPrincipal("ivan")).ListPermissionSets(ctx, "")
	require.NoError(t, err)
	assert.NotEmpty(t, sets)
	_, err = adm.As(iam.UserPrincipal("ana")).GetPermissionSet(ctx, "", "IAMManager")
	assert.ErrorIs(t, err, iam.ErrForbidden)
	err = adm.As(iam.UserPrincipal("olga")).DeletePermissionSet(ctx, "", "IAMManager")
	assert.ErrorIs(t, err, iam.ErrForbidden)

	// A create without an organization is invalid, before any check.
	_, err = adm.As(iam.UserPrincipal("olga")).CreateGroup(ctx, iam.Group{Name: "ops"})
	var verr *iam.ValidationError
	require.ErrorAs(t, err, &verr)
	assert.Equal(t, "organization_id", verr.Field)
}

// Rights follow the store: a grant written through one view takes effect
// in the next call of another.
func TestGrantThenRevoke(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	_, adm := newWorld(t)
	olga, ana := adm.As(iam.UserPrincipal("olga")), adm.As(iam.UserPrincipal("ana"))

	require.ErrorIs(t, createUser("u1")(ctx, ana), iam.ErrForbidden)
	_, err := olga.CreatePolicy(ctx, grantAt("p-ana", "ana", "IAMUserManager"))
	require.NoError(t, err)
	require.NoError(t, createUser("u1")(ctx, ana))
	require.NoError(t, olga.DeletePolicy(ctx, "p-ana"))
	require.ErrorIs(t, createUser("u2")(ctx, ana), iam.ErrForbidden)
}

// Every method of the view checks the permission of its entity and action:
// a member without rights is refused with that permission named, a caller
// of another organization is told the target does not exist, and the owner
// is let through.
func TestEveryMethodChecks(t *testing.T) {
	t.Parallel()
	get := func(f func(ctx context.Context, e iam.Entities) (any, error)) op {
		return func(ctx context.Context, e iam.Entities) error { _, err := f(ctx, e); return err }
	}
	tests := []struct {
		perm        string
		op          op
		ownAllowed  bool // a member without rights may: it acts on its own
		otherOrgsOK bool // a caller of another organization is answered for its own
	}{
		{perm: "organization:organization:read", op: get(func(ctx context.Context, e iam.Entities) (any, error) { return e.GetOrganization(ctx, "acme") })},
		{perm: "organization:organization:list", op: get(func(ctx context.Context, e iam.Entities) (any, error) { return e.ListOrganizations(ctx) }), otherOrgsOK: true},
		{perm: "organization:organization:update", op: updateOrganization},
		{perm: "organization:organization:delete", op: func(ctx context.Context, e iam.Entities) error { return e.DeleteOrganization(ctx, "acme") }},

		{perm: "project:project:create", op: createProject},
		{perm: "project:project:read", op: get(func(ctx context.Context, e iam.Entities) (any, error) { return e.GetProject(ctx, "web") })},
		{perm: "project:project:list", op: get(func(ctx context.Context, e iam.Entities) (any, error) { return e.ListProjects(ctx, "acme") })},
		{perm: "project:project:update", op: get(func(ctx context.Context, e iam.Entities) (any, error) {
			return e.UpdateProject(ctx, iam.Project{ID: "web", OrganizationID: "acme", Name: "www"})
		})},
		{perm: "project:project:delete", op: deleteProject},

		{perm: "iam:user:create", op: createUser("new")},
		{perm: "iam:user:read", op: readUser("pia")},
		{perm: "iam:user:list", op: listUsers("acme")},
		{perm: "iam:user:update", op: get(func(ctx context.Context, e iam.Entities) (any, error) {
			return e.UpdateUser(ctx, iam.User{ID: "pia", OrganizationID: "acme", Email: "pia@acme.test", Type: iam.UserMember, Username: "pia"})
		})},
		{perm: "iam:user:delete", op: func(ctx context.Context, e iam.Entities) error { return e.DeleteUser(ctx, "pia") }},

		{perm: "iam:application:create", op: createApplication},
		{perm: "iam:application:read", op: get(func(ctx context.Context, e iam.Entities) (any, error) { return e.GetApplication(ctx, "ci") })},
		{perm: "iam:application:list", op: get(func(ctx context.Context, e iam.Entities) (any, error) { return e.ListApplications(ctx, "acme") })},
		{perm: "iam:application:update", op: get(func(ctx context.Context, e iam.Entities) (any, error) {
			return e.UpdateApplication(ctx, iam.Application{ID: "ci", OrganizationID: "acme", Name: "ci-2"})
		})},
		{perm: "iam:application:delete", op: func(ctx context.Context, e iam.Entities) error { return e.DeleteApplication(ctx, "ci") }},

		{perm: "iam:group:create", op: createGroup},
		{perm: "iam:group:read", op: get(func(ctx context.Context, e iam.Entities) (any, error) { return e.GetGroup(ctx, "g-team") })},
		{perm: "iam:group:list", op: get(func(ctx context.Context, e iam.Entities) (any, error) { return e.ListGroups(ctx, "acme") })},
		{perm: "iam:group:update", op: get(func(ctx context.Context, e iam.Entities) (any, error) {
			return e.UpdateGroup(ctx, iam.Group{ID: "g-team", OrganizationID: "acme", Name: "team", UserIDs: []string{"ana"}})
		})},
		{perm: "iam:group:delete", op: func(ctx context.Context, e iam.Entities) error { return e.DeleteGroup(ctx, "g-team") }},

		{perm: "iam:policy:create", op: createPolicy},
		{perm: "iam:policy:read", op: get(func(ctx context.Context, e iam.Entities) (any, error) { return e.GetPolicy(ctx, "p-pia") })},
		{perm: "iam:policy:list", op: listPolicies},
		{perm: "iam:policy:update", op: updatePolicy("p-pia")},
		{perm: "iam:policy:delete", op: deletePolicy("p-pia")},

		{perm: "iam:permission_set:create", op: createPermissionSet},
		{perm: "iam:permission_set:read", op: get(func(ctx context.Context, e iam.Entities) (any, error) {
			return e.GetPermissionSet(ctx, "acme", "Builder")
		})},
		{perm: "iam:permission_set:list", op: get(func(ctx context.Context, e iam.Entities) (any, error) { return e.ListPermissionSets(ctx, "acme") })},
		{perm: "iam:permission_set:update", op: get(func(ctx context.Context, e iam.Entities) (any, error) {
			return e.UpdatePermissionSet(ctx, iam.PermissionSet{Name: "Builder", OrganizationID: "acme",
				ScopeType: iam.ScopeProjects, Permissions: []string{"instance:image:update"}})
		})},
		{perm: "iam:permission_set:delete", op: func(ctx context.Context, e iam.Entities) error {
			return e.DeletePermissionSet(ctx, "acme", "Builder")
		}},

		{perm: "iam:api_key:create", op: createKeyFor("acme", iam.ApplicationPrincipal("ci"))},
		{perm: "iam:api_key:read", op: readKey("KCI")},
		{perm: "iam:api_key:list", op: get(func(ctx context.Context, e iam.Entities) (any, error) { return e.ListAPIKeys(ctx, "acme") }), ownAllowed: true},
		{perm: "iam:api_key:update", op: updateKey("KCI", iam.ApplicationPrincipal("ci"))},
		{perm: "iam:api_key:delete", op: deleteKey("KCI")},
	}
	for _, tt := range tests {
		t.Run(tt.perm, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			store, adm := newWorld(t)
			before, err := store.Revision(ctx)
			require.NoError(t, err)

			err = tt.op(ctx, adm.As(iam.UserPrincipal("ana")))
			if tt.ownAllowed {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, iam.ErrForbidden)
				assert.Contains(t, err.Error(), `user "ana" may not `)
				assert.Contains(t, err.Error(), "it needs "+tt.perm+" (held through ")
			}

			err = tt.op(ctx, adm.As(iam.UserPrincipal("gus")))
			if tt.otherOrgsOK {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, iam.ErrNotFound)
				assert.NotErrorIs(t, err, iam.ErrForbidden)
			}

			after, err := store.Revision(ctx)
			require.NoError(t, err)
			require.Equal(t, before, after, "a refused call wrote to the store")

			require.NoError(t, tt.op(ctx, adm.As(iam.UserPrincipal("olga"))), "the owner may do everything")
		})
	}
}

// A refusal lists the organization's own sets that hold the permission
// beside the catalogue's.
func TestDenialNamesOwnSets(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	store, adm := newWorld(t)
	_, err := store.CreatePermissionSet(ctx, iam.PermissionSet{Name: "UserAdmins", OrganizationID: "acme",
		ScopeType: iam.ScopeOrganization, Permissions: []string{"iam:user:*"}})
	require.NoError(t, err)
	err = createUser("new")(ctx, adm.As(iam.UserPrincipal("ana")))
	require.ErrorIs(t, err, iam.ErrForbidden)
	assert.Contains(t, err.Error(), "it needs iam:user:create (held through IAMManager, IAMUserManager, OrganizationManager, UserAdmins or ownership)")
}

// With a catalogue that names no management permission, the check's
// ErrUnknownPermission passes through, for the owner too.
func TestCatalogueWithoutManagementPermissions(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	store := iam.NewMemoryStore(iam.WithCatalogue(nil))
	_, err := store.CreateOrganization(ctx, iam.Organization{ID: "acme", Name: "acme"})
	require.NoError(t, err)
	_, err = store.CreateUser(ctx, iam.User{ID: "olga", OrganizationID: "acme", Email: "olga@acme.test", Type: iam.UserOwner})
	require.NoError(t, err)
	ev, err := iam.NewEvaluator(ctx, store)
	require.NoError(t, err)
	defer func() { require.NoError(t, ev.Close()) }()

	err = createUser("new")(ctx, admin.New(store, ev).As(iam.UserPrincipal("olga")))
	require.ErrorIs(t, err, iam.ErrUnknownPermission)
	assert.Contains(t, err.Error(), `iam: checking whether user "olga" may create users in organization "acme"`)
}
