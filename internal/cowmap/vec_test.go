package cowmap

import (
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
)

// TestSetMatchesAMapAndKeepsOldVersions edits an IntSet at random and
// checks every version against a plain map: its values in order, Has and
// Len, and that no later edit changed an older version.
func TestSetMatchesAMapAndKeepsOldVersions(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	type version struct {
		s    Set[int32]
		want map[int32]bool
	}
	var versions []version
	cur, want := Set[int32]{}, map[int32]bool{}
	for round := range 300 {
		e := cur.Edit()
		edits := 1 + rng.IntN(40)
		if round%50 == 0 {
			edits = 3000
		}
		for range edits {
			v := int32(rng.IntN(4000))
			if rng.IntN(3) == 0 {
				e.Remove(v)
				delete(want, v)
			} else {
				e.Add(v)
				want[v] = true
			}
		}
		cur = e.Set()
		versions = append(versions, version{cur, maps.Clone(want)})
	}
	for i, v := range versions {
		got := slices.Collect(v.s.All())
		exp := slices.Sorted(maps.Keys(v.want))
		if !slices.Equal(got, exp) || v.s.Len() != len(exp) {
			t.Fatalf("version %d: %d values, Len %d; want %d", i, len(got), v.s.Len(), len(exp))
		}
		for k := int32(0); k < 4000; k += 7 {
			if v.s.Has(k) != v.want[k] {
				t.Fatalf("version %d: Has(%d) = %v", i, k, !v.want[k])
			}
		}
		lo, hi := int32(1000), int32(2000)
		var between []int32
		for _, x := range exp {
			if x >= lo && x < hi {
				between = append(between, x)
			}
		}
		if got := slices.Collect(v.s.Range(&lo, &hi)); !slices.Equal(got, between) {
			t.Fatalf("version %d: Range gives %d values, want %d", i, len(got), len(between))
		}
		for j := 1; j < len(v.s.chunks); j++ {
			if len(v.s.chunks[j]) == 0 || len(v.s.chunks[j]) > 2*setChunk {
				t.Fatalf("version %d: chunk %d holds %d values", i, j, len(v.s.chunks[j]))
			}
		}
	}
}

func TestVecKeepsOldVersions(t *testing.T) {
	var v Vec[int]
	e := v.Edit()
	for i := range 1000 {
		e.Set(i, i)
	}
	a := e.Vec()
	e = a.Edit()
	e.Set(5, -5)
	e.Set(1200, 12)
	b := e.Vec()
	if a.Len() != 1000 || b.Len() != 1201 || a.At(5) != 5 || b.At(5) != -5 || b.At(1100) != 0 || b.At(1200) != 12 || b.At(999) != 999 {
		t.Fatalf("a: %d %d; b: %d %d %d %d", a.Len(), a.At(5), b.Len(), b.At(5), b.At(1100), b.At(1200))
	}
}

func TestSetOfAndSortedOfMatchEdits(t *testing.T) {
	var vals []int32
	var keys []string
	for i := range 1000 {
		vals = append(vals, int32(3*i))
		keys = append(keys, strconv.Itoa(100000+i))
	}
	s := SetOf(slices.Clone(vals))
	m := SortedOf(slices.Clone(keys), make([]int, len(keys)))
	if got := slices.Collect(s.All()); !slices.Equal(got, vals) || s.Len() != 1000 || !s.Has(300) || s.Has(301) {
		t.Fatalf("SetOf: %d values", len(got))
	}
	e := s.Edit()
	e.Add(301)
	e.Remove(0)
	if s2 := e.Set(); s2.Len() != 1000 || !s2.Has(301) || s2.Has(0) || !s.Has(0) {
		t.Fatal("editing a SetOf")
	}
	var got []string
	for k := range m.All() {
		got = append(got, k)
	}
	if !slices.Equal(got, keys) || m.Len() != 1000 {
		t.Fatalf("SortedOf: %d keys", len(got))
	}
	me := m.Edit()
	me.Set("0", 1)
	me.Delete(keys[500])
	m2 := me.Map()
	if _, ok := m2.Get("0"); !ok || m2.Len() != 1000 {
		t.Fatal("editing a SortedOf")
	}
	if _, ok := m2.Get(keys[500]); ok {
		t.Fatal("a deleted key stays")
	}
}
