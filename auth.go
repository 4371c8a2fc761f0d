package iam

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
)

// ErrUnauthenticated: an API key that does not exist or a wrong secret.
// The two fail alike, so that the error tells nothing about which keys
// exist.
var ErrUnauthenticated = errors.New("iam: unauthenticated")

// Authenticate returns the bearer of the API key accessKey if secret is
// its secret. An unknown key and a wrong secret both return
// ErrUnauthenticated, after the same work (the secret's hash is compared
// in constant time, against a dummy hash when the key is unknown). A
// secret longer than MaxSecretLength bytes is wrong whatever it holds: it
// fails alike, after hashing only its first MaxSecretLength bytes, the
// same work as for a secret of that length, however long it is. Only a
// caller that gave the right secret learns that the key expired
// (ErrExpired, when now >= ExpiresAt, with the Evaluator's clock) or that
// its bearer is a locked user (ErrForbidden).
//
// Authenticate reads the index, so a key deleted, or a user locked, is
// refused as soon as the write returns; while the index is being rebuilt
// after a failure (see Evaluator), every key is refused with ErrStale.
func (e *Evaluator) Authenticate(ctx context.Context, accessKey, secret string) (Principal, error) {
	s, err := e.current()
	if err != nil {
		return Principal{}, err
	}
	tooLong := len(secret) > MaxSecretLength
	if tooLong {
		secret = secret[:MaxSecretLength]
	}
	sum := sha256.Sum256([]byte(secret))
	k, ok := s.keys.Get(accessKey)
	want := dummyHash
	if ok {
		want = k.hash
	}
	if subtle.ConstantTimeCompare(sum[:], want[:]) != 1 || !ok || tooLong {
		return Principal{}, fmt.Errorf("iam: API key %q: unknown key or wrong secret: %w", clip(accessKey), ErrUnauthenticated)
	}
	if !k.expires.IsZero() && !e.now().Before(k.expires) {
		return Principal{}, fmt.Errorf("iam: API key %q expired at %s: %w", accessKey, k.expires.UTC().Format("2006-01-02T15:04:05Z"), ErrExpired)
	}
	pe, ok := s.principals.Ref(k.bearer.ID)
	if !ok || pe.typ != k.bearer.Type {
		return Principal{}, fmt.Errorf("iam: API key %q: its bearer %s no longer exists: %w", accessKey, k.bearer, ErrUnauthenticated)
	}
	if pe.locked {
		return Principal{}, fmt.Errorf("iam: API key %q: its bearer %s is locked: %w", accessKey, k.bearer, ErrForbidden)
	}
	return k.bearer, nil
}

// dummyHash is compared against when a key is unknown; no secret hashes to
// it in practice.
var dummyHash = sha256.Sum256([]byte("iam: no such key"))
