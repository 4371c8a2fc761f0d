package cowmap

import (
	"math/rand/v2"
	"strconv"
	"testing"
)

// Every version of a map, built or edited, through rounds of sets and
// deletes (leaves growing, splitting and emptying), answers as a plain map
// given the same writes, and an older version never changes.
func TestEveryVersionAnswersAsAPlainMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, n := range []int{1, 30, 700, 20000} {
		for _, built := range []bool{false, true} {
			ref := map[string]int{}
			var m Map[int]
			if built {
				var b Builder[int]
				for i := range n {
					k := "k" + strconv.Itoa(rng.IntN(2*n))
					b.Set(k, i)
					ref[k] = i
				}
				m = b.Map()
			}
			type version struct {
				m   Map[int]
				ref map[string]int
			}
			var versions []version
			check := func(m Map[int], ref map[string]int, what string) {
				if m.Len() != len(ref) {
					t.Fatalf("n=%d built=%v %s: Len %d, want %d", n, built, what, m.Len(), len(ref))
				}
				for k, v := range ref {
					key, p, ok := m.Entry(k)
					if !ok || *p != v || key != k {
						t.Fatalf("n=%d built=%v %s: Entry(%q) = %q, %v; want %d", n, built, what, k, key, ok, v)
					}
				}
				for i := range 2 * n {
					k := "k" + strconv.Itoa(i)
					if _, in := ref[k]; !in {
						if _, ok := m.Get(k); ok {
							t.Fatalf("n=%d built=%v %s: Get(%q) found a deleted key", n, built, what, k)
						}
					}
				}
			}
			for round := range 6 {
				e := m.Edit()
				for range n/2 + 1 {
					k := "k" + strconv.Itoa(rng.IntN(2*n))
					switch rng.IntN(4) {
					case 0:
						e.Delete(k)
						delete(ref, k)
					default:
						v := rng.Int()
						e.Set(k, v)
						ref[k] = v
					}
					if rng.IntN(8) == 0 {
						w, ok := ref[k]
						if g, gok := e.Get(k); g != w || gok != ok {
							t.Fatalf("n=%d round %d: editor Get(%q) = %d, %v; want %d, %v", n, round, k, g, gok, w, ok)
						}
					}
				}
				m = e.Map()
				cp := map[string]int{}
				for k, v := range ref {
					cp[k] = v
				}
				versions = append(versions, version{m, cp})
				check(m, ref, "round "+strconv.Itoa(round))
			}
			for i, v := range versions {
				check(v.m, v.ref, "version "+strconv.Itoa(i))
			}
		}
	}
}
