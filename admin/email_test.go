package admin_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iamkit/iam"
)

// Nobody but a user itself changes its email through Admin, whatever
// their rights, the owner and IAM managers included: a host that recovers
// accounts by email would hand the account to whoever set the address. An
// API key of the user counts as the user. Other fields stay with
// iam:user:update.
func TestOnlyTheUserItselfChangesItsEmail(t *testing.T) {
	t.Parallel()
	grantIAM := func(t *testing.T, store *iam.MemoryStore) {
		t.Helper()
		_, err := store.CreatePolicy(t.Context(), iam.Policy{ID: "p-ci", OrganizationID: "acme", Principal: iam.ApplicationPrincipal("ci"),
			Rules: []iam.Rule{{Scope: iam.OrganizationScope("acme"), PermissionSets: []string{"IAMManager"}}}})
		require.NoError(t, err)
		_, err = store.CreatePolicy(t.Context(), iam.Policy{ID: "p-team", OrganizationID: "acme", Principal: iam.GroupPrincipal("g-team"),
			Rules: []iam.Rule{{Scope: iam.OrganizationScope("acme"), PermissionSets: []string{"IAMManager"}}}})
		require.NoError(t, err)
	}
	tests := []struct {
		name   string
		caller iam.Principal
		user   string
		change func(*iam.User)
		err    error // nil: allowed
		msg    string
	}{
		{"an IAM manager, another user's email", iam.UserPrincipal("ivan"), "ana", func(u *iam.User) { u.Email = "attacker@evil.test" }, iam.ErrForbidden, "only the user itself"},
		{"the owner, another user's email", iam.UserPrincipal("olga"), "ana", func(u *iam.User) { u.Email = "attacker@evil.test" }, iam.ErrForbidden, "only the user itself"},
		{"an IAM manager's API key", iam.APIKeyPrincipal("KIVAN"), "ana", func(u *iam.User) { u.Email = "attacker@evil.test" }, iam.ErrForbidden, "only the user itself"},
		{"an application with IAMManager", iam.ApplicationPrincipal("ci"), "ana", func(u *iam.User) { u.Email = "attacker@evil.test" }, iam.ErrForbidden, "only the user itself"},
		{"a group with IAMManager", iam.GroupPrincipal("g-team"), "ana", func(u *iam.User) { u.Email = "attacker@evil.test" }, iam.ErrForbidden, "only the user itself"},
		{"the owner, only the case of another user's email", iam.UserPrincipal("olga"), "ivan", func(u *iam.User) { u.Email = "IVAN@acme.test" }, iam.ErrForbidden, "only the user itself"},
		{"an IAM manager, another user's username and tags", iam.UserPrincipal("ivan"), "ana", func(u *iam.User) { u.Username = "ana2"; u.Tags = []string{"x"} }, nil, ""},
		{"the owner, another user's lock", iam.UserPrincipal("olga"), "ana", func(u *iam.User) { u.Locked = true }, nil, ""},
		{"the owner, its own email", iam.UserPrincipal("olga"), "olga", func(u *iam.User) { u.Email = "olga@new.test" }, nil, ""},
		{"an IAM manager, its own email", iam.UserPrincipal("ivan"), "ivan", func(u *iam.User) { u.Email = "ivan@new.test" }, nil, ""},
		{"an IAM manager's API key, its user's email", iam.APIKeyPrincipal("KIVAN"), "ivan", func(u *iam.User) { u.Email = "ivan@new.test" }, nil, ""},
		{"a user without rights, its own email", iam.UserPrincipal("ana"), "ana", func(u *iam.User) { u.Email = "ana@new.test" }, iam.ErrForbidden, "iam:user:update"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			store, adm := newWorld(t)
			grantIAM(t, store)
			ctx := t.Context()
			before, err := store.GetUser(ctx, tt.user)
			require.NoError(t, err)
			u := before
			tt.change(&u)
			got, err := adm.As(tt.caller).UpdateUser(ctx, u)
			after, gerr := store.GetUser(ctx, tt.user)
			require.NoError(t, gerr)
			if tt.err == nil {
				require.NoError(t, err)
				assert.Equal(t, u, got)
				assert.Equal(t, u, after)
				return
			}
			require.ErrorIs(t, err, tt.err)
			assert.Contains(t, err.Error(), tt.msg)
			assert.Equal(t, before, after, "nothing changed")
		})
	}
}
