// Package differential holds the differential tests (its _test files):
// the Evaluator of package iam against the naive reference evaluator of
// internal/reference, on generated worlds, hand-picked corner cases,
// random write sequences and scripted scenarios. See differential_test.go
// for the runs and their flags (-short, -iam.long, -iam.seed).
package differential
