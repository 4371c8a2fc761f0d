package conditions_test

import (
	"context"
	"errors"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iamkit/iam"
	"github.com/iamkit/iam/conditions"
)

// TestWithStore runs conditions through the store and the Evaluator: the
// seed file's conditional rule, and a write whose condition does not
// compile.
func TestWithStore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := iam.NewMemoryStore(iam.WithConditions(conditions.New()))
	_, err := store.CreateOrganization(ctx, iam.Organization{ID: "acme", Name: "Acme"})
	require.NoError(t, err)
	_, err = store.CreateApplication(ctx, iam.Application{ID: "production-c", OrganizationID: "acme", Name: "production-c"})
	require.NoError(t, err)
	_, err = store.CreatePolicy(ctx, iam.Policy{ID: "prod-c", OrganizationID: "acme", Principal: iam.ApplicationPrincipal("production-c"),
		Rules: []iam.Rule{{Scope: iam.Scope{OrganizationID: "acme"}, PermissionSets: []string{"BillingReadOnly"}, Condition: `request.ip == '203.0.113.7'`}}})
	require.NoError(t, err)

	_, err = store.CreatePolicy(ctx, iam.Policy{ID: "broken", OrganizationID: "acme", Principal: iam.ApplicationPrincipal("production-c"),
		Rules: []iam.Rule{{Scope: iam.Scope{OrganizationID: "acme"}, PermissionSets: []string{"BillingReadOnly"}, Condition: `request.ip ==`}}})
	require.Error(t, err)
	assert.True(t, errors.Is(err, iam.ErrInvalid))
	assert.Contains(t, err.Error(), "1:14")
	t.Log(err)

	ev, err := iam.NewEvaluator(ctx, store)
	require.NoError(t, err)
	defer ev.Close()
	for _, tc := range []struct {
		ip   string
		want bool
	}{{"203.0.113.7", true}, {"203.0.113.8", false}} {
		dec, err := ev.Check(ctx, iam.Request{Principal: iam.ApplicationPrincipal("production-c"), OrganizationID: "acme",
			Permission: "BillingReadOnly", IP: netip.MustParseAddr(tc.ip)})
		require.NoError(t, err)
		assert.Equal(t, tc.want, dec.Allowed, tc.ip)
	}
}
