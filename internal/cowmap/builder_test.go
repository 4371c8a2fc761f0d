package cowmap

import (
	"math/rand/v2"
	"strconv"
	"testing"
)

// A Map made at once by a Builder holds what an Editor given the same
// entries holds, a later Set of a key winning, and edits of it leave it
// unchanged.
func TestBuilderMakesWhatAnEditorMakes(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{0, 1, 50, 5000, 300_000} {
		var b Builder[int]
		b.Grow(n)
		e := Map[int]{}.Edit()
		for i := range n {
			k := "k" + strconv.Itoa(rng.IntN(n+n/8+1)) // some keys repeat
			b.Set(k, i)
			e.Set(k, i)
		}
		got, want := b.Map(), e.Map()
		if got.Len() != want.Len() {
			t.Fatalf("n=%d: Len = %d, want %d", n, got.Len(), want.Len())
		}
		seen := 0
		got.Range(func(k string, v int) bool {
			seen++
			if w, ok := want.Get(k); !ok || w != v {
				t.Fatalf("n=%d: %q = %d, the editor's map has %d, %v", n, k, v, w, ok)
			}
			return true
		})
		want.Range(func(k string, v int) bool {
			if g, ok := got.Get(k); !ok || g != v {
				t.Fatalf("n=%d: Get(%q) = %d, %v, want %d", n, k, g, ok, v)
			}
			return true
		})
		if seen != want.Len() {
			t.Fatalf("n=%d: Range visited %d, want %d", n, seen, want.Len())
		}
		if n == 0 {
			continue
		}
		ed := got.Edit()
		want.Range(func(k string, v int) bool {
			if rng.IntN(3) == 0 {
				ed.Delete(k)
			} else {
				ed.Set(k, -v)
			}
			return true
		})
		ed.Set("new", 7)
		next := ed.Map()
		want.Range(func(k string, v int) bool {
			if g, ok := got.Get(k); !ok || g != v {
				t.Fatalf("n=%d: an edit changed the built map at %q", n, k)
			}
			if g, ok := next.Get(k); ok && g != -v {
				t.Fatalf("n=%d: edited %q = %d, want %d", n, k, g, -v)
			}
			return true
		})
		if v, ok := next.Get("new"); !ok || v != 7 {
			t.Fatalf("n=%d: the edit's new key is missing", n)
		}
	}
}

// The built map splits its fullest shards as an Editor does.
func TestBuilderSplitsFullShards(t *testing.T) {
	var b Builder[int]
	for i := range (leafMax + 40) * Shards {
		b.Set(strconv.Itoa(i), i)
	}
	m := b.Map()
	branches, biggest := 0, 0
	for _, md := range m.root {
		if md == nil {
			continue
		}
		for i, nd := range md.nodes {
			if nd != nil && nd.kids != nil {
				branches++
				if md.leaves[i] != nil {
					t.Fatalf("shard %d is a branch but has leaf slots", i)
				}
			}
			if nd != nil && nd.kids == nil && len(md.leaves[i]) != len(nd.slots) {
				t.Fatalf("shard %d: the mid array does not repeat its leaf's slots", i)
			}
			if nd != nil && nd.kids == nil {
				biggest = max(biggest, nd.n)
			}
		}
	}
	if branches == 0 || biggest > leafMax {
		t.Fatalf("%d branches, biggest leaf %d entries (at most %d)", branches, biggest, leafMax)
	}
}
