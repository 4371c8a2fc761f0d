package cowmap

import (
	"math/rand/v2"
	"strconv"
	"testing"
)

// entry40 is the size of an index's principal entry.
type entry40 struct {
	m    string
	p    *int
	a, b int32
	c    [8]byte
}

// BenchmarkLookupBuilt looks up existing keys, in random order, in a Map
// of 100k entries made by a Builder: a cold read of a slot and of the key.
func BenchmarkLookupBuilt(b *testing.B) {
	for _, n := range []int{10_000, 100_000, 1_000_000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			var bd Builder[entry40]
			keys := make([]string, n)
			for i := range keys {
				keys[i] = "org1-u" + strconv.Itoa(i)
				bd.Set(keys[i], entry40{a: int32(i)})
			}
			m := bd.Map()
			rand.New(rand.NewPCG(1, 2)).Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
			var sum int32
			i := 0
			for b.Loop() {
				if v, ok := m.Ref(keys[i]); ok {
					sum += v.a
				}
				if i++; i == len(keys) {
					i = 0
				}
			}
			_ = sum
		})
	}
}
