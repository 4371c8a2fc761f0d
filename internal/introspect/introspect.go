// Package introspect lets the repository's test harnesses, which live in
// packages of their own, read what package iam keeps unexported. Package
// iam fills it in when it is initialized; nothing else sets it, and only
// tests read it.
package introspect

// ReverseState renders, in a canonical form, what the reverse queries of
// an *iam.Evaluator read of its published snapshot besides the grants
// (each organization's roster and its groups' members), so that a test can
// compare an incrementally maintained Evaluator with one built from
// scratch; it also reports a roster whose project sequence numbers
// disagree with the project entries that checks read. It takes an any
// because this package cannot import iam, which imports it.
var ReverseState func(ev any) string
