package invariants

// All or nothing, the file side ("an invalid write changes nothing",
// docs/semantics.md): for every validation rule, a world file that breaks
// it, built by patching the seed (testdata/seed.json), is rejected with the
// rule's sentinel, and the store (its full dump and revision) and the
// Evaluator are as they were, an organization the file would replace
// included. The API side is in the root package's validation_test.go.
//
// Then the security invariants, each a test named after it.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/iamkit/iam"
	"github.com/iamkit/iam/admin"
	"github.com/iamkit/iam/conditions"
	"github.com/iamkit/iam/iamtest"
	"github.com/iamkit/iam/internal/testkit"
)

// runes is n times r.
func runes(r rune, n int) string { return strings.Repeat(string(r), n) }

// ----- all or nothing, file side -----

// invSeed returns the seed world file, decoded, to patch.
func invSeed(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(testkit.ReadFile(t, "../../testdata/seed.json"), &m))
	return m
}

// invAt walks a decoded JSON document: a string steps into an object, an
// int into a list.
func invAt(doc any, path ...any) map[string]any {
	cur := doc
	for _, step := range path {
		switch s := step.(type) {
		case string:
			cur = cur.(map[string]any)[s]
		case int:
			cur = cur.([]any)[s]
		}
	}
	return cur.(map[string]any)
}

// invAppend appends v to the list at key of obj.
func invAppend(obj map[string]any, key string, v ...any) {
	list, _ := obj[key].([]any)
	obj[key] = append(list, v...)
}

// invJSON decodes a JSON literal, for patches.
func invJSON(s string) any {
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		panic(err)
	}
	return v
}

const invHash = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

// invFileCase is one world file that breaks one rule.
type invFileCase struct {
	name  string
	patch func(m map[string]any) // applied to the seed
	raw   func(seed []byte) []byte
	is    []error // sentinels the error matches
	// noConditions loads into stores without a condition engine (the
	// store that would be replaced is then left out).
	noConditions bool
	opts         []iam.LoadOption
}

// invFileCases lists a world file for every validation rule, and for each
// way a file itself can be wrong.
func invFileCases() []invFileCase {
	long := func(n int) string { return runes('é', n) }
	return []invFileCase{
		// Organization.
		{name: "organization name of 256 runes", patch: func(m map[string]any) { invAt(m, "organization")["name"] = long(256) }, is: []error{iam.ErrInvalid}},
		{name: "organization id with a space", patch: func(m map[string]any) { invAt(m, "organization")["id"] = "ac me" }, is: []error{iam.ErrInvalid}},
		{name: "organization id of 129 runes", patch: func(m map[string]any) { invAt(m, "organization")["id"] = runes('x', 129) }, is: []error{iam.ErrInvalid}},
		{name: "organization missing", patch: func(m map[string]any) { delete(m, "organization") }, is: []error{iam.ErrInvalid}},
		{name: "IntoOrganization names another organization", patch: func(map[string]any) {}, is: []error{iam.ErrInvalid}, opts: []iam.LoadOption{iam.IntoOrganization("globex")}},
		// Projects.
		{name: "project name of 256 runes", patch: func(m map[string]any) {
			invAt(m, "projects", 0)["id"] = "A"
			invAt(m, "projects", 0)["name"] = long(256)
		}, is: []error{iam.ErrInvalid}},
		{name: "project description of 201 runes", patch: func(m map[string]any) { invAt(m, "projects", 1)["description"] = long(201) }, is: []error{iam.ErrInvalid}},
		{name: "project id with a space", patch: func(m map[string]any) { invAt(m, "projects", 1)["id"] = "f f" }, is: []error{iam.ErrInvalid}},
		// Users.
		{name: "user email without @", patch: func(m map[string]any) {
			invAt(m, "users", 1)["id"] = "ana@acme.test"
			invAt(m, "users", 1)["email"] = "ana.acme.test"
		}, is: []error{iam.ErrInvalid}},
		{name: "user of type admin", patch: func(m map[string]any) { invAt(m, "users", 1)["type"] = "admin" }, is: []error{iam.ErrInvalid}},
		{name: "a second owner", patch: func(m map[string]any) { invAt(m, "users", 1)["type"] = "owner" }, is: []error{iam.ErrConflict}},
		{name: "a locked owner", patch: func(m map[string]any) { invAt(m, "users", 0)["locked"] = true }, is: []error{iam.ErrInvalid, iam.ErrForbidden}},
		{name: "user with 11 tags", patch: func(m map[string]any) {
			invAt(m, "users", 1)["tags"] = invJSON(`["1","2","3","4","5","6","7","8","9","10","11"]`)
		}, is: []error{iam.ErrInvalid}},
		{name: "username of 256 runes", patch: func(m map[string]any) { invAt(m, "users", 1)["username"] = long(256) }, is: []error{iam.ErrInvalid}},
		// Applications.
		{name: "application name of 256 runes", patch: func(m map[string]any) {
			invAt(m, "applications", 0)["id"] = "production-c"
			invAt(m, "applications", 0)["name"] = long(256)
		}, is: []error{iam.ErrInvalid}},
		{name: "application description of 201 runes", patch: func(m map[string]any) { invAt(m, "applications", 0)["description"] = long(201) }, is: []error{iam.ErrInvalid}},
		{name: "application tag of 71 runes", patch: func(m map[string]any) { invAt(m, "applications", 0)["tags"] = []any{long(71)} }, is: []error{iam.ErrInvalid}},
		{name: "empty tag", patch: func(m map[string]any) { invAt(m, "applications", 0)["tags"] = []any{""} }, is: []error{iam.ErrInvalid}},
		// Groups.
		{name: "group name used twice", patch: func(m map[string]any) {
			invAppend(m, "groups", invJSON(`{"id": "billing-2", "name": "Billing"}`))
		}, is: []error{iam.ErrConflict}},
		{name: "group of all users listing users", patch: func(m map[string]any) { invAt(m, "groups", 0)["all_users"] = true }, is: []error{iam.ErrInvalid}},
		{name: "group of all applications listing applications", patch: func(m map[string]any) {
			invAt(m, "groups", 0)["all_applications"] = true
			invAt(m, "groups", 0)["applications"] = []any{"production-c"}
		}, is: []error{iam.ErrInvalid}},
		{name: "group member unknown", patch: func(m map[string]any) { invAt(m, "groups", 0)["users"] = []any{"nobody@acme.test"} }, is: []error{iam.ErrInvalid, iam.ErrNotFound}},
		{name: "group member of another organization", patch: func(m map[string]any) { invAt(m, "groups", 0)["users"] = []any{"u-bob"} }, is: []error{iam.ErrInvalid}},
		{name: "group name of 256 runes", patch: func(m map[string]any) {
			invAt(m, "groups", 0)["id"] = "Billing"
			invAt(m, "groups", 0)["name"] = long(256)
		}, is: []error{iam.ErrInvalid}},
		// API keys.
		{name: "API key without a bearer", patch: func(m map[string]any) { delete(invAt(m, "api_keys", 0), "application") }, is: []error{iam.ErrInvalid}},
		{name: "API key with two bearers", patch: func(m map[string]any) { invAt(m, "api_keys", 0)["user"] = "ana@acme.test" }, is: []error{iam.ErrInvalid}},
		{name: "API key without secret_sha256", patch: func(m map[string]any) { delete(invAt(m, "api_keys", 0), "secret_sha256") }, is: []error{iam.ErrInvalid}},
		{name: "API key with a malformed secret_sha256", patch: func(m map[string]any) { invAt(m, "api_keys", 0)["secret_sha256"] = "xyz" }, is: []error{iam.ErrInvalid}},
		{name: "API key with an upper-case secret_sha256", patch: func(m map[string]any) {
			invAt(m, "api_keys", 0)["secret_sha256"] = strings.ToUpper(invHash)
		}, is: []error{iam.ErrInvalid}},
		{name: "API key with a plain secret", patch: func(m map[string]any) { invAt(m, "api_keys", 0)["secret"] = "test" }, is: []error{iam.ErrInvalid}},
		{name: "API key expiry not RFC 3339", patch: func(m map[string]any) { invAt(m, "api_keys", 0)["expires_at"] = "2030-01-01" }, is: []error{iam.ErrInvalid}},
		{name: "API key bearer unknown", patch: func(m map[string]any) { invAt(m, "api_keys", 0)["application"] = "nope" }, is: []error{iam.ErrInvalid, iam.ErrNotFound}},
		{name: "API key bearer of another organization", patch: func(m map[string]any) { invAt(m, "api_keys", 0)["application"] = "a-web" }, is: []error{iam.ErrInvalid}},
		{name: "API key default project of another organization", patch: func(m map[string]any) {
			invAt(m, "api_keys", 0)["default_project_id"] = "p-web"
		}, is: []error{iam.ErrInvalid}},
		{name: "API key description of 201 runes", patch: func(m map[string]any) { invAt(m, "api_keys", 0)["description"] = long(201) }, is: []error{iam.ErrInvalid}},
		// Permission sets.
		{name: "permission set name with a space", patch: func(m map[string]any) {
			m["permission_sets"] = invJSON(`[{"name": "Bad Name", "scope_type": "projects", "permissions": ["a:b:c"]}]`)
		}, is: []error{iam.ErrInvalid}},
		{name: "permission set of an unknown scope type", patch: func(m map[string]any) {
			m["permission_sets"] = invJSON(`[{"name": "Mine", "scope_type": "everywhere", "permissions": ["a:b:c"]}]`)
		}, is: []error{iam.ErrInvalid}},
		{name: "permission pattern of two segments", patch: func(m map[string]any) {
			m["permission_sets"] = invJSON(`[{"name": "Mine", "scope_type": "projects", "permissions": ["a:b"]}]`)
		}, is: []error{iam.ErrInvalid}},
		{name: "permission pattern with a partial star", patch: func(m map[string]any) {
			m["permission_sets"] = invJSON(`[{"name": "Mine", "scope_type": "projects", "permissions": ["a:b*:c"]}]`)
		}, is: []error{iam.ErrInvalid}},
		{name: "permission pattern in upper case", patch: func(m map[string]any) {
			m["permission_sets"] = invJSON(`[{"name": "Mine", "scope_type": "projects", "permissions": ["A:b:c"]}]`)
		}, is: []error{iam.ErrInvalid}},
		{name: "permission set holding nothing", patch: func(m map[string]any) {
			m["permission_sets"] = invJSON(`[{"name": "Mine", "scope_type": "projects"}]`)
		}, is: []error{iam.ErrInvalid}},
		{name: "permission set including an unknown set", patch: func(m map[string]any) {
			m["permission_sets"] = invJSON(`[{"name": "Mine", "scope_type": "projects", "includes": ["Nope"]}]`)
		}, is: []error{iam.ErrInvalid, iam.ErrUnknownPermission}},
		{name: "permission set including a set of the other scope type", patch: func(m map[string]any) {
			m["permission_sets"] = invJSON(`[{"name": "Mine", "scope_type": "projects", "includes": ["BillingReadOnly"]}]`)
		}, is: []error{iam.ErrInvalid, iam.ErrScopeMismatch}},
		{name: "permission sets including each other", patch: func(m map[string]any) {
			m["permission_sets"] = invJSON(`[{"name": "X", "scope_type": "projects", "includes": ["Y"], "permissions": ["a:b:c"]},
			                                 {"name": "Y", "scope_type": "projects", "includes": ["X"], "permissions": ["a:b:d"]}]`)
		}, is: []error{iam.ErrInvalid}},
		{name: "permission set reusing a catalogue name", patch: func(m map[string]any) {
			m["permission_sets"] = invJSON(`[{"name": "InstancesFullAccess", "scope_type": "projects", "permissions": ["a:b:c"]}]`)
		}, is: []error{iam.ErrConflict}},
		{name: "permission set defined twice", patch: func(m map[string]any) {
			m["permission_sets"] = invJSON(`[{"name": "Mine", "scope_type": "projects", "permissions": ["a:b:c"]},
			                                 {"name": "Mine", "scope_type": "projects", "permissions": ["a:b:d"]}]`)
		}, is: []error{iam.ErrConflict}},
		{name: "permission set with 11 categories", patch: func(m map[string]any) {
			m["permission_sets"] = invJSON(`[{"name": "Mine", "scope_type": "projects", "permissions": ["a:b:c"],
			                                  "categories": ["1","2","3","4","5","6","7","8","9","10","11"]}]`)
		}, is: []error{iam.ErrInvalid}},
		// Policies and rules.
		{name: "rule without a scope", patch: func(m map[string]any) { delete(invAt(m, "policies", 0, "rules", 0), "projects") }, is: []error{iam.ErrInvalid}},
		{name: "rule with both scopes", patch: func(m map[string]any) { invAt(m, "policies", 0, "rules", 0)["organization"] = true }, is: []error{iam.ErrInvalid}},
		{name: "rule with an empty list of projects", patch: func(m map[string]any) { invAt(m, "policies", 0, "rules", 0)["projects"] = []any{} }, is: []error{iam.ErrInvalid}},
		{name: "rule without permission sets", patch: func(m map[string]any) { invAt(m, "policies", 0, "rules", 1)["permission_sets"] = []any{} }, is: []error{iam.ErrInvalid}},
		{name: "rule naming an unknown permission set", patch: func(m map[string]any) {
			invAt(m, "policies", 0, "rules", 0)["permission_sets"] = []any{"InstanceFullAccess"}
		}, is: []error{iam.ErrInvalid, iam.ErrUnknownPermission}},
		{name: "rule naming a triple instead of a set", patch: func(m map[string]any) {
			invAt(m, "policies", 0, "rules", 0)["permission_sets"] = []any{"instance:server:create"}
		}, is: []error{iam.ErrInvalid, iam.ErrUnknownPermission}},
		{name: "rule mixing scope types", patch: func(m map[string]any) {
			invAt(m, "policies", 0, "rules", 2)["permission_sets"] = []any{"BillingReadOnly", "InstancesFullAccess"}
		}, is: []error{iam.ErrInvalid, iam.ErrScopeMismatch}},
		{name: "organization set granted on projects", patch: func(m map[string]any) {
			invAt(m, "policies", 0, "rules", 0)["permission_sets"] = []any{"BillingReadOnly"}
		}, is: []error{iam.ErrInvalid, iam.ErrScopeMismatch}},
		{name: "condition that does not compile", patch: func(m map[string]any) { invAt(m, "policies", 0, "rules", 2)["condition"] = "request.ip ==" }, is: []error{iam.ErrInvalid}},
		{name: "condition naming an unknown variable", patch: func(m map[string]any) {
			invAt(m, "policies", 0, "rules", 2)["condition"] = "request.agent == 'x'"
		}, is: []error{iam.ErrInvalid}},
		{name: "condition with conditions switched off", patch: func(map[string]any) {}, is: []error{iam.ErrInvalid}, noConditions: true},
		{name: "policy with two principals", patch: func(m map[string]any) { invAt(m, "policies", 0)["user"] = "ana@acme.test" }, is: []error{iam.ErrInvalid}},
		{name: "policy principal unknown", patch: func(m map[string]any) { invAt(m, "policies", 0)["application"] = "nope" }, is: []error{iam.ErrInvalid, iam.ErrNotFound}},
		{name: "policy principal of another organization", patch: func(m map[string]any) { invAt(m, "policies", 0)["application"] = "a-web" }, is: []error{iam.ErrInvalid}},
		{name: "rule project of another organization", patch: func(m map[string]any) {
			invAt(m, "policies", 0, "rules", 0)["projects"] = []any{"p-web"}
		}, is: []error{iam.ErrInvalid}},
		{name: "rule project unknown", patch: func(m map[string]any) { invAt(m, "policies", 0, "rules", 0)["projects"] = []any{"Z"} }, is: []error{iam.ErrInvalid, iam.ErrNotFound}},
		{name: "policy name of 256 runes", patch: func(m map[string]any) {
			invAt(m, "policies", 0)["id"] = "prod-c"
			invAt(m, "policies", 0)["name"] = long(256)
		}, is: []error{iam.ErrInvalid}},
		{name: "policy description of 201 runes", patch: func(m map[string]any) { invAt(m, "policies", 0)["description"] = long(201) }, is: []error{iam.ErrInvalid}},
		{name: "policy with 11 tags", patch: func(m map[string]any) {
			invAt(m, "policies", 0)["tags"] = invJSON(`["1","2","3","4","5","6","7","8","9","10","11"]`)
		}, is: []error{iam.ErrInvalid}},
		// Bounds on what a file can make large.
		{name: "policy with a rule too many", patch: func(m map[string]any) {
			rules := make([]any, iam.MaxRulesPerPolicy+1)
			for i := range rules {
				rules[i] = invJSON(`{"projects": ["A"], "permission_sets": ["InstancesReadOnly"]}`)
			}
			invAt(m, "policies", 0)["rules"] = rules
		}, is: []error{iam.ErrInvalid}},
		{name: "rule with a permission set too many", patch: func(m map[string]any) {
			invAt(m, "policies", 0, "rules", 0)["permission_sets"] = repeatAny("InstancesReadOnly", iam.MaxPermissionSetsPerRule+1)
		}, is: []error{iam.ErrInvalid}},
		{name: "rule with a project too many", patch: func(m map[string]any) {
			invAt(m, "policies", 0, "rules", 0)["projects"] = repeatAny("A", iam.MaxProjectsPerRule+1)
		}, is: []error{iam.ErrInvalid}},
		{name: "condition a character too long", patch: func(m map[string]any) {
			invAt(m, "policies", 0, "rules", 2)["condition"] = "request.ip == '" + runes('9', iam.MaxConditionLength-15) + "'" // MaxConditionLength+1
		}, is: []error{iam.ErrInvalid}},
		{name: "group with a member too many", patch: func(m map[string]any) {
			invAt(m, "groups", 0)["users"] = repeatAny("ana@acme.test", iam.MaxGroupMembers+1)
		}, is: []error{iam.ErrInvalid}},
		{name: "permission set with a pattern too many", patch: func(m map[string]any) {
			pats := make([]any, iam.MaxPermissionsPerSet+1)
			for i := range pats {
				pats[i] = fmt.Sprintf("shop:item%d:read", i)
			}
			m["permission_sets"] = []any{map[string]any{"name": "Shop", "scope_type": "projects", "permissions": pats}}
		}, is: []error{iam.ErrInvalid}},
		// IDs and references.
		{name: "two entities of the file with one id", patch: func(m map[string]any) {
			invAppend(m, "applications", invJSON(`{"id": "A", "name": "clash"}`))
		}, is: []error{iam.ErrConflict}},
		{name: "an id another organization holds", patch: func(m map[string]any) {
			invAppend(m, "projects", invJSON(`{"id": "p-web", "name": "Web"}`))
		}, is: []error{iam.ErrConflict}},
		{name: "a name-derived id another organization holds", patch: func(m map[string]any) {
			invAppend(m, "groups", invJSON(`{"name": "g-ops"}`))
		}, is: []error{iam.ErrConflict}},
		{name: "an ambiguous reference", patch: func(m map[string]any) {
			m["projects"] = invJSON(`[{"id": "a1", "name": "A"}, {"id": "a2", "name": "A"}, {"name": "F"}]`)
		}, is: []error{iam.ErrInvalid}},
		// The file itself.
		{name: "unknown top-level field", patch: func(m map[string]any) { m["roles"] = []any{} }, is: []error{iam.ErrInvalid}},
		{name: "unknown field in an entity", patch: func(m map[string]any) { invAt(m, "users", 1)["owner"] = true }, is: []error{iam.ErrInvalid}},
		{name: "value of the wrong type", patch: func(m map[string]any) { invAt(m, "users", 1)["locked"] = "yes" }, is: []error{iam.ErrInvalid}},
		{name: "policy keys beside the organization", patch: func(m map[string]any) { m["rules"] = []any{} }, is: []error{iam.ErrInvalid}},
		{name: "syntax error", raw: func(seed []byte) []byte { return seed[:len(seed)-3] }, is: []error{iam.ErrInvalid}},
		{name: "trailing data", raw: func(seed []byte) []byte { return append(slices.Clone(seed), []byte("{}")...) }, is: []error{iam.ErrInvalid}},
		{name: "not an object", raw: func([]byte) []byte { return []byte(`[]`) }, is: []error{iam.ErrInvalid}},
		{name: "empty", raw: func([]byte) []byte { return nil }, is: []error{iam.ErrInvalid}},
	}
}

// repeatAny returns n copies of v, as a JSON list.
func repeatAny(v any, n int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = v
	}
	return out
}

// invLoadStore returns a store holding globex and, unless withoutAcme,
// acme from the seed, with conditions on unless noConditions, and
// an Evaluator on it.
func invLoadStore(t *testing.T, withAcme, noConditions bool) (*iam.MemoryStore, *iam.Evaluator) {
	t.Helper()
	var opts []iam.Option
	if !noConditions {
		opts = append(opts, iam.WithConditions(conditions.New()))
	}
	store := iam.NewMemoryStore(opts...)
	if withAcme {
		testkit.MustLoad(t, store, "../../testdata/seed.json")
	}
	globex := testkit.ReadFile(t, "../../testdata/fuzzseed/globex.json")
	if noConditions {
		globex = []byte(strings.Replace(string(globex), `, "condition": "inIpRange(request.ip, '10.0.0.0/8')"`, "", 1))
	}
	require.NoError(t, iam.Load(context.Background(), store, "globex.json", globex))
	ev, err := iam.NewEvaluator(context.Background(), store, iam.WithClock(testkit.FixedClock))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, ev.Close()) })
	return store, ev
}

// invRequireRejected loads data and asserts the rejection: the sentinels,
// and nothing changed.
func invRequireRejected(t *testing.T, store *iam.MemoryStore, ev *iam.Evaluator, data []byte, is []error, opts ...iam.LoadOption) {
	t.Helper()
	ctx := context.Background()
	before := testkit.Dump(t, store)
	probe := []iam.Request{
		{Principal: iam.ApplicationPrincipal("a-web"), ProjectID: "globex", Permission: "WebRead"},
		{Principal: iam.ApplicationPrincipal("production-c"), ProjectID: "A", Permission: "InstancesFullAccess"},
		{Principal: iam.UserPrincipal("ana@acme.test"), ProjectID: "A", Permission: "InstancesFullAccess"},
	}
	answers := testkit.Answers(ctx, ev, probe)
	err := iam.Load(ctx, store, "bad.json", data, opts...)
	require.Error(t, err, "the file must be rejected:\n%s", data)
	require.True(t, strings.HasPrefix(err.Error(), "iam: "), "%q", err)
	for _, s := range is {
		require.ErrorIs(t, err, s, "%v", err)
	}
	testkit.RequireUnchanged(t, store, before)
	require.Equal(t, before.Revision, ev.Revision(), "the Evaluator saw a change")
	require.Equal(t, answers, testkit.Answers(ctx, ev, probe), "a rejected load changed an answer")
}

func TestInvariantRejectedFileChangesNothing(t *testing.T) {
	t.Parallel()
	seed := testkit.ReadFile(t, "../../testdata/seed.json")
	for _, tc := range invFileCases() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			data := seed
			if tc.raw != nil {
				data = tc.raw(seed)
			} else {
				m := invSeed(t)
				tc.patch(m)
				var err error
				data, err = json.MarshalIndent(m, "", "  ")
				require.NoError(t, err)
			}
			t.Run("new organization", func(t *testing.T) {
				store, ev := invLoadStore(t, false, tc.noConditions)
				invRequireRejected(t, store, ev, data, tc.is, tc.opts...)
			})
			if !tc.noConditions {
				t.Run("replacing the organization", func(t *testing.T) {
					store, ev := invLoadStore(t, true, false)
					invRequireRejected(t, store, ev, data, tc.is, append([]iam.LoadOption{iam.ReplaceExisting()}, tc.opts...)...)
				})
			}
		})
	}
	// The seed itself loads in both set-ups: each case above fails for
	// its own reason.
	store, _ := invLoadStore(t, false, false)
	require.NoError(t, iam.Load(context.Background(), store, "seed.json", seed))
	store, _ = invLoadStore(t, true, false)
	require.NoError(t, iam.Load(context.Background(), store, "seed.json", seed, iam.ReplaceExisting()))
}

// Policy files: a rejected one, even one that would replace a stored
// policy, changes nothing, the policies before the bad one included.
func TestInvariantRejectedPolicyFileChangesNothing(t *testing.T) {
	t.Parallel()
	valid := `{"name": "ok-one", "user": "ana@acme.test", "rules": [{"projects": ["A"], "permission_sets": ["InstancesReadOnly"]}]}`
	for _, tc := range []struct {
		name string
		file string
		into string
		is   []error
	}{
		{"replacing prod-c with an unknown set", `{"name": "prod-c", "application": "production-c", "rules": [{"projects": ["A"], "permission_sets": ["InstanceFullAccess"]}]}`,
			"acme", []error{iam.ErrInvalid, iam.ErrUnknownPermission}},
		{"the second policy of a list is invalid", `{"policies": [` + valid + `, {"name": "bad", "user": "ana@acme.test", "rules": [{"projects": ["A"], "permission_sets": ["BillingReadOnly"]}]}]}`,
			"acme", []error{iam.ErrInvalid, iam.ErrScopeMismatch}},
		{"a principal of another organization", `{"name": "x", "user": "u-bob", "rules": [{"projects": ["A"], "permission_sets": ["InstancesReadOnly"]}]}`,
			"acme", []error{iam.ErrInvalid}},
		{"a project of another organization", `{"name": "x", "user": "ana@acme.test", "rules": [{"projects": ["p-web"], "permission_sets": ["InstancesReadOnly"]}]}`,
			"acme", []error{iam.ErrInvalid}},
		{"two policies with one id", `{"policies": [` + valid + `, ` + valid + `]}`, "acme", []error{iam.ErrConflict}},
		{"a policy id another organization holds", `{"id": "pol-ops", "user": "ana@acme.test", "rules": [{"projects": ["A"], "permission_sets": ["InstancesReadOnly"]}]}`,
			"acme", []error{iam.ErrConflict}},
		{"world keys in a policy file", `{"projects": [], "policies": [` + valid + `]}`, "acme", []error{iam.ErrInvalid}},
		{"an organization not in the store", valid, "initech", []error{iam.ErrNotFound}},
		{"a condition that does not compile", `{"name": "prod-c", "application": "production-c", "rules": [{"organization": true, "permission_sets": ["BillingReadOnly"], "condition": "request.ip =="}]}`,
			"acme", []error{iam.ErrInvalid}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			store, ev := invLoadStore(t, true, false)
			invRequireRejected(t, store, ev, []byte(tc.file), tc.is, iam.IntoOrganization(tc.into), iam.ReplaceExisting())
		})
	}
}

// ----- security invariants -----

// invTemplate is a world file whose names are the same in every
// organization; only its ids (prefixed with the organization's) differ.
// Each organization's "Deploy" set holds different permissions.
const invTemplate = `{
  "organization": {"id": "{{o}}", "name": "Same"},
  "projects": [{"id": "{{o}}-A", "name": "A"}, {"id": "{{o}}-B", "name": "B"}],
  "users": [{"id": "{{o}}-owner", "email": "owner@same.test", "type": "owner"},
            {"id": "{{o}}-ana", "email": "ana@same.test", "username": "ana"},
            {"id": "{{o}}-bob", "email": "bob@same.test", "username": "bob"}],
  "applications": [{"id": "{{o}}-ci", "name": "ci"}],
  "groups": [{"id": "{{o}}-team", "name": "team", "users": ["ana@same.test"], "applications": ["ci"]},
             {"id": "{{o}}-all", "name": "all", "all_users": true, "all_applications": true}],
  "api_keys": [{"access_key": "{{O}}KEY", "user": "ana@same.test", "secret_sha256": "` + invHash + `"}],
  "permission_sets": [{"name": "Deploy", "scope_type": "projects", "permissions": [{{deploy}}]},
                      {"name": "Audit", "scope_type": "organization", "permissions": ["app:audit:read"]}],
  "policies": [
    {"id": "{{o}}-team-pol", "name": "team", "group": "team", "rules": [
      {"projects": ["A"], "permission_sets": ["Deploy", "InstancesFullAccess"]},
      {"organization": true, "permission_sets": ["Audit", "IAMManager"]}]},
    {"id": "{{o}}-bob-pol", "name": "bob", "user": "bob@same.test", "rules": [
      {"organization": true, "permission_sets": ["AllProductsFullAccess", "Deploy"]}]},
    {"id": "{{o}}-all-pol", "name": "all", "group": "all", "rules": [
      {"projects": ["B"], "permission_sets": ["ObjectStorageReadOnly"]}]}
  ]
}`

func invOrgFile(org, deploy string) []byte {
	r := strings.NewReplacer("{{o}}", org, "{{O}}", strings.ToUpper(org), "{{deploy}}", deploy)
	return []byte(r.Replace(invTemplate))
}

// invPrincipals lists an organization of invTemplate's callers.
func invPrincipals(org string) []iam.Principal {
	return []iam.Principal{
		iam.UserPrincipal(org + "-owner"), iam.UserPrincipal(org + "-ana"), iam.UserPrincipal(org + "-bob"),
		iam.ApplicationPrincipal(org + "-ci"), iam.GroupPrincipal(org + "-team"), iam.GroupPrincipal(org + "-all"),
		iam.APIKeyPrincipal(strings.ToUpper(org) + "KEY"),
	}
}

func invTargets(org string) []iam.Request {
	return []iam.Request{{ProjectID: org + "-A"}, {ProjectID: org + "-B"}, {ProjectID: org}, {OrganizationID: org}}
}

var invPermissions = []string{"Deploy", "Audit", "app:deploy:run", "app:deploy:stop", "app:audit:read", "InstancesFullAccess",
	"instance:server:create", "IAMManager", "iam:policy:create", "AllProductsFullAccess", "OrganizationManager", "ObjectStorageReadOnly"}

// Two organizations whose projects, users, applications, groups,
// policies and permission sets have the same names (their ids differ):
// nothing granted in one is ever allowed in the other, names resolve
// inside the organization, and each organization's own sets mean what that
// organization says.
func TestInvariantOrganizationIsolation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := iam.NewMemoryStore(iam.WithConditions(conditions.New()))
	require.NoError(t, iam.Load(ctx, store, "o1.json", invOrgFile("o1", `"app:deploy:run"`)))
	require.NoError(t, iam.Load(ctx, store, "o2.json", invOrgFile("o2", `"app:deploy:run", "app:deploy:stop"`)))
	ev, err := iam.NewEvaluator(ctx, store, iam.WithClock(testkit.FixedClock))
	require.NoError(t, err)
	defer ev.Close()

	// Positive controls: inside its organization each grant works.
	for _, o := range []string{"o1", "o2"} {
		for _, req := range []iam.Request{
			{Principal: iam.UserPrincipal(o + "-ana"), ProjectID: o + "-A", Permission: "Deploy"},
			{Principal: iam.APIKeyPrincipal(strings.ToUpper(o) + "KEY"), ProjectID: o + "-A", Permission: "app:deploy:run"},
			{Principal: iam.ApplicationPrincipal(o + "-ci"), OrganizationID: o, Permission: "Audit"},
			{Principal: iam.UserPrincipal(o + "-bob"), ProjectID: o + "-B", Permission: "InstancesFullAccess"},
			{Principal: iam.UserPrincipal(o + "-owner"), OrganizationID: o, Permission: "OrganizationManager"},
		} {
			dec, err := ev.Check(ctx, req)
			require.NoError(t, err, "%+v", req)
			require.True(t, dec.Allowed, "%+v: %+v", req, dec)
		}
	}
	// Each organization's Deploy is its own: o1's does not hold stop.
	_, err = ev.Check(ctx, iam.Request{Principal: iam.UserPrincipal("o1-ana"), ProjectID: "o1-A", Permission: "app:deploy:stop"})
	require.ErrorIs(t, err, iam.ErrUnknownPermission)
	dec, err := ev.Check(ctx, iam.Request{Principal: iam.UserPrincipal("o2-ana"), ProjectID: "o2-A", Permission: "app:deploy:stop"})
	require.NoError(t, err)
	require.True(t, dec.Allowed)

	// Nothing crosses, whoever asks, wherever, for whatever.
	for _, pair := range [][2]string{{"o1", "o2"}, {"o2", "o1"}} {
		from, to := pair[0], pair[1]
		for _, p := range invPrincipals(from) {
			for _, tgt := range invTargets(to) {
				for _, perm := range invPermissions {
					req := tgt
					req.Principal, req.Permission = p, perm
					dec, err := ev.Check(ctx, req)
					require.False(t, dec.Allowed, "allowed across organizations: %+v: %+v", req, dec)
					if err == nil {
						require.Equal(t, iam.ReasonOtherOrganization, dec.Reason, "%+v", req)
					}
					x, err := ev.Explain(ctx, req)
					if err == nil {
						require.False(t, x.Decision.Allowed)
						require.Empty(t, x.Grants, "%+v", req)
					}
				}
			}
		}
		for _, tgt := range invTargets(to) {
			for _, perm := range invPermissions {
				req := tgt
				req.Permission = perm
				who, err := ev.WhoCan(ctx, req)
				if err != nil {
					continue
				}
				for _, p := range who {
					require.True(t, strings.HasPrefix(p.ID, to+"-"), "WhoCan at %+v lists %v of another organization", req, p)
				}
			}
		}
		for _, p := range invPrincipals(from) {
			if p.Type == iam.PrincipalGroup {
				continue
			}
			where, err := ev.WhereCan(ctx, iam.Request{Principal: p, Permission: "InstancesFullAccess"})
			require.NoError(t, err)
			for _, id := range where {
				require.True(t, id == from || strings.HasPrefix(id, from+"-"), "WhereCan for %v lists %q", p, id)
			}
		}
	}

	// Authentication names the key's own bearer.
	bearer, err := ev.Authenticate(ctx, "O1KEY", "test")
	require.NoError(t, err)
	require.Equal(t, iam.UserPrincipal("o1-ana"), bearer)

	// A write naming another organization's entity is rejected.
	before := testkit.Dump(t, store)
	for _, p := range []iam.Policy{
		{OrganizationID: "o1", Principal: iam.UserPrincipal("o2-ana"), Rules: []iam.Rule{testkit.OnProjects(testkit.IDs("o1-A"), "Deploy")}},
		{OrganizationID: "o1", Principal: iam.UserPrincipal("o1-ana"), Rules: []iam.Rule{testkit.OnProjects(testkit.IDs("o2-A"), "Deploy")}},
		{OrganizationID: "o1", Principal: iam.GroupPrincipal("o2-team"), Rules: []iam.Rule{testkit.OnProjects(testkit.IDs("o1-A"), "Deploy")}},
		{OrganizationID: "o1", Principal: iam.UserPrincipal("o1-ana"), Rules: []iam.Rule{testkit.OnOrg("o2", "Audit")}},
	} {
		_, err := store.CreatePolicy(ctx, p)
		require.ErrorIs(t, err, iam.ErrInvalid, "%+v", p)
	}
	_, err = store.CreateGroup(ctx, iam.Group{OrganizationID: "o1", Name: "mixed", UserIDs: testkit.IDs("o1-ana", "o2-ana")})
	require.ErrorIs(t, err, iam.ErrInvalid)
	_, err = store.CreateAPIKey(ctx, iam.APIKey{OrganizationID: "o1", Bearer: iam.UserPrincipal("o2-ana")})
	require.ErrorIs(t, err, iam.ErrInvalid)
	testkit.RequireUnchanged(t, store, before)

	// A policy file names entities by the names they share: they resolve
	// inside the organization it loads into.
	pf := `{"id": "by-name", "user": "ana@same.test", "rules": [{"projects": ["A", "B"], "permission_sets": ["Deploy"]}]}`
	require.NoError(t, iam.Load(ctx, store, "pf.json", []byte(pf), iam.IntoOrganization("o2")))
	got, err := store.GetPolicy(ctx, "by-name")
	require.NoError(t, err)
	require.Equal(t, "o2", got.OrganizationID)
	require.Equal(t, iam.UserPrincipal("o2-ana"), got.Principal)
	require.Equal(t, []string{"o2-A", "o2-B"}, got.Rules[0].Scope.ProjectIDs)
	dec, err = ev.Check(ctx, iam.Request{Principal: iam.UserPrincipal("o1-ana"), ProjectID: "o2-B", Permission: "Deploy"})
	require.NoError(t, err)
	require.False(t, dec.Allowed)

	// Admin: another organization's entities do not exist for a caller.
	adm := admin.New(store, ev).As(iam.UserPrincipal("o1-owner"))
	_, err = adm.GetUser(ctx, "o2-ana")
	require.ErrorIs(t, err, iam.ErrNotFound)
	_, err = adm.ListPolicies(ctx, "o2")
	require.ErrorIs(t, err, iam.ErrNotFound)
}

// invKeyWorld is a world of bearers and their keys: a member with grants
// of its own, of a group, of the all-users group and a conditional one;
// an application and a managed one; the owner; a locked user.
func invKeyWorld(t *testing.T) (w *testkit.World, bearers map[iam.Principal][]iam.APIKey) {
	t.Helper()
	w = testkit.NewWorld(t, iamtest.NewClock(testkit.ClockStart), iam.WithConditions(conditions.New()))
	w.Project(w.Org, "p1")
	w.Project(w.Org, "p2")
	m := iam.UserPrincipal(w.User(w.Org, "m"))
	locked := iam.UserPrincipal(w.User(w.Org, "locked"))
	a := iam.ApplicationPrincipal(w.App(w.Org, "a", false))
	ma := iam.ApplicationPrincipal(w.App(w.Org, "ma", true))
	w.Group(iam.Group{ID: "team", OrganizationID: w.Org, UserIDs: testkit.IDs("m", "locked"), ApplicationIDs: testkit.IDs("a")})
	w.Group(iam.Group{ID: "everyone", OrganizationID: w.Org, AllUsers: true, AllApplications: true})
	w.Set(iam.PermissionSet{Name: "HostApp", OrganizationID: w.Org, ScopeType: iam.ScopeProjects, Permissions: []string{"host:thing:*"}})
	w.Policy(w.Org, "pol-m", m, testkit.OnProjects(testkit.IDs("p1"), "InstancesFullAccess", "HostApp"))
	w.Policy(w.Org, "pol-team", iam.GroupPrincipal("team"), testkit.OnOrg(w.Org, "ObjectStorageReadOnly"), testkit.OnOrg(w.Org, "IAMManager"))
	w.Policy(w.Org, "pol-everyone", iam.GroupPrincipal("everyone"), testkit.OnProjects(testkit.IDs("p2"), "ContainersReadOnly"))
	_, err := w.Store.CreatePolicy(w.Ctx, iam.Policy{ID: "pol-cond", OrganizationID: w.Org, Principal: m, Rules: []iam.Rule{
		{Scope: iam.OrganizationScope(w.Org), PermissionSets: []string{"BillingReadOnly"}, Condition: `request.ip == "203.0.113.7"`}}})
	require.NoError(t, err)
	w.Policy(w.Org, "pol-a", a, testkit.OnProjects(testkit.IDs("p2"), "InstancesReadOnly"))
	w.Policy(w.Org, "pol-ma", ma, testkit.OnProjects(testkit.IDs("p1"), "RelationalDatabasesFullAccess"))
	w.Policy(w.Org, "pol-locked", locked, testkit.OnOrg(w.Org, "AllProductsFullAccess"))

	bearers = map[iam.Principal][]iam.APIKey{}
	for _, b := range []iam.Principal{m, locked, a, ma, iam.UserPrincipal(w.Owner)} {
		bearers[b] = append(bearers[b],
			w.Key(iam.APIKey{OrganizationID: w.Org, Bearer: b, DefaultProjectID: "p2"}),
			w.Key(iam.APIKey{OrganizationID: w.Org, Bearer: b, ExpiresAt: testkit.ClockStart.Add(time.Hour)}))
	}
	_, err = w.Store.UpdateUser(w.Ctx, iam.User{ID: "locked", OrganizationID: w.Org, Email: "locked@acme.test", Locked: true})
	require.NoError(t, err)
	return w, bearers
}

// invAllPermissions is every catalogue set name, the organization's own
// sets and a few triples.
func invAllPermissions(t *testing.T, w *testkit.World) []string {
	t.Helper()
	var out []string
	for _, org := range []string{"", w.Org} {
		sets, err := w.Store.ListPermissionSets(w.Ctx, org)
		require.NoError(t, err)
		for _, s := range sets {
			out = append(out, s.Name)
		}
	}
	return append(out, "instance:server:create", "host:thing:do", "billing:invoice:read", "iam:api_key:create", "object_storage:bucket:read")
}

// An API key is allowed exactly what its bearer is, and nothing once it
// has expired: never more, whatever the target, the permission or the
// condition context.
func TestInvariantAPIKeyNeverExceedsBearer(t *testing.T) {
	t.Parallel()
	w, bearers := invKeyWorld(t)
	perms := invAllPermissions(t, w)
	targets := []iam.Request{{ProjectID: "p1"}, {ProjectID: "p2"}, {ProjectID: w.Org}, {OrganizationID: w.Org}}
	ips := []netip.Addr{{}, netip.MustParseAddr("203.0.113.7")}
	for _, at := range []time.Time{testkit.ClockStart, testkit.ClockStart.Add(time.Hour)} {
		w.Clock.Set(at)
		for bearer, keys := range bearers {
			for i, k := range keys {
				expired := !k.ExpiresAt.IsZero() && !at.Before(k.ExpiresAt)
				require.Equal(t, i == 1 && at.Equal(testkit.ClockStart.Add(time.Hour)), expired)
				keyP := iam.APIKeyPrincipal(k.AccessKey)
				for _, tgt := range targets {
					for n, perm := range perms {
						// Each permission once, with or without the IP
						// the conditional rule asks for; BillingReadOnly
						// both ways.
						for _, ip := range ips {
							if perm != "BillingReadOnly" && ip != ips[n%2] {
								continue
							}
							req := tgt
							req.Permission, req.IP = perm, ip
							req.Principal = bearer
							bd, berr := w.Ev.Check(w.Ctx, req)
							req.Principal = keyP
							kd, kerr := w.Ev.Check(w.Ctx, req)
							if kd.Allowed && !bd.Allowed {
								t.Fatalf("key %s is allowed %+v, its bearer %v is not (%+v, %v)", k.AccessKey, req, bearer, bd, berr)
							}
							if expired {
								require.False(t, kd.Allowed, "an expired key is allowed %+v", req)
								continue
							}
							require.Equal(t, fmt.Sprint(berr), fmt.Sprint(kerr), "%+v", req)
							require.Equal(t, bd, kd, "key %s and bearer %v disagree on %+v", k.AccessKey, bearer, req)
						}
					}
					req := tgt
					req.Principal = bearer
					bw, berr := w.Ev.WhatCan(w.Ctx, req)
					req.Principal = keyP
					kw, kerr := w.Ev.WhatCan(w.Ctx, req)
					require.Equal(t, berr == nil, kerr == nil)
					for _, s := range kw {
						require.Contains(t, bw, s, "key %s holds %s at %+v, its bearer does not", k.AccessKey, s, tgt)
					}
					if !expired {
						require.Equal(t, bw, kw)
					}
				}
				bwh, err := w.Ev.WhereCan(w.Ctx, iam.Request{Principal: bearer, Permission: "InstancesFullAccess"})
				require.NoError(t, err)
				kwh, err := w.Ev.WhereCan(w.Ctx, iam.Request{Principal: keyP, Permission: "InstancesFullAccess"})
				require.NoError(t, err)
				for _, p := range kwh {
					require.Contains(t, bwh, p)
				}
			}
		}
	}
	w.Clock.Set(testkit.ClockStart)
}

// An expired key, a deleted (revoked) key and a locked user's credentials
// fail everywhere: Check, Explain, the reverse queries, Authenticate and
// Admin; unlocking restores the user, nothing restores a deleted key.
func TestInvariantExpiredRevokedLockedCredentialsFail(t *testing.T) {
	t.Parallel()
	w := testkit.NewWorld(t, iamtest.NewClock(testkit.ClockStart))
	w.Project(w.Org, "p1")
	u := iam.UserPrincipal(w.User(w.Org, "u"))
	w.Policy(w.Org, "pol-u", u, testkit.OnProjects(testkit.IDs("p1"), "InstancesFullAccess"), testkit.OnOrg(w.Org, "IAMManager"))
	expiry := testkit.ClockStart.Add(time.Hour)
	expiring := w.Key(iam.APIKey{OrganizationID: w.Org, Bearer: u, ExpiresAt: expiry, Secret: "expiring-secret"})
	revoked := w.Key(iam.APIKey{OrganizationID: w.Org, Bearer: u, Secret: "revoked-secret"})
	steady := w.Key(iam.APIKey{OrganizationID: w.Org, Bearer: u, Secret: "steady-secret"})
	adm := admin.New(w.Store, w.Ev)
	inP1 := func(p iam.Principal) iam.Request { return testkit.InProject(p, "p1", "InstancesFullAccess") }
	atOrgIAM := func(p iam.Principal) iam.Request { return testkit.AtOrg(p, w.Org, "IAMManager") }

	// Everything works at first.
	for _, p := range []iam.Principal{u, iam.APIKeyPrincipal(expiring.AccessKey), iam.APIKeyPrincipal(revoked.AccessKey)} {
		w.Expect(t, inP1(p), testkit.Granted)
	}
	b, err := w.Ev.Authenticate(w.Ctx, expiring.AccessKey, "expiring-secret")
	require.NoError(t, err)
	require.Equal(t, u, b)

	// Expired: from ExpiresAt on (now >= ExpiresAt), however it is used.
	for _, at := range []time.Time{expiry, expiry.Add(time.Nanosecond), expiry.Add(365 * 24 * time.Hour)} {
		w.Clock.Set(at)
		k := iam.APIKeyPrincipal(expiring.AccessKey)
		w.Expect(t, inP1(k), testkit.Expired)
		w.Expect(t, atOrgIAM(k), testkit.Expired)
		x, err := w.Ev.Explain(w.Ctx, inP1(k))
		require.NoError(t, err)
		require.False(t, x.Decision.Allowed)
		require.Empty(t, x.Grants)
		what, err := w.Ev.WhatCan(w.Ctx, iam.Request{Principal: k, ProjectID: "p1"})
		require.NoError(t, err)
		require.Empty(t, what)
		where, err := w.Ev.WhereCan(w.Ctx, iam.Request{Principal: k, Permission: "InstancesFullAccess"})
		require.NoError(t, err)
		require.Empty(t, where)
		_, err = w.Ev.Authenticate(w.Ctx, expiring.AccessKey, "expiring-secret")
		require.ErrorIs(t, err, iam.ErrExpired)
		_, err = w.Ev.Authenticate(w.Ctx, expiring.AccessKey, "wrong")
		require.ErrorIs(t, err, iam.ErrUnauthenticated)
		require.NotErrorIs(t, err, iam.ErrExpired, "the expiry is told only to who gave the right secret")
		_, err = w.Ev.AuthenticateSecret(w.Ctx, "expiring-secret")
		require.ErrorIs(t, err, iam.ErrExpired)
		_, err = adm.As(k).ListUsers(w.Ctx, w.Org)
		require.ErrorIs(t, err, iam.ErrForbidden)
		_, err = adm.As(k).CreateAPIKey(w.Ctx, iam.APIKey{OrganizationID: w.Org, Bearer: u})
		require.Error(t, err, "an expired key cannot mint a fresh one")
		w.Expect(t, inP1(iam.APIKeyPrincipal(steady.AccessKey)), testkit.Granted)
	}
	w.Clock.Set(expiry.Add(-time.Nanosecond))
	w.Expect(t, inP1(iam.APIKeyPrincipal(expiring.AccessKey)), testkit.Granted)
	w.Clock.Set(testkit.ClockStart)

	// Revoked: deleting the key fails it at once.
	require.NoError(t, w.Store.DeleteAPIKey(w.Ctx, revoked.AccessKey))
	w.Expect(t, inP1(iam.APIKeyPrincipal(revoked.AccessKey)), testkit.IsNotFound)
	_, err = w.Ev.Authenticate(w.Ctx, revoked.AccessKey, "revoked-secret")
	require.ErrorIs(t, err, iam.ErrUnauthenticated)
	_, err = w.Ev.AuthenticateSecret(w.Ctx, "revoked-secret")
	require.ErrorIs(t, err, iam.ErrUnauthenticated)
	_, err = adm.As(iam.APIKeyPrincipal(revoked.AccessKey)).ListUsers(w.Ctx, w.Org)
	require.Error(t, err)
	// A new key with the same access key and another secret does not
	// bring back the old secret.
	w.Key(iam.APIKey{AccessKey: revoked.AccessKey, OrganizationID: w.Org, Bearer: u, Secret: "fresh-secret"})
	_, err = w.Ev.Authenticate(w.Ctx, revoked.AccessKey, "revoked-secret")
	require.ErrorIs(t, err, iam.ErrUnauthenticated)
	_, err = w.Ev.AuthenticateSecret(w.Ctx, "revoked-secret")
	require.ErrorIs(t, err, iam.ErrUnauthenticated)

	// Locked: the user and every key of it, everywhere, at once.
	lock := func(locked bool) {
		_, err := w.Store.UpdateUser(w.Ctx, iam.User{ID: "u", OrganizationID: w.Org, Email: "u@acme.test", Locked: locked})
		require.NoError(t, err)
	}
	lock(true)
	for _, p := range []iam.Principal{u, iam.APIKeyPrincipal(steady.AccessKey)} {
		w.Expect(t, inP1(p), testkit.Locked)
		w.Expect(t, atOrgIAM(p), testkit.Locked)
		what, err := w.Ev.WhatCan(w.Ctx, iam.Request{Principal: p, OrganizationID: w.Org})
		require.NoError(t, err)
		require.Empty(t, what)
		_, err = adm.As(p).ListUsers(w.Ctx, w.Org)
		require.ErrorIs(t, err, iam.ErrForbidden)
		_, err = adm.As(p).CreateAPIKey(w.Ctx, iam.APIKey{OrganizationID: w.Org, Bearer: u})
		require.ErrorIs(t, err, iam.ErrForbidden, "a locked user cannot create keys, even its own")
	}
	who, err := w.Ev.WhoCan(w.Ctx, inP1(iam.Principal{}))
	require.NoError(t, err)
	require.NotContains(t, who, u)
	_, err = w.Ev.Authenticate(w.Ctx, steady.AccessKey, "steady-secret")
	require.ErrorIs(t, err, iam.ErrForbidden)
	_, err = w.Ev.AuthenticateSecret(w.Ctx, "steady-secret")
	require.ErrorIs(t, err, iam.ErrForbidden)
	_, err = w.Ev.Authenticate(w.Ctx, steady.AccessKey, "wrong")
	require.ErrorIs(t, err, iam.ErrUnauthenticated)
	require.NotErrorIs(t, err, iam.ErrForbidden, "the lock is told only to who gave the right secret")
	lock(false)
	w.Expect(t, inP1(u), testkit.Granted)
	w.Expect(t, inP1(iam.APIKeyPrincipal(steady.AccessKey)), testkit.Granted)
}

// Secrets: the store keeps only a hash; no read, list, change event,
// error message, explanation or decision hook output ever holds a plain
// secret; and Authenticate fails an unknown key and a wrong secret with
// the same error. (That the hash is compared in constant time is a
// property of the code, not observable here.)
func TestInvariantSecretsNeverStoredOrLogged(t *testing.T) {
	t.Parallel()
	w := testkit.NewWorld(t, iamtest.NewClock(testkit.ClockStart))
	w.Project(w.Org, "p1")
	u := iam.UserPrincipal(w.User(w.Org, "u"))
	a := iam.ApplicationPrincipal(w.App(w.Org, "a", false))
	w.Policy(w.Org, "pol-u", u, testkit.OnProjects(testkit.IDs("p1"), "InstancesFullAccess"))

	var (
		mu  sync.Mutex
		log strings.Builder
	)
	record := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(&log, format+"\n", args...)
	}
	cancel := w.Store.Subscribe(func(ch iam.Change) { record("change %#v", ch) })
	defer cancel()
	hooked, err := iam.NewEvaluator(w.Ctx, w.Store, iam.WithClock(w.Clock.Now), iam.WithDecisionHook(
		func(_ context.Context, req iam.Request, dec iam.Decision, err error, _ time.Duration) {
			record("decision %#v %#v %v", req, dec, err)
		}))
	require.NoError(t, err)
	defer hooked.Close()

	generated := w.Key(iam.APIKey{OrganizationID: w.Org, Bearer: u})
	given := w.Key(iam.APIKey{OrganizationID: w.Org, Bearer: a, Secret: "given-secret-0123456789"})
	expiring := w.Key(iam.APIKey{OrganizationID: w.Org, Bearer: u, Secret: "expiring-secret-0123456789", ExpiresAt: testkit.ClockStart.Add(time.Minute)})
	secrets := []string{generated.Secret, given.Secret, expiring.Secret}
	require.NotEmpty(t, generated.Secret, "CreateAPIKey returns the secret once")
	require.Equal(t, "given-secret-0123456789", given.Secret)
	for i, k := range []iam.APIKey{generated, given, expiring} {
		require.Equal(t, iam.HashSecret(secrets[i]), k.SecretSHA256)
		require.NotEqual(t, secrets[i], k.SecretSHA256)
	}

	// Writes that fail with a secret in hand do not echo it.
	var errs []error
	_, err = w.Store.UpdateAPIKey(w.Ctx, iam.APIKey{AccessKey: given.AccessKey, OrganizationID: w.Org, Bearer: a, Secret: "another-secret-0123456789"})
	errs = append(errs, err)
	_, err = w.Store.CreateAPIKey(w.Ctx, iam.APIKey{OrganizationID: w.Org, Bearer: u, Secret: "another-secret-0123456789", SecretSHA256: iam.HashSecret("x")})
	errs = append(errs, err)
	_, err = w.Store.CreateAPIKey(w.Ctx, iam.APIKey{OrganizationID: w.Org, Bearer: u, Secret: "another-secret-0123456789", Description: runes('x', 201)})
	errs = append(errs, err)
	_, err = w.Store.CreateAPIKey(w.Ctx, iam.APIKey{OrganizationID: w.Org, Bearer: iam.UserPrincipal("ghost"), Secret: "another-secret-0123456789"})
	errs = append(errs, err)
	_, err = w.Store.CreateAPIKey(w.Ctx, iam.APIKey{AccessKey: given.AccessKey, OrganizationID: w.Org, Bearer: u, Secret: "another-secret-0123456789"})
	errs = append(errs, err)
	_, err = admin.New(w.Store, w.Ev).As(u).CreateAPIKey(w.Ctx, iam.APIKey{OrganizationID: w.Org, Bearer: a, Secret: "another-secret-0123456789"})
	errs = append(errs, err)
	secrets = append(secrets, "another-secret-0123456789")

	// Checks and authentications through the hooked Evaluator, right and
	// wrong secrets crossed between keys.
	for _, k := range []iam.APIKey{generated, given, expiring} {
		p := iam.APIKeyPrincipal(k.AccessKey)
		_, err := hooked.Check(w.Ctx, testkit.InProject(p, "p1", "InstancesFullAccess"))
		require.NoError(t, err)
		hooked.CheckBatch(w.Ctx, []iam.Request{testkit.InProject(p, "p1", "InstancesFullAccess"), testkit.AtOrg(p, w.Org, "NoSuchSet")})
		x, err := hooked.Explain(w.Ctx, testkit.InProject(p, "p1", "InstancesFullAccess"))
		require.NoError(t, err)
		record("explain %s %#v", x, x)
		for _, s := range secrets {
			_, err := hooked.Authenticate(w.Ctx, k.AccessKey, s)
			if err != nil {
				errs = append(errs, err)
			}
		}
	}
	secrets = append(secrets, "not-a-secret-0123456789")
	for _, s := range secrets {
		if _, err := hooked.AuthenticateSecret(w.Ctx, s); err != nil {
			errs = append(errs, err)
		}
	}
	w.Clock.Set(testkit.ClockStart.Add(time.Hour))
	_, err = hooked.Authenticate(w.Ctx, expiring.AccessKey, expiring.Secret)
	require.ErrorIs(t, err, iam.ErrExpired)
	errs = append(errs, err)
	_, err = hooked.AuthenticateSecret(w.Ctx, expiring.Secret)
	require.ErrorIs(t, err, iam.ErrExpired)
	errs = append(errs, err)
	w.Clock.Set(testkit.ClockStart)

	for _, err := range errs {
		require.Error(t, err)
		record("error %v %#v", err, err)
	}
	record("dump %#v", testkit.Dump(t, w.Store))
	got, err := w.Store.GetAPIKey(w.Ctx, given.AccessKey)
	require.NoError(t, err)
	require.Empty(t, got.Secret)
	record("get %#v", got)
	list, err := w.Store.ListAPIKeys(w.Ctx, w.Org)
	require.NoError(t, err)
	for _, k := range list {
		require.Empty(t, k.Secret)
	}
	record("list %#v", list)

	mu.Lock()
	text := log.String()
	mu.Unlock()
	require.Contains(t, text, "decision", "the hook ran")
	require.Contains(t, text, "change", "the change feed ran")
	for _, s := range secrets {
		require.NotContains(t, text, s, "a plain secret leaked")
	}

	// No oracle: an unknown key and a wrong secret fail alike.
	const unknown = "SCWNOSUCHKEY000000000"
	errUnknown := func(secret string) error { _, err := w.Ev.Authenticate(w.Ctx, unknown, secret); return err }
	for _, tc := range []struct {
		name string
		key  string
	}{{"wrong secret", generated.AccessKey}, {"wrong secret of an expired key", expiring.AccessKey}} {
		if tc.key == expiring.AccessKey {
			w.Clock.Set(testkit.ClockStart.Add(time.Hour))
		}
		_, wrong := w.Ev.Authenticate(w.Ctx, tc.key, "not-the-secret")
		w.Clock.Set(testkit.ClockStart)
		nokey := errUnknown("not-the-secret")
		for _, err := range []error{wrong, nokey} {
			require.ErrorIs(t, err, iam.ErrUnauthenticated, tc.name)
			for _, other := range []error{iam.ErrNotFound, iam.ErrExpired, iam.ErrForbidden, iam.ErrInvalid} {
				require.NotErrorIs(t, err, other, tc.name)
			}
		}
		require.Equal(t, reflect.TypeOf(nokey), reflect.TypeOf(wrong), tc.name)
		require.Equal(t, strings.ReplaceAll(nokey.Error(), unknown, "KEY"), strings.ReplaceAll(wrong.Error(), tc.key, "KEY"), tc.name)
	}
}

// Nobody, whatever their rights (the owner, IAM and organization
// managers, applications and groups holding IAMManager, keys of any of
// them), creates an API key for another human user, in its organization or
// another; a user creates its own, and IAM managers create keys for
// applications.
func TestInvariantNobodyCreatesKeysForAnotherHuman(t *testing.T) {
	t.Parallel()
	w := testkit.NewWorld(t, iamtest.NewClock(testkit.ClockStart))
	victim := iam.UserPrincipal(w.User(w.Org, "victim"))
	iamUser := iam.UserPrincipal(w.User(w.Org, "iam-manager"))
	orgUser := iam.UserPrincipal(w.User(w.Org, "org-manager"))
	lockedUser := iam.UserPrincipal(w.User(w.Org, "locked"))
	bot := iam.ApplicationPrincipal(w.App(w.Org, "bot", false))
	owner := iam.UserPrincipal(w.Owner)
	w.Group(iam.Group{ID: "admins", OrganizationID: w.Org, UserIDs: testkit.IDs("iam-manager")})
	w.Policy(w.Org, "pol-iam", iamUser, testkit.OnOrg(w.Org, "IAMManager"))
	w.Policy(w.Org, "pol-org", orgUser, testkit.OnOrg(w.Org, "OrganizationManager"))
	w.Policy(w.Org, "pol-bot", bot, testkit.OnOrg(w.Org, "IAMManager"))
	w.Policy(w.Org, "pol-admins", iam.GroupPrincipal("admins"), testkit.OnOrg(w.Org, "IAMManager"))
	_, err := w.Store.UpdateUser(w.Ctx, iam.User{ID: "locked", OrganizationID: w.Org, Email: "locked@acme.test", Locked: true})
	require.NoError(t, err)
	w.AddOrg("beta", "beta-owner")
	betaUser := iam.UserPrincipal(w.User("beta", "beta-user"))

	keyOf := func(p iam.Principal) iam.Principal {
		return iam.APIKeyPrincipal(w.Key(iam.APIKey{OrganizationID: w.Org, Bearer: p}).AccessKey)
	}
	type caller struct {
		p    iam.Principal
		self iam.Principal // the user it acts as, if any
	}
	callers := []caller{
		{owner, owner}, {iamUser, iamUser}, {orgUser, orgUser}, {victim, victim},
		{bot, bot}, {iam.GroupPrincipal("admins"), iam.Principal{}},
		{keyOf(owner), owner}, {keyOf(iamUser), iamUser}, {keyOf(bot), bot},
	}
	humans := []iam.Principal{victim, iamUser, orgUser, owner, lockedUser}
	adm := admin.New(w.Store, w.Ev)
	before := testkit.Dump(t, w.Store)
	for _, c := range callers {
		view := adm.As(c.p)
		for _, target := range humans {
			if target == c.self {
				continue
			}
			for _, k := range []iam.APIKey{
				{OrganizationID: w.Org, Bearer: target},
				{OrganizationID: w.Org, Bearer: target, Secret: "chosen-by-the-caller"},
				{OrganizationID: w.Org, Bearer: target, SecretSHA256: iam.HashSecret("chosen")},
				{AccessKey: "SCWSTOLEN", OrganizationID: w.Org, Bearer: target, DefaultProjectID: w.Org},
			} {
				_, err := view.CreateAPIKey(w.Ctx, k)
				require.ErrorIs(t, err, iam.ErrForbidden, "%v created a key for %v", c.p, target)
			}
		}
		// Another organization's human: hidden, and never created.
		for _, k := range []iam.APIKey{{OrganizationID: "beta", Bearer: betaUser}, {OrganizationID: w.Org, Bearer: betaUser}} {
			_, err := view.CreateAPIKey(w.Ctx, k)
			require.Error(t, err, "%v created a key for %v", c.p, betaUser)
		}
	}
	testkit.RequireUnchanged(t, w.Store, before)

	// The allowed cases, as controls.
	own, err := adm.As(victim).CreateAPIKey(w.Ctx, iam.APIKey{OrganizationID: w.Org, Bearer: victim})
	require.NoError(t, err, "a user creates its own key with no right")
	require.NotEmpty(t, own.Secret)
	_, err = adm.As(iamUser).CreateAPIKey(w.Ctx, iam.APIKey{OrganizationID: w.Org, Bearer: bot})
	require.NoError(t, err, "an IAM manager creates keys for applications")
}

// A policy without a principal, or without rules, or whose principal was
// deleted, grants nothing to anyone, however broad its rules.
func TestInvariantUnattachedPoliciesGrantNothing(t *testing.T) {
	t.Parallel()
	w := testkit.NewWorld(t, iamtest.NewClock(testkit.ClockStart))
	w.Project(w.Org, "p1")
	u := iam.UserPrincipal(w.User(w.Org, "u"))
	a := iam.ApplicationPrincipal(w.App(w.Org, "a", false))
	w.User(w.Org, "gone-user")
	w.App(w.Org, "gone-app", false)
	w.Group(iam.Group{ID: "team", OrganizationID: w.Org, UserIDs: testkit.IDs("u"), ApplicationIDs: testkit.IDs("a")})
	w.Group(iam.Group{ID: "gone-group", OrganizationID: w.Org, UserIDs: testkit.IDs("u"), ApplicationIDs: testkit.IDs("a")})
	w.Group(iam.Group{ID: "everyone", OrganizationID: w.Org, AllUsers: true, AllApplications: true})
	broad := []iam.Rule{testkit.OnOrg(w.Org, "AllProductsFullAccess"), testkit.OnOrg(w.Org, "OrganizationManager"), testkit.OnProjects(testkit.IDs("p1", w.Org), "InstancesFullAccess")}
	w.Policy(w.Org, "no-principal", iam.Principal{}, broad...)
	w.Policy(w.Org, "no-rules-u", u)
	w.Policy(w.Org, "no-rules-team", iam.GroupPrincipal("team"))
	w.Policy(w.Org, "no-rules-everyone", iam.GroupPrincipal("everyone"))
	w.Policy(w.Org, "was-user", iam.UserPrincipal("gone-user"), broad...)
	w.Policy(w.Org, "was-app", iam.ApplicationPrincipal("gone-app"), broad...)
	w.Policy(w.Org, "was-group", iam.GroupPrincipal("gone-group"), broad...)
	require.NoError(t, w.Store.DeleteUser(w.Ctx, "gone-user"))
	require.NoError(t, w.Store.DeleteApplication(w.Ctx, "gone-app"))
	require.NoError(t, w.Store.DeleteGroup(w.Ctx, "gone-group"))
	// New principals with the deleted IDs inherit nothing.
	w.User(w.Org, "gone-user")
	w.App(w.Org, "gone-app", false)
	w.Group(iam.Group{ID: "gone-group", OrganizationID: w.Org, UserIDs: testkit.IDs("u")})
	uKey := iam.APIKeyPrincipal(w.Key(iam.APIKey{OrganizationID: w.Org, Bearer: u}).AccessKey)

	policies, err := w.Store.ListPolicies(w.Ctx, w.Org)
	require.NoError(t, err)
	for _, p := range policies {
		if strings.HasPrefix(p.ID, "was-") {
			require.True(t, p.Principal.IsZero(), "policy %s keeps principal %v", p.ID, p.Principal)
		}
	}

	principals := []iam.Principal{u, a, uKey, iam.UserPrincipal("gone-user"), iam.ApplicationPrincipal("gone-app"),
		iam.GroupPrincipal("team"), iam.GroupPrincipal("gone-group"), iam.GroupPrincipal("everyone")}
	targets := []iam.Request{{ProjectID: "p1"}, {ProjectID: w.Org}, {OrganizationID: w.Org}}
	perms := invAllPermissions(t, w)
	for _, tgt := range targets {
		for _, perm := range perms {
			req := tgt
			req.Permission = perm
			for _, p := range principals {
				req.Principal = p
				dec, err := w.Ev.Check(w.Ctx, req)
				require.False(t, dec.Allowed, "an unattached policy grants %+v", req)
				if err == nil {
					require.Equal(t, iam.ReasonNotGranted, dec.Reason)
				}
			}
			req.Principal = iam.Principal{}
			if who, err := w.Ev.WhoCan(w.Ctx, req); err == nil {
				require.Equal(t, []iam.Principal{iam.UserPrincipal(w.Owner)}, who, "WhoCan %+v", req)
			}
		}
		for _, p := range principals {
			req := tgt
			req.Principal = p
			what, err := w.Ev.WhatCan(w.Ctx, req)
			require.NoError(t, err)
			require.Empty(t, what, "%v holds sets at %+v", p, tgt)
		}
	}
}

// Deleting a user, an application or a group revokes everything it gave
// at once: the next check, on every Evaluator, Authenticate, the reverse
// queries and Admin see it, and a principal recreated with the same ID
// gets nothing back.
func TestInvariantDeletingPrincipalRevokesAtOnce(t *testing.T) {
	t.Parallel()
	setup := func(t *testing.T) (*testkit.World, *iam.Evaluator) {
		w := testkit.NewWorld(t, iamtest.NewClock(testkit.ClockStart))
		w.Project(w.Org, "p1")
		w.User(w.Org, "u")
		w.User(w.Org, "other")
		w.App(w.Org, "a", false)
		w.Group(iam.Group{ID: "g", OrganizationID: w.Org, UserIDs: testkit.IDs("u", "other"), ApplicationIDs: testkit.IDs("a")})
		w.Policy(w.Org, "pol-u", iam.UserPrincipal("u"), testkit.OnProjects(testkit.IDs("p1"), "InstancesFullAccess"), testkit.OnOrg(w.Org, "IAMManager"))
		w.Policy(w.Org, "pol-a", iam.ApplicationPrincipal("a"), testkit.OnProjects(testkit.IDs("p1"), "InstancesFullAccess"), testkit.OnOrg(w.Org, "IAMManager"))
		w.Policy(w.Org, "pol-g", iam.GroupPrincipal("g"), testkit.OnProjects(testkit.IDs("p1"), "ObjectStorageFullAccess"), testkit.OnOrg(w.Org, "BillingReadOnly"))
		second, err := iam.NewEvaluator(w.Ctx, w.Store, iam.WithClock(w.Clock.Now))
		require.NoError(t, err)
		t.Cleanup(func() { second.Close() })
		return w, second
	}
	both := func(t *testing.T, w *testkit.World, second *iam.Evaluator, req iam.Request, want testkit.Outcome) {
		t.Helper()
		w.Expect(t, req, want)
		d, err := second.Check(w.Ctx, req)
		if want.Err != nil {
			require.ErrorIs(t, err, want.Err)
			return
		}
		require.NoError(t, err)
		require.Equal(t, want.Allowed, d.Allowed, "second Evaluator: %+v", req)
	}

	for _, kind := range []iam.PrincipalType{iam.PrincipalUser, iam.PrincipalApplication} {
		t.Run(kind.String(), func(t *testing.T) {
			t.Parallel()
			w, second := setup(t)
			p := iam.UserPrincipal("u")
			if kind == iam.PrincipalApplication {
				p = iam.ApplicationPrincipal("a")
			}
			key := w.Key(iam.APIKey{OrganizationID: w.Org, Bearer: p, Secret: "doomed-secret"})
			kp := iam.APIKeyPrincipal(key.AccessKey)
			both(t, w, second, testkit.InProject(p, "p1", "InstancesFullAccess"), testkit.Granted)
			both(t, w, second, testkit.InProject(kp, "p1", "ObjectStorageFullAccess"), testkit.Granted)

			if kind == iam.PrincipalUser {
				require.NoError(t, w.Store.DeleteUser(w.Ctx, "u"))
			} else {
				require.NoError(t, w.Store.DeleteApplication(w.Ctx, "a"))
			}
			for _, perm := range []string{"InstancesFullAccess", "ObjectStorageFullAccess"} {
				both(t, w, second, testkit.InProject(p, "p1", perm), testkit.IsNotFound)
				both(t, w, second, testkit.InProject(kp, "p1", perm), testkit.IsNotFound)
			}
			both(t, w, second, testkit.AtOrg(p, w.Org, "IAMManager"), testkit.IsNotFound)
			_, err := w.Ev.Authenticate(w.Ctx, key.AccessKey, "doomed-secret")
			require.ErrorIs(t, err, iam.ErrUnauthenticated)
			for _, ev := range []*iam.Evaluator{w.Ev, second} {
				for _, perm := range []string{"InstancesFullAccess", "ObjectStorageFullAccess"} {
					who, err := ev.WhoCan(w.Ctx, testkit.InProject(iam.Principal{}, "p1", perm))
					require.NoError(t, err)
					require.NotContains(t, who, p)
				}
			}
			_, err = admin.New(w.Store, w.Ev).As(p).CreatePolicy(w.Ctx, iam.Policy{OrganizationID: w.Org, Principal: iam.UserPrincipal("other"), Rules: []iam.Rule{testkit.OnOrg(w.Org, "IAMManager")}})
			require.Error(t, err, "a deleted IAM manager still writes")
			// The group's other members keep their grant.
			both(t, w, second, testkit.InProject(iam.UserPrincipal("other"), "p1", "ObjectStorageFullAccess"), testkit.Granted)

			if kind == iam.PrincipalUser {
				w.User(w.Org, "u")
			} else {
				w.App(w.Org, "a", false)
			}
			both(t, w, second, testkit.InProject(p, "p1", "InstancesFullAccess"), testkit.NotGranted)
			both(t, w, second, testkit.InProject(p, "p1", "ObjectStorageFullAccess"), testkit.NotGranted)
			both(t, w, second, testkit.InProject(kp, "p1", "InstancesFullAccess"), testkit.IsNotFound)
		})
	}

	t.Run("group", func(t *testing.T) {
		t.Parallel()
		w, second := setup(t)
		members := []iam.Principal{iam.UserPrincipal("u"), iam.UserPrincipal("other"), iam.ApplicationPrincipal("a")}
		for _, m := range members {
			both(t, w, second, testkit.InProject(m, "p1", "ObjectStorageFullAccess"), testkit.Granted)
			both(t, w, second, testkit.AtOrg(m, w.Org, "BillingReadOnly"), testkit.Granted)
		}
		require.NoError(t, w.Store.DeleteGroup(w.Ctx, "g"))
		for _, m := range members {
			both(t, w, second, testkit.InProject(m, "p1", "ObjectStorageFullAccess"), testkit.NotGranted)
			both(t, w, second, testkit.AtOrg(m, w.Org, "BillingReadOnly"), testkit.NotGranted)
		}
		both(t, w, second, testkit.InProject(iam.UserPrincipal("u"), "p1", "InstancesFullAccess"), testkit.Granted)
		both(t, w, second, testkit.InProject(iam.GroupPrincipal("g"), "p1", "ObjectStorageFullAccess"), testkit.IsNotFound)
		who, err := w.Ev.WhoCan(w.Ctx, testkit.AtOrg(iam.Principal{}, w.Org, "BillingReadOnly"))
		require.NoError(t, err)
		require.Equal(t, []iam.Principal{iam.UserPrincipal(w.Owner)}, who)
		w.Group(iam.Group{ID: "g", OrganizationID: w.Org, UserIDs: testkit.IDs("u", "other"), ApplicationIDs: testkit.IDs("a")})
		for _, m := range members {
			both(t, w, second, testkit.InProject(m, "p1", "ObjectStorageFullAccess"), testkit.NotGranted)
		}
	})
}

// The owner is allowed every permission set of the catalogue, and its
// organization's own, in its own organization, and nothing at all in
// another: not through Check, its keys, the reverse queries or Admin.
func TestInvariantOwnerStopsAtItsOrganization(t *testing.T) {
	t.Parallel()
	w := testkit.NewWorld(t, iamtest.NewClock(testkit.ClockStart))
	w.Project(w.Org, "p1")
	w.Set(iam.PermissionSet{Name: "AcmeOwn", OrganizationID: w.Org, ScopeType: iam.ScopeProjects, Permissions: []string{"acme:thing:*"}})
	w.AddOrg("beta", "beta-owner")
	w.Project("beta", "bp1")
	w.User("beta", "bu")
	w.Set(iam.PermissionSet{Name: "BetaOwn", OrganizationID: "beta", ScopeType: iam.ScopeProjects, Permissions: []string{"beta:thing:*"}})
	w.Policy("beta", "beta-pol", iam.UserPrincipal("bu"), testkit.OnOrg("beta", "AllProductsFullAccess"))
	owner := iam.UserPrincipal(w.Owner)
	ownerKey := iam.APIKeyPrincipal(w.Key(iam.APIKey{OrganizationID: w.Org, Bearer: owner}).AccessKey)

	catalogue, err := w.Store.ListPermissionSets(w.Ctx, "")
	require.NoError(t, err)
	for _, p := range []iam.Principal{owner, ownerKey} {
		for _, ps := range append(catalogue, iam.PermissionSet{Name: "AcmeOwn", ScopeType: iam.ScopeProjects}) {
			home := []iam.Request{testkit.AtOrg(p, w.Org, ps.Name)}
			if ps.ScopeType == iam.ScopeProjects {
				home = append(home, testkit.InProject(p, "p1", ps.Name), testkit.InProject(p, w.Org, ps.Name))
			}
			for _, req := range home {
				w.Expect(t, req, testkit.OwnerAllow)
			}
			for _, req := range []iam.Request{testkit.AtOrg(p, "beta", ps.Name), testkit.InProject(p, "bp1", ps.Name), testkit.InProject(p, "beta", ps.Name)} {
				d, err := w.Ev.Check(w.Ctx, req)
				require.False(t, d.Allowed, "the owner of acme is allowed %+v", req)
				if err == nil {
					require.Equal(t, iam.ReasonOtherOrganization, d.Reason)
				}
			}
		}
		for _, req := range []iam.Request{testkit.InProject(p, "bp1", "BetaOwn"), testkit.InProject(p, "bp1", "beta:thing:do"), testkit.AtOrg(p, "beta", "beta:thing:do")} {
			w.Expect(t, req, testkit.OtherOrg)
		}
		what, err := w.Ev.WhatCan(w.Ctx, iam.Request{Principal: p, OrganizationID: "beta"})
		require.NoError(t, err)
		require.Empty(t, what)
		where, err := w.Ev.WhereCan(w.Ctx, iam.Request{Principal: p, Permission: "InstancesFullAccess"})
		require.NoError(t, err)
		require.Equal(t, []string{w.Org, "p1"}, where)
	}
	who, err := w.Ev.WhoCan(w.Ctx, testkit.InProject(iam.Principal{}, "bp1", "InstancesFullAccess"))
	require.NoError(t, err)
	require.Equal(t, []iam.Principal{iam.UserPrincipal("beta-owner"), iam.UserPrincipal("bu")}, who)

	// Admin: beta does not exist for acme's owner, and nothing changes.
	before := testkit.Dump(t, w.Store)
	view := admin.New(w.Store, w.Ev).As(owner)
	var errs []error
	_, err = view.GetUser(w.Ctx, "bu")
	errs = append(errs, err)
	_, err = view.ListUsers(w.Ctx, "beta")
	errs = append(errs, err)
	_, err = view.GetOrganization(w.Ctx, "beta")
	errs = append(errs, err)
	_, err = view.CreateUser(w.Ctx, iam.User{OrganizationID: "beta", Email: "spy@beta.test"})
	errs = append(errs, err)
	_, err = view.UpdateUser(w.Ctx, iam.User{ID: "bu", OrganizationID: "beta", Email: "bu@beta.test", Locked: true})
	errs = append(errs, err)
	errs = append(errs, view.DeleteUser(w.Ctx, "bu"))
	errs = append(errs, view.DeleteProject(w.Ctx, "bp1"))
	errs = append(errs, view.DeletePolicy(w.Ctx, "beta-pol"))
	errs = append(errs, view.DeleteOrganization(w.Ctx, "beta"))
	_, err = view.CreatePolicy(w.Ctx, iam.Policy{OrganizationID: "beta", Principal: iam.UserPrincipal("bu"), Rules: []iam.Rule{testkit.OnOrg("beta", "IAMManager")}})
	errs = append(errs, err)
	_, err = view.CreatePermissionSet(w.Ctx, iam.PermissionSet{Name: "Spy", OrganizationID: "beta", ScopeType: iam.ScopeProjects, Permissions: []string{"a:b:c"}})
	errs = append(errs, err)
	for i, err := range errs {
		require.ErrorIs(t, err, iam.ErrNotFound, "call %d", i)
		require.NotErrorIs(t, err, iam.ErrForbidden, "call %d: another organization looks missing, not forbidden", i)
	}
	orgs, err := view.ListOrganizations(w.Ctx)
	require.NoError(t, err)
	require.Equal(t, []iam.Organization{{ID: w.Org, Name: "Org " + w.Org}}, orgs)
	testkit.RequireUnchanged(t, w.Store, before)
}
