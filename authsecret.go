package iam

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
)

// Credential is what AuthenticateSecret finds: the API key that a secret
// belongs to, the key's organization and its bearer.
type Credential struct {
	AccessKey      string
	OrganizationID string
	Bearer         Principal // a user or an application
}

// AuthenticateSecret finds the API key whose secret is secret, the way
// Scaleway's X-Auth-Token header carries it (the secret alone, no access
// key), and returns the key, its organization and its bearer. The Evaluator
// keeps its keys indexed by the SHA-256 of their secret for this lookup.
//
// A secret that no key has fails with ErrUnauthenticated, and so does a
// secret that several keys share (which only hand-written SHA-256s in world
// files or chosen secrets can cause): picking one of them would be a guess,
// possibly across organizations, so none is chosen; Authenticate, with the
// access key, still tells them apart. As with Authenticate, only a caller
// that gave a key's exact secret learns that the key expired (ErrExpired,
// when now >= ExpiresAt, on the Evaluator's clock) or that its bearer is a
// locked user (ErrForbidden); a key whose bearer no longer exists fails with
// ErrUnauthenticated. No error repeats the secret or its hash.
//
// Timing: the work does not depend on which secrets exist beyond what the
// caller can learn anyway. The secret is hashed first, whatever it is; the
// lookup goes by that hash, so its timing depends on the hash of the
// caller's own guess and on nothing a caller could use to learn a stored
// secret (learning even part of a stored hash by timing would not help:
// turning it back into a secret means inverting SHA-256). The found key's
// hash is then compared with the caller's in constant time, against a dummy
// hash when there is no key, as Authenticate does. Secrets must be
// unguessable for secret-only authentication to mean anything: those the
// store generates are random UUIDs (122 bits).
//
// AuthenticateSecret reads the index, so a key deleted, or a user locked,
// is refused as soon as the write returns; while the index is being rebuilt
// after a failure, every secret is refused with ErrStale. A secret longer
// than MaxSecretLength fails as an unknown one. ctx is not consulted.
func (e *Evaluator) AuthenticateSecret(ctx context.Context, secret string) (Credential, error) {
	s, err := e.current()
	if err != nil {
		return Credential{}, err
	}
	// A secret over MaxSecretLength fails like a wrong one, after hashing
	// no more than the bound.
	tooLong := len(secret) > MaxSecretLength
	if tooLong {
		secret = secret[:MaxSecretLength]
	}
	sum := sha256.Sum256([]byte(secret))
	holders, _ := s.secrets.Get(string(sum[:]))
	var k *keyEntry
	accessKey := ""
	if len(holders) == 1 && !tooLong {
		accessKey = holders[0]
		k, _ = s.keys.Get(accessKey)
	}
	want := dummyHash
	if k != nil {
		want = k.hash
	}
	if subtle.ConstantTimeCompare(sum[:], want[:]) != 1 || k == nil {
		if len(holders) > 1 && !tooLong {
			return Credential{}, fmt.Errorf("iam: the API key secret belongs to %d keys, so it names none of them: authenticate with the access key as well, or replace the keys: %w", len(holders), ErrUnauthenticated)
		}
		return Credential{}, fmt.Errorf("iam: unknown API key secret: %w", ErrUnauthenticated)
	}
	if !k.expires.IsZero() && !e.now().Before(k.expires) {
		return Credential{}, fmt.Errorf("iam: API key %q expired at %s: %w", accessKey, k.expires.UTC().Format("2006-01-02T15:04:05Z"), ErrExpired)
	}
	pe, ok := s.principals.Ref(k.bearer.ID)
	if !ok || pe.typ != k.bearer.Type {
		return Credential{}, fmt.Errorf("iam: API key %q: its bearer %s no longer exists: %w", accessKey, k.bearer, ErrUnauthenticated)
	}
	if pe.locked {
		return Credential{}, fmt.Errorf("iam: API key %q: its bearer %s is locked: %w", accessKey, k.bearer, ErrForbidden)
	}
	return Credential{AccessKey: accessKey, OrganizationID: k.org, Bearer: k.bearer}, nil
}

// indexSecret records that the key accessKey has the secret whose SHA-256
// is hash. The entry is a new slice each time: published snapshots share
// the old one.
func (a *applier) indexSecret(hash [32]byte, accessKey string) {
	old, _ := a.secrets.Get(string(hash[:]))
	next := make([]string, 0, len(old)+1)
	next = append(next, old...)
	a.secrets.Set(string(hash[:]), append(next, accessKey))
}

// unindexSecret forgets that the key accessKey has the secret whose SHA-256
// is hash.
func (a *applier) unindexSecret(hash [32]byte, accessKey string) {
	old, _ := a.secrets.Get(string(hash[:]))
	next := make([]string, 0, len(old))
	for _, ak := range old {
		if ak != accessKey {
			next = append(next, ak)
		}
	}
	if len(next) == 0 {
		a.secrets.Delete(string(hash[:]))
		return
	}
	a.secrets.Set(string(hash[:]), next)
}
