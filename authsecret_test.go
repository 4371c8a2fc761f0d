package iam_test

// AuthenticateSecret: an API key found by its secret alone, as Scaleway's
// X-Auth-Token carries it, with Authenticate's rules: no oracle, expiry and
// locking told only to the right secret, revocation at once, and a secret
// that several keys share naming none of them.

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/iamkit/iam"
)

func TestAuthenticateSecretFindsTheKeyByItsSecretAlone(t *testing.T) {
	t.Parallel()
	w := newAUWorld(t)
	for _, k := range []iam.APIKey{w.anaKey, w.appKey, w.ownerKey} {
		c, err := w.ev.AuthenticateSecret(w.ctx, k.Secret)
		require.NoError(t, err)
		require.Equal(t, iam.Credential{AccessKey: k.AccessKey, OrganizationID: w.org, Bearer: k.Bearer}, c)
	}
	// A key created from a known secret's hash, as world files do.
	k := w.key(iam.APIKey{OrganizationID: w.org, Bearer: iam.UserPrincipal("lia"), SecretSHA256: iam.HashSecret("lia's secret")})
	c, err := w.ev.AuthenticateSecret(w.ctx, "lia's secret")
	require.NoError(t, err)
	require.Equal(t, k.AccessKey, c.AccessKey)
}

func TestAuthenticateSecretUnknownSecretsFailAlikeAndAreNeverEchoed(t *testing.T) {
	t.Parallel()
	w := newAUWorld(t)
	var msgs []string
	for _, secret := range []string{"", "nope", w.anaKey.Secret + "x", strings.ToUpper(w.anaKey.Secret), w.anaKey.SecretSHA256} {
		c, err := w.ev.AuthenticateSecret(w.ctx, secret)
		auRequireOnly(t, err, iam.ErrUnauthenticated)
		require.Equal(t, iam.Credential{}, c)
		if secret != "" {
			require.NotContains(t, err.Error(), secret)
			require.NotContains(t, err.Error(), iam.HashSecret(secret))
		}
		msgs = append(msgs, err.Error())
	}
	for _, m := range msgs {
		require.Equal(t, msgs[0], m, "every unknown secret fails with the same message")
	}
}

func TestAuthenticateSecretTellsExpiryAndLockingOnlyToTheRightSecret(t *testing.T) {
	t.Parallel()
	w := newAUWorld(t)
	_, err := w.ev.AuthenticateSecret(w.ctx, w.expiring.Secret)
	require.NoError(t, err, "before its expiry")
	w.clock.Set(w.expiry.Add(-time.Nanosecond))
	_, err = w.ev.AuthenticateSecret(w.ctx, w.expiring.Secret)
	require.NoError(t, err)
	w.clock.Set(w.expiry) // expired when now >= ExpiresAt
	_, err = w.ev.AuthenticateSecret(w.ctx, w.expiring.Secret)
	auRequireOnly(t, err, iam.ErrExpired)
	_, err = w.ev.AuthenticateSecret(w.ctx, w.expiring.Secret+"x")
	auRequireOnly(t, err, iam.ErrUnauthenticated)

	u, err := w.store.GetUser(w.ctx, "ana")
	require.NoError(t, err)
	u.Locked = true
	_, err = w.store.UpdateUser(w.ctx, u)
	require.NoError(t, err)
	_, err = w.ev.AuthenticateSecret(w.ctx, w.anaKey.Secret)
	auRequireOnly(t, err, iam.ErrForbidden)
	_, err = w.ev.AuthenticateSecret(w.ctx, "not ana's")
	auRequireOnly(t, err, iam.ErrUnauthenticated)
}

func TestAuthenticateSecretRefusesARevokedKeyAtOnce(t *testing.T) {
	t.Parallel()
	w := newAUWorld(t)
	require.NoError(t, w.store.DeleteAPIKey(w.ctx, w.appKey.AccessKey))
	_, err := w.ev.AuthenticateSecret(w.ctx, w.appKey.Secret)
	auRequireOnly(t, err, iam.ErrUnauthenticated)

	// Deleting the bearer deletes its keys.
	require.NoError(t, w.store.DeleteUser(w.ctx, "ana"))
	for _, k := range []iam.APIKey{w.anaKey, w.expiring} {
		_, err = w.ev.AuthenticateSecret(w.ctx, k.Secret)
		auRequireOnly(t, err, iam.ErrUnauthenticated)
	}
	_, err = w.ev.AuthenticateSecret(w.ctx, w.ownerKey.Secret)
	require.NoError(t, err, "other keys still work")
}

func TestAuthenticateSecretSharedByTwoKeysNamesNeither(t *testing.T) {
	t.Parallel()
	w := newAUWorld(t)
	w.addOrg("globex", "globex-owner")
	hash := iam.HashSecret("shared")
	mine := w.key(iam.APIKey{OrganizationID: w.org, Bearer: iam.UserPrincipal("lia"), SecretSHA256: hash})
	theirs := w.key(iam.APIKey{OrganizationID: "globex", Bearer: iam.UserPrincipal("globex-owner"), SecretSHA256: hash})

	_, err := w.ev.AuthenticateSecret(w.ctx, "shared")
	auRequireOnly(t, err, iam.ErrUnauthenticated)
	require.NotContains(t, err.Error(), theirs.AccessKey)
	require.NotContains(t, err.Error(), "globex")
	// Authenticate, given the access key, still tells them apart.
	p, err := w.ev.Authenticate(w.ctx, mine.AccessKey, "shared")
	require.NoError(t, err)
	require.Equal(t, iam.UserPrincipal("lia"), p)

	// Once one of them is gone, the secret names the other again.
	require.NoError(t, w.store.DeleteAPIKey(w.ctx, theirs.AccessKey))
	c, err := w.ev.AuthenticateSecret(w.ctx, "shared")
	require.NoError(t, err)
	require.Equal(t, mine.AccessKey, c.AccessKey)
	require.NoError(t, w.store.DeleteAPIKey(w.ctx, mine.AccessKey))
	_, err = w.ev.AuthenticateSecret(w.ctx, "shared")
	auRequireOnly(t, err, iam.ErrUnauthenticated)
}

func TestAuthenticateSecretSeesKeysOfAWorldLoadedBeforeTheEvaluator(t *testing.T) {
	t.Parallel()
	w := newAUWorld(t)
	// A second Evaluator builds its index from the store as it is.
	ev, err := iam.NewEvaluator(w.ctx, w.store, iam.WithClock(w.clock.Now))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, ev.Close()) })
	c, err := ev.AuthenticateSecret(w.ctx, w.appKey.Secret)
	require.NoError(t, err)
	require.Equal(t, iam.ApplicationPrincipal("app"), c.Bearer)
}

// TestAnOversizedSecretFailsLikeAnUnknownSecret: AuthenticateSecret hashes
// at most MaxSecretLength bytes, and a longer secret, even one whose first
// MaxSecretLength bytes are a key's secret, is refused as an unknown one.
func TestAnOversizedSecretFailsLikeAnUnknownSecret(t *testing.T) {
	t.Parallel()
	w := newAUWorld(t)
	prefix := strings.Repeat("s", iam.MaxSecretLength)
	w.key(iam.APIKey{OrganizationID: w.org, Bearer: iam.UserPrincipal("lia"), SecretSHA256: iam.HashSecret(prefix)})
	_, err := w.ev.AuthenticateSecret(w.ctx, prefix)
	require.NoError(t, err, "a secret at the bound authenticates")
	_, unknown := w.ev.AuthenticateSecret(w.ctx, "nope")
	for _, secret := range []string{prefix + "x", strings.Repeat("s", 1<<20)} {
		_, err := w.ev.AuthenticateSecret(w.ctx, secret)
		auRequireOnly(t, err, iam.ErrUnauthenticated)
		require.Equal(t, unknown.Error(), err.Error())
	}
}
