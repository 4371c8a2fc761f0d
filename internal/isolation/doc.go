// Package isolation holds the isolation tests (its _test files): checks
// under concurrent writers and readers, each test named after the anomaly
// it rules out (a torn file load or group delete, time travel, a missed
// write), and the tests that an organization never learns of another's
// IDs, through the store, the management layer or a check.
package isolation
