// Package bench runs the worlds of iamkit's generator (internal/gen)
// through peer engines, Casbin, cedar-go and OPA, beside iam's own
// Evaluator and a bare index of three string-keyed maps: TestAgreement
// checks that every engine gives iam's answer on a few thousand generated
// requests, and BenchmarkPeers times one check of each, in one run, at
// 1,000 and 100,000 principals. README.md says how to run them, what each
// translation does and approximates, and what was measured.
//
// It is a module of its own, so that the core's go.mod stays free of the
// peers' dependencies. Its code is test support, not an API.
//
// The translations share one reading of a world (model.go) and rely on
// what generated worlds hold: no rule conditions, and closures that never
// mix scope types (a set includes sets of its own scope type only);
// newModel fails on anything else rather than translate it wrongly.
package bench
