package cowmap

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
)

// TestSortedMatchesAMapAndKeepsOldVersions edits a Sorted at random, many
// edits per version, and checks every version against a plain map: the
// entries, their order, Get, Len, and that no later edit changed an older
// version.
func TestSortedMatchesAMapAndKeepsOldVersions(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	type version struct {
		m    Sorted[int]
		want map[string]int
	}
	var versions []version
	cur, want := Sorted[int]{}, map[string]int{}
	for round := range 300 {
		e := cur.Edit()
		edits := 1 + rng.IntN(40)
		if round%50 == 0 {
			edits = 2000 // a bulk change, as an index build makes
		}
		for range edits {
			k := strconv.Itoa(rng.IntN(3000))
			if rng.IntN(3) == 0 {
				e.Delete(k)
				delete(want, k)
			} else {
				v := rng.Int()
				e.Set(k, v)
				want[k] = v
			}
			wv, wok := want[k]
			if got, ok := e.Get(k); got != wv || ok != wok {
				t.Fatalf("round %d: the editor reads %s = %d, %v; want %d, %v", round, k, got, ok, wv, wok)
			}
		}
		cur = e.Map()
		versions = append(versions, version{cur, clone(want)})
	}
	for i, v := range versions {
		checkSorted(t, i, v.m, v.want)
	}
}

func clone(m map[string]int) map[string]int {
	out := make(map[string]int, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func checkSorted(t *testing.T, version int, m Sorted[int], want map[string]int) {
	t.Helper()
	if m.Len() != len(want) {
		t.Fatalf("version %d: Len %d, want %d", version, m.Len(), len(want))
	}
	var keys []string
	for k, v := range m.All() {
		if want[k] != v {
			t.Fatalf("version %d: %s = %d, want %d", version, k, v, want[k])
		}
		keys = append(keys, k)
	}
	if !slices.IsSorted(keys) || len(keys) != len(want) {
		t.Fatalf("version %d: All yields %d keys, sorted %v; want %d", version, len(keys), slices.IsSorted(keys), len(want))
	}
	for k, v := range want {
		if got, ok := m.Get(k); !ok || got != v {
			t.Fatalf("version %d: Get(%s) = %d, %v; want %d", version, k, got, ok, v)
		}
	}
	if _, ok := m.Get("absent"); ok {
		t.Fatalf("version %d: Get of an absent key found it", version)
	}
	for _, c := range m.chunks {
		if len(c.keys) == 0 || len(c.keys) > 2*sortedChunk {
			t.Fatalf("version %d: a chunk of %d entries", version, len(c.keys))
		}
	}
}

// TestSortedDeletesEverything empties a large Sorted one key at a time.
func TestSortedDeletesEverything(t *testing.T) {
	e := Sorted[int]{}.Edit()
	for i := range 5000 {
		e.Set(strconv.Itoa(i), i)
	}
	full := e.Map()
	e = full.Edit()
	for i := range 5000 {
		e.Delete(strconv.Itoa(i))
	}
	if empty := e.Map(); empty.Len() != 0 || len(empty.chunks) != 0 {
		t.Fatalf("after deleting everything: Len %d, %d chunks", empty.Len(), len(empty.chunks))
	}
	if full.Len() != 5000 {
		t.Fatalf("the base changed: Len %d", full.Len())
	}
}
