//go:build race

package bench

// raceEnabled reports a -race build, where checks run several times slower
// and the agreement test compares a sparser sample.
const raceEnabled = true
