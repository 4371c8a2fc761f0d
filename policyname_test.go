package iam

import (
	"context"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// seedPolicyFile is the seed example's policy object: no "id", no "name".
const seedPolicyFile = `{"application": "production-c", "rules": [
  {"projects": ["A"], "permission_sets": ["InstancesFullAccess", "ObjectStorageReadOnly", "RelationalDatabasesFullAccess"]},
  {"projects": ["F"], "permission_sets": ["ContainerRegistryFullAccess", "ContainersReadOnly", "RelationalDatabasesFullAccess"]}
]}`

func TestLoadingANamelessPolicyFileThreeTimesLeavesOnePolicy(t *testing.T) {
	ctx := context.Background()
	store := newLoadStore()
	require.NoError(t, LoadFile(ctx, store, "testdata/seed.json"))
	before, err := store.ListPolicies(ctx, "acme")
	require.NoError(t, err)

	require.NoError(t, Load(ctx, store, "prodc.json", []byte(seedPolicyFile)))
	err = Load(ctx, store, "prodc.json", []byte(seedPolicyFile))
	require.ErrorIs(t, err, ErrConflict, "a second load names the same policy: a conflict, never a duplicate")
	require.NoError(t, Load(ctx, store, "prodc.json", []byte(seedPolicyFile), ReplaceExisting()))

	after, err := store.ListPolicies(ctx, "acme")
	require.NoError(t, err)
	require.Len(t, after, len(before)+1, "three loads of one policy file leave one policy")
	p, err := store.GetPolicy(ctx, "application-production-c")
	require.NoError(t, err, "the policy is named after its principal")
	assert.Equal(t, "application-production-c", p.Name)
	assert.Equal(t, ApplicationPrincipal("production-c"), p.Principal)
}

func TestRemovingARuleFromAPolicyFileRemovesTheGrant(t *testing.T) {
	ctx := context.Background()
	store := newLoadStore()
	require.NoError(t, LoadFile(ctx, store, "testdata/seed.json"))
	ev, err := NewEvaluator(ctx, store)
	require.NoError(t, err)
	defer ev.Close()
	req := Request{Principal: UserPrincipal("ana@acme.test"), ProjectID: "F", Permission: "InstancesReadOnly"}

	two := `{"user": "ana@acme.test", "rules": [
  {"projects": ["A"], "permission_sets": ["InstancesReadOnly"]},
  {"projects": ["F"], "permission_sets": ["InstancesReadOnly"]}]}`
	require.NoError(t, Load(ctx, store, "ana.json", []byte(two)))
	dec, err := ev.Check(ctx, req)
	require.NoError(t, err)
	require.True(t, dec.Allowed)

	one := `{"user": "ana@acme.test", "rules": [{"projects": ["A"], "permission_sets": ["InstancesReadOnly"]}]}`
	require.NoError(t, Load(ctx, store, "ana.json", []byte(one), ReplaceExisting()))
	dec, err = ev.Check(ctx, req)
	require.NoError(t, err)
	assert.False(t, dec.Allowed, "the rule left the file, so the grant left the store")
}

func TestNamelessPoliciesGetStableDistinctNames(t *testing.T) {
	ctx := context.Background()
	world := `{"organization": {"id": "acme", "name": "Acme"},
  "users": [{"email": "owner@acme.test", "type": "owner"}, {"email": "ana@acme.test"}],
  "groups": [{"name": "ops", "users": ["ana@acme.test"]}],
  "policies": [
    {"name": "user-ana@acme.test", "user": "ana@acme.test", "rules": []},
    {"user": "ANA@acme.test", "rules": [{"organization": true, "permission_sets": ["BillingReadOnly"]}]},
    {"user": "ana@acme.test", "rules": [{"organization": true, "permission_sets": ["ProjectManager"]}]},
    {"group": "ops", "rules": []},
    {"rules": []}
  ]}`
	for range 2 {
		store := newLoadStore()
		require.NoError(t, Load(ctx, store, "acme.json", []byte(world)))
		pols, err := store.ListPolicies(ctx, "acme")
		require.NoError(t, err)
		var ids []string
		for _, p := range pols {
			assert.Equal(t, p.ID, p.Name, "a derived name is the policy's ID too")
			ids = append(ids, p.ID)
		}
		assert.Equal(t, []string{"group-ops", "no-principal", "user-ana@acme.test", "user-ana@acme.test-2", "user-ana@acme.test-3"}, ids)
	}
}

func TestDerivedPolicyNamesStayWithinTheNameLimit(t *testing.T) {
	long := strings.Repeat("x", MaxIDLength)
	a := derivedPolicyName(ApplicationPrincipal(long), func(string) bool { return false })
	b := derivedPolicyName(ApplicationPrincipal(long[:MaxIDLength-1]+"y"), func(string) bool { return false })
	assert.LessOrEqual(t, utf8.RuneCountInString(a), min(MaxNameLength, MaxIDLength))
	assert.NotEqual(t, a, b, "two long IDs that share a prefix get different names")
	assert.True(t, strings.HasPrefix(a, "application-xxx"))
	c := derivedPolicyName(ApplicationPrincipal(long), func(s string) bool { return s == a })
	assert.LessOrEqual(t, utf8.RuneCountInString(c), min(MaxNameLength, MaxIDLength))
	assert.NotEqual(t, a, c)
	require.NoError(t, errors.Join(validateName(KindPolicy, a, "name", a, true), validateID(KindPolicy, c, "id")))
}

func TestAPolicyFileNamingNobodyIsToldSo(t *testing.T) {
	ctx := context.Background()
	store := newLoadStore()
	require.NoError(t, LoadFile(ctx, store, "testdata/seed.json"))
	err := Load(ctx, store, "p.json", []byte(`{"user": "ana at acme", "rules": [{"projects": ["A"], "permission_sets": ["InstancesReadOnly"]}]}`))
	require.ErrorIs(t, err, ErrNotFound, "the reference is what is wrong, not the name derived from it")
	assert.Contains(t, err.Error(), `p.json:1:10: user: policy "user-ana-at-acme": no user "ana at acme"`)
}
