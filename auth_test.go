package iam_test

// API keys: CreateAPIKey returns the secret once; Authenticate's every
// failure mode and its success; the secret never shows again; a check made
// with a key never exceeds its bearer's rights; revocation, locking and
// expiry take effect at once.

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iamkit/iam"
)

// auWorld: acme with projects A, B; users ana (granted in A) and lia; the
// application app (granted on the organization); keys for each.
type auWorld struct {
	*world
	anaKey, appKey, ownerKey, expiring iam.APIKey
	expiry                             time.Time
	errs                               []error // every error seen, to search for secrets
}

func newAUWorld(t *testing.T) *auWorld {
	t.Helper()
	w := &auWorld{world: newWorld(t)}
	w.project(w.org, "A")
	w.project(w.org, "B")
	w.user(w.org, "ana")
	w.user(w.org, "lia")
	w.app(w.org, "app", false)
	w.policy(w.org, "pol-ana", iam.UserPrincipal("ana"), onProjects(ids("A"), "InstancesFullAccess"))
	w.policy(w.org, "pol-app", iam.ApplicationPrincipal("app"), onOrg(w.org, "ContainersReadOnly"), onOrg(w.org, "BillingReadOnly"))
	w.expiry = clockStart.Add(time.Hour)
	w.anaKey = w.key(iam.APIKey{OrganizationID: w.org, Bearer: iam.UserPrincipal("ana"), DefaultProjectID: "B"})
	w.appKey = w.key(iam.APIKey{OrganizationID: w.org, Bearer: iam.ApplicationPrincipal("app"), Description: "ci"})
	w.ownerKey = w.key(iam.APIKey{OrganizationID: w.org, Bearer: iam.UserPrincipal(w.owner)})
	w.expiring = w.key(iam.APIKey{OrganizationID: w.org, Bearer: iam.UserPrincipal("ana"), ExpiresAt: w.expiry})
	return w
}

// auth runs Authenticate and records its error.
func (w *auWorld) auth(accessKey, secret string) (iam.Principal, error) {
	p, err := w.ev.Authenticate(w.ctx, accessKey, secret)
	if err != nil {
		w.errs = append(w.errs, err)
		require.Equal(w.t, iam.Principal{}, p, "a failed Authenticate returns no principal")
	}
	return p, err
}

// auRequireOnly asserts that err matches want and none of the other
// credential sentinels.
func auRequireOnly(t *testing.T, err, want error) {
	t.Helper()
	require.Error(t, err)
	require.ErrorIs(t, err, want)
	for _, other := range []error{iam.ErrUnauthenticated, iam.ErrExpired, iam.ErrForbidden, iam.ErrNotFound, iam.ErrInvalid} {
		if other != want {
			require.NotErrorIs(t, err, other, "%v must match only %v", err, want)
		}
	}
}

func TestAuthCreateAPIKeyReturnsSecretOnce(t *testing.T) {
	t.Parallel()
	w := newAUWorld(t)
	for _, k := range []iam.APIKey{w.anaKey, w.appKey, w.ownerKey, w.expiring} {
		require.NotEmpty(t, k.AccessKey)
		require.NotEmpty(t, k.Secret, "CreateAPIKey returns the secret")
		sum := sha256.Sum256([]byte(k.Secret))
		assert.Equal(t, hex.EncodeToString(sum[:]), k.SecretSHA256, "the stored hash is the secret's SHA-256")
	}
	assert.NotEqual(t, w.anaKey.Secret, w.expiring.Secret, "secrets are fresh")
	assert.NotEqual(t, w.anaKey.AccessKey, w.expiring.AccessKey)

	got, err := w.store.GetAPIKey(w.ctx, w.anaKey.AccessKey)
	require.NoError(t, err)
	assert.Empty(t, got.Secret, "GetAPIKey never returns the secret")
	want := w.anaKey
	want.Secret = ""
	assert.Equal(t, want, got)
	list, err := w.store.ListAPIKeys(w.ctx, w.org)
	require.NoError(t, err)
	require.Len(t, list, 4)
	secrets := []string{w.anaKey.Secret, w.appKey.Secret, w.ownerKey.Secret, w.expiring.Secret}
	for _, k := range list {
		assert.Empty(t, k.Secret, "ListAPIKeys never returns the secret")
		for _, form := range []string{fmt.Sprintf("%+v", k), fmt.Sprintf("%#v", k), fmt.Sprint(k)} {
			for _, s := range secrets {
				assert.NotContains(t, form, s, "a stored key's rendering shows no secret")
			}
		}
	}
	// Nor does the store's full dump.
	dumped := fmt.Sprintf("%+v", dumpStore(t, w.store))
	for _, s := range secrets {
		assert.NotContains(t, dumped, s)
	}
	// An update cannot bring a secret in, nor change it.
	got.Secret = "chosen"
	_, err = w.store.UpdateAPIKey(w.ctx, got)
	require.ErrorIs(t, err, iam.ErrInvalid)
	assert.NotContains(t, err.Error(), "chosen")
}

func TestAuthSuccess(t *testing.T) {
	t.Parallel()
	w := newAUWorld(t)
	for _, tc := range []struct {
		key  iam.APIKey
		want iam.Principal
	}{
		{w.anaKey, iam.UserPrincipal("ana")},
		{w.appKey, iam.ApplicationPrincipal("app")},
		{w.ownerKey, iam.UserPrincipal(w.owner)},
		{w.expiring, iam.UserPrincipal("ana")},
	} {
		p, err := w.auth(tc.key.AccessKey, tc.key.Secret)
		require.NoError(t, err)
		assert.Equal(t, tc.want, p)
	}
	// A key created from a known hash alone (as world files do).
	sum := sha256.Sum256([]byte("test"))
	k := w.key(iam.APIKey{AccessKey: "SCWHASHONLY000000001", OrganizationID: w.org, Bearer: iam.ApplicationPrincipal("app"), SecretSHA256: hex.EncodeToString(sum[:])})
	assert.Empty(t, k.Secret, "nothing to give back when only the hash was given")
	p, err := w.auth("SCWHASHONLY000000001", "test")
	require.NoError(t, err)
	assert.Equal(t, iam.ApplicationPrincipal("app"), p)
	// A key created from a chosen secret.
	k = w.key(iam.APIKey{AccessKey: "SCWCHOSEN00000000001", OrganizationID: w.org, Bearer: iam.UserPrincipal("lia"), Secret: "a chosen secret"})
	assert.Equal(t, "a chosen secret", k.Secret)
	p, err = w.auth("SCWCHOSEN00000000001", "a chosen secret")
	require.NoError(t, err)
	assert.Equal(t, iam.UserPrincipal("lia"), p)
}

func TestAuthFailures(t *testing.T) {
	t.Parallel()
	w := newAUWorld(t)
	k := w.anaKey

	t.Run("unknown key and wrong secret fail alike", func(t *testing.T) {
		_, errUnknown := w.auth("SCWNOSUCHKEY00000001", k.Secret)
		auRequireOnly(t, errUnknown, iam.ErrUnauthenticated)
		_, errWrong := w.auth(k.AccessKey, "not the secret")
		auRequireOnly(t, errWrong, iam.ErrUnauthenticated)
		// The same message shape: only the access key differs.
		assert.Equal(t,
			strings.ReplaceAll(errUnknown.Error(), "SCWNOSUCHKEY00000001", "KEY"),
			strings.ReplaceAll(errWrong.Error(), k.AccessKey, "KEY"),
			"an unknown key and a wrong secret must not be told apart")
		// Near misses of the secret fail too.
		for _, s := range []string{"", k.Secret + "x", k.Secret[:len(k.Secret)-1], strings.ToUpper(k.Secret), " " + k.Secret, w.appKey.Secret, k.SecretSHA256} {
			_, err := w.auth(k.AccessKey, s)
			auRequireOnly(t, err, iam.ErrUnauthenticated)
		}
		// Another key's secret, or an empty access key.
		_, err := w.auth(w.appKey.AccessKey, k.Secret)
		auRequireOnly(t, err, iam.ErrUnauthenticated)
		_, err = w.auth("", k.Secret)
		auRequireOnly(t, err, iam.ErrUnauthenticated)
		_, err = w.auth("", "")
		auRequireOnly(t, err, iam.ErrUnauthenticated)
	})

	t.Run("expiry exactly at ExpiresAt", func(t *testing.T) {
		e := w.expiring
		w.clock.Set(w.expiry.Add(-time.Nanosecond))
		p, err := w.auth(e.AccessKey, e.Secret)
		require.NoError(t, err, "one nanosecond before ExpiresAt the key works")
		require.Equal(t, iam.UserPrincipal("ana"), p)
		w.expect(t, inProject(iam.APIKeyPrincipal(e.AccessKey), "A", "InstancesFullAccess"), granted)

		w.clock.Set(w.expiry)
		_, err = w.auth(e.AccessKey, e.Secret)
		auRequireOnly(t, err, iam.ErrExpired)
		w.expect(t, inProject(iam.APIKeyPrincipal(e.AccessKey), "A", "InstancesFullAccess"), expired)

		// ErrExpired only to a caller with the right secret.
		_, err = w.auth(e.AccessKey, "not the secret")
		auRequireOnly(t, err, iam.ErrUnauthenticated)
		w.clock.Set(w.expiry.Add(365 * 24 * time.Hour))
		_, err = w.auth(e.AccessKey, e.Secret)
		auRequireOnly(t, err, iam.ErrExpired)
		_, err = w.auth(e.AccessKey, e.Secret+"x")
		auRequireOnly(t, err, iam.ErrUnauthenticated)
		// A key without ExpiresAt never expires.
		_, err = w.auth(k.AccessKey, k.Secret)
		require.NoError(t, err)

		// Extending the expiry works at once.
		stored, err := w.store.GetAPIKey(w.ctx, e.AccessKey)
		require.NoError(t, err)
		stored.ExpiresAt = w.clock.Now().Add(time.Minute)
		_, err = w.store.UpdateAPIKey(w.ctx, stored)
		require.NoError(t, err)
		_, err = w.auth(e.AccessKey, e.Secret)
		require.NoError(t, err)
		w.clock.Set(clockStart)
	})

	t.Run("locked bearer", func(t *testing.T) {
		lockedKey := w.key(iam.APIKey{OrganizationID: w.org, Bearer: iam.UserPrincipal("lia")})
		_, err := w.auth(lockedKey.AccessKey, lockedKey.Secret)
		require.NoError(t, err)
		auSetLocked(t, w.world, "lia", true)
		_, err = w.auth(lockedKey.AccessKey, lockedKey.Secret)
		auRequireOnly(t, err, iam.ErrForbidden)
		_, err = w.auth(lockedKey.AccessKey, "not the secret")
		auRequireOnly(t, err, iam.ErrUnauthenticated)
		w.expect(t, inProject(iam.APIKeyPrincipal(lockedKey.AccessKey), "A", "InstancesServerList"), locked)
		auSetLocked(t, w.world, "lia", false)
		_, err = w.auth(lockedKey.AccessKey, lockedKey.Secret)
		require.NoError(t, err, "unlocking restores the key at once")
	})

	t.Run("expired and locked: the expiry is told first", func(t *testing.T) {
		e := w.key(iam.APIKey{OrganizationID: w.org, Bearer: iam.UserPrincipal("lia"), ExpiresAt: clockStart})
		auSetLocked(t, w.world, "lia", true)
		defer auSetLocked(t, w.world, "lia", false)
		_, err := w.auth(e.AccessKey, e.Secret)
		require.Error(t, err)
		assert.True(t, errors.Is(err, iam.ErrExpired) || errors.Is(err, iam.ErrForbidden), "%v", err)
		assert.NotErrorIs(t, err, iam.ErrUnauthenticated)
	})

	t.Run("no secret in any error", func(t *testing.T) {
		secrets := []string{w.anaKey.Secret, w.appKey.Secret, w.ownerKey.Secret, w.expiring.Secret}
		require.NotEmpty(t, w.errs)
		for _, err := range w.errs {
			for _, s := range secrets {
				require.NotContains(t, err.Error(), s)
				require.NotContains(t, fmt.Sprintf("%+v", err), s)
			}
			require.NotContains(t, err.Error(), "not the secret", "the given secret is not echoed")
		}
	})
}

func auSetLocked(t *testing.T, w *world, id string, lockedState bool) {
	t.Helper()
	u, err := w.store.GetUser(w.ctx, id)
	require.NoError(t, err)
	u.Locked = lockedState
	_, err = w.store.UpdateUser(w.ctx, u)
	require.NoError(t, err)
}

// TestAuthRevocation: deleting the key, or its bearer, revokes it as soon
// as the write returns; locking the bearer denies at once.
func TestAuthRevocation(t *testing.T) {
	t.Parallel()
	w := newAUWorld(t)
	req := func(k iam.APIKey) iam.Request {
		return inProject(iam.APIKeyPrincipal(k.AccessKey), "A", "InstancesFullAccess")
	}

	t.Run("delete the key", func(t *testing.T) {
		k := w.key(iam.APIKey{OrganizationID: w.org, Bearer: iam.UserPrincipal("ana")})
		w.expect(t, req(k), granted)
		require.NoError(t, w.store.DeleteAPIKey(w.ctx, k.AccessKey))
		_, err := w.auth(k.AccessKey, k.Secret)
		auRequireOnly(t, err, iam.ErrUnauthenticated)
		w.expect(t, req(k), isNotFound)
		_, err = w.ev.Explain(w.ctx, req(k))
		require.ErrorIs(t, err, iam.ErrNotFound)
		// The other keys of the bearer still work.
		_, err = w.auth(w.anaKey.AccessKey, w.anaKey.Secret)
		require.NoError(t, err)
	})

	t.Run("lock the bearer", func(t *testing.T) {
		w.expect(t, req(w.anaKey), granted)
		auSetLocked(t, w.world, "ana", true)
		w.expect(t, req(w.anaKey), locked)
		w.expect(t, atOrg(iam.APIKeyPrincipal(w.anaKey.AccessKey), w.org, "BillingReadOnly"), locked)
		_, err := w.auth(w.anaKey.AccessKey, w.anaKey.Secret)
		auRequireOnly(t, err, iam.ErrForbidden)
		auSetLocked(t, w.world, "ana", false)
		w.expect(t, req(w.anaKey), granted)
	})

	t.Run("delete the bearer, a user", func(t *testing.T) {
		w.user(w.org, "tmp")
		w.policy(w.org, "pol-tmp", iam.UserPrincipal("tmp"), onProjects(ids("A"), "InstancesFullAccess"))
		k := w.key(iam.APIKey{OrganizationID: w.org, Bearer: iam.UserPrincipal("tmp")})
		w.expect(t, req(k), granted)
		require.NoError(t, w.store.DeleteUser(w.ctx, "tmp"))
		_, err := w.auth(k.AccessKey, k.Secret)
		auRequireOnly(t, err, iam.ErrUnauthenticated)
		w.expect(t, req(k), isNotFound)
		_, err = w.store.GetAPIKey(w.ctx, k.AccessKey)
		require.ErrorIs(t, err, iam.ErrNotFound, "deleting a user deletes its keys")
	})

	t.Run("delete the bearer, an application", func(t *testing.T) {
		w.app(w.org, "tmp-app", false)
		k := w.key(iam.APIKey{OrganizationID: w.org, Bearer: iam.ApplicationPrincipal("tmp-app")})
		p, err := w.auth(k.AccessKey, k.Secret)
		require.NoError(t, err)
		require.Equal(t, iam.ApplicationPrincipal("tmp-app"), p)
		require.NoError(t, w.store.DeleteApplication(w.ctx, "tmp-app"))
		_, err = w.auth(k.AccessKey, k.Secret)
		auRequireOnly(t, err, iam.ErrUnauthenticated)
		w.expect(t, req(k), isNotFound)
	})

	t.Run("delete the organization", func(t *testing.T) {
		w.addOrg("gone", "gone-owner")
		k := w.key(iam.APIKey{OrganizationID: "gone", Bearer: iam.UserPrincipal("gone-owner")})
		_, err := w.auth(k.AccessKey, k.Secret)
		require.NoError(t, err)
		require.NoError(t, w.store.DeleteOrganization(w.ctx, "gone"))
		_, err = w.auth(k.AccessKey, k.Secret)
		auRequireOnly(t, err, iam.ErrUnauthenticated)
	})
}

// TestAuthKeyNeverExceedsBearer: over every principal with a key, every
// target and permission of the reverse-query world, a check made with the
// key answers exactly as the bearer's (allowed and reason), and its
// Explain names the bearer's grants; WhatCan and WhereCan agree too.
func TestAuthKeyNeverExceedsBearer(t *testing.T) {
	t.Parallel()
	w := newRVWorld(t)
	// A key for every user and application of both organizations.
	keyOf := map[iam.Principal]string{}
	for i, a := range w.actors {
		k := w.key(iam.APIKey{AccessKey: fmt.Sprintf("SCWBEARER%011d", i), OrganizationID: w.orgOf[a], Bearer: a})
		keyOf[a] = k.AccessKey
	}
	c := w.contexts[primaryContext]
	compared, allowed := 0, 0
	for _, a := range w.actors {
		kp := iam.APIKeyPrincipal(keyOf[a])
		for _, tg := range w.targets {
			for _, perm := range w.perms {
				db, errB := w.ev.Check(w.ctx, tg.req(a, perm, c))
				dk, errK := w.ev.Check(w.ctx, tg.req(kp, perm, c))
				if rvErrClass(errB) != rvErrClass(errK) {
					t.Fatalf("%s at %s: the bearer %s gets %v, its key %v", perm, tg, a, errB, errK)
				}
				if db != dk {
					t.Fatalf("%s at %s: the bearer %s gets %+v, its key %+v", perm, tg, a, db, dk)
				}
				compared++
				if dk.Allowed {
					allowed++
				}
			}
		}
		for _, tg := range w.targets {
			wb, err := w.ev.WhatCan(w.ctx, tg.req(a, "", c))
			require.NoError(t, err)
			wk, err := w.ev.WhatCan(w.ctx, tg.req(kp, "", c))
			require.NoError(t, err)
			require.Equal(t, wb, wk, "WhatCan of %s and of its key at %s", a, tg)
		}
		for _, perm := range w.permsFor("") {
			q := c
			q.Permission = perm
			q.Principal = a
			wb, errB := w.ev.WhereCan(w.ctx, q)
			q.Principal = kp
			wk, errK := w.ev.WhereCan(w.ctx, q)
			require.Equal(t, rvErrClass(errB), rvErrClass(errK), "WhereCan(%s) of %s and its key", perm, a)
			require.Equal(t, wb, wk, "WhereCan(%s) of %s and of its key", perm, a)
		}
	}
	require.Greater(t, allowed, 100)
	t.Logf("compared %d checks, %d allowed", compared, allowed)

	// Explain with a key lists the bearer's grants, under the bearer's
	// name.
	x, err := w.ev.Explain(w.ctx, inProject(iam.APIKeyPrincipal(keyOf[iam.UserPrincipal("ana")]), "p-a", "InstancesServerCreate"))
	require.NoError(t, err)
	require.True(t, x.Decision.Allowed)
	require.NotEmpty(t, x.Grants)
	for _, g := range x.Grants {
		assert.NotEqual(t, iam.PrincipalAPIKey, g.Principal.Type, "a grant names the bearer or its group, never the key")
	}
}

// TestAuthKeyDefaultProjectGrantsNothing: the key's default project is a
// hint for clients, never a grant.
func TestAuthKeyDefaultProjectGrantsNothing(t *testing.T) {
	t.Parallel()
	w := newAUWorld(t)
	require.Equal(t, "B", w.anaKey.DefaultProjectID)
	w.expect(t, inProject(iam.APIKeyPrincipal(w.anaKey.AccessKey), "B", "InstancesServerList"), notGranted)
	w.expect(t, inProject(iam.APIKeyPrincipal(w.anaKey.AccessKey), "A", "InstancesServerList"), granted)
	w.expect(t, atOrg(iam.APIKeyPrincipal(w.ownerKey.AccessKey), w.org, "IAMManager"), ownerAllow)
	w.expect(t, atOrg(iam.APIKeyPrincipal(w.appKey.AccessKey), w.org, "BillingReadOnly"), granted)
	w.expect(t, atOrg(iam.APIKeyPrincipal(w.appKey.AccessKey), w.org, "BillingManager"), notGranted)
	w.expect(t, inProject(iam.APIKeyPrincipal("SCWNOSUCHKEY00000001"), "A", "InstancesServerList"), isNotFound)
}

// TestAuthKeyBearerValidation: a key's bearer is a user or an application
// of the key's organization.
func TestAuthKeyBearerValidation(t *testing.T) {
	t.Parallel()
	w := newAUWorld(t)
	w.group(iam.Group{ID: "g", OrganizationID: w.org})
	w.addOrg("globex", "globex-owner")
	before := dumpStore(t, w.store)
	for _, k := range []iam.APIKey{
		{OrganizationID: w.org, Bearer: iam.GroupPrincipal("g")},
		{OrganizationID: w.org},
		{OrganizationID: w.org, Bearer: iam.UserPrincipal("nobody")},
		{OrganizationID: w.org, Bearer: iam.UserPrincipal("globex-owner")},
		{OrganizationID: w.org, Bearer: iam.UserPrincipal("ana"), Secret: "s", SecretSHA256: strings.Repeat("0", 64)},
		{OrganizationID: w.org, Bearer: iam.UserPrincipal("ana"), SecretSHA256: "not hex"},
	} {
		_, err := w.store.CreateAPIKey(w.ctx, k)
		require.Error(t, err, "%+v", k)
		assert.ErrorIs(t, err, iam.ErrInvalid, "%+v", k)
		if k.Secret != "" {
			assert.NotContains(t, err.Error(), `"s"`)
		}
	}
	requireUnchanged(t, w.store, before)
}
