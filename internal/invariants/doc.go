// Package invariants holds the security invariants (its _test files), each
// a test named after the promise it keeps: a rejected file changes
// nothing, organizations stay apart, an API key never exceeds its bearer,
// expired, revoked and locked credentials fail, secrets are never stored
// or logged, nobody creates keys for another human, unattached policies
// grant nothing, a deleted principal loses everything at once, the owner
// stops at its organization.
package invariants
