package cowmap

import (
	"maps"
	"math/rand/v2"
	"strconv"
	"testing"
)

func TestEditorKeepsBaseUnchanged(t *testing.T) {
	var m Map[int]
	e := m.Edit()
	for i := 0; i < 5000; i++ {
		e.Set(strconv.Itoa(i), i)
	}
	base := e.Map()
	if base.Len() != 5000 {
		t.Fatalf("Len = %d, want 5000", base.Len())
	}
	e = base.Edit()
	e.Set("new", -1)
	e.Set("7", 70)
	e.Delete("8")
	e.Delete("absent")
	if v, ok := e.Get("7"); !ok || v != 70 {
		t.Fatalf("editor Get(7) = %d, %v", v, ok)
	}
	next := e.Map()
	for _, c := range []struct {
		m    Map[int]
		key  string
		want int
		ok   bool
	}{
		{base, "7", 7, true}, {base, "8", 8, true}, {base, "new", 0, false},
		{next, "7", 70, true}, {next, "8", 0, false}, {next, "new", -1, true}, {next, "4999", 4999, true},
	} {
		v, ok := c.m.Get(c.key)
		if v != c.want || ok != c.ok {
			t.Errorf("Get(%q) = %d, %v; want %d, %v", c.key, v, ok, c.want, c.ok)
		}
		p, ok := c.m.Ref(c.key)
		if ok != c.ok || (ok && *p != c.want) {
			t.Errorf("Ref(%q) = %v, %v", c.key, p, ok)
		}
	}
	if next.Len() != 5000 {
		t.Fatalf("next Len = %d, want 5000", next.Len())
	}
	n := 0
	next.Range(func(string, int) bool { n++; return true })
	if n != 5000 {
		t.Fatalf("Range visited %d, want 5000", n)
	}
	if got := base.Edit().Map(); got.Len() != base.Len() {
		t.Fatal("an empty edit changed the map")
	}
}

func TestNamesAndFrozen(t *testing.T) {
	m := map[string]int32{}
	for i := 0; i < 300; i++ {
		m["Set"+strconv.Itoa(i)+"FullAccess"] = int32(i)
	}
	m["x"] = 1000
	names, frozen := NewNames(m), Freeze(m)
	for k, v := range m {
		if got, ok := names.Get(k); !ok || got != v {
			t.Fatalf("Names.Get(%q) = %d, %v", k, got, ok)
		}
		if got, ok := frozen.Get(k); !ok || got != v {
			t.Fatalf("Frozen.Get(%q) = %d, %v", k, got, ok)
		}
	}
	for _, k := range []string{"", "Set", "Set300FullAccess", "y"} {
		if _, ok := names.Get(k); ok {
			t.Fatalf("Names.Get(%q) found", k)
		}
		if _, ok := frozen.Get(k); ok {
			t.Fatalf("Frozen.Get(%q) found", k)
		}
	}
	var empty Names
	if _, ok := empty.Get("a"); ok {
		t.Fatal("empty Names found a key")
	}
}

// TestEditsAgainstAMap applies random sets and deletes, several per edit,
// and compares every derived Map (and every earlier one) with a Go map.
func TestEditsAgainstAMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var m Map[int]
	model := map[string]int{}
	type version struct {
		m     Map[int]
		model map[string]int
	}
	var versions []version
	for round := 0; round < 300; round++ {
		e := m.Edit()
		for op := 0; op < 1+rng.IntN(40); op++ {
			k := strconv.Itoa(rng.IntN(3000))
			if rng.IntN(3) == 0 {
				e.Delete(k)
				delete(model, k)
			} else {
				v := rng.Int()
				e.Set(k, v)
				model[k] = v
			}
		}
		m = e.Map()
		versions = append(versions, version{m, maps.Clone(model)})
	}
	for i, v := range versions {
		if v.m.Len() != len(v.model) {
			t.Fatalf("version %d: Len %d, want %d", i, v.m.Len(), len(v.model))
		}
		for k := 0; k < 3000; k++ {
			key := strconv.Itoa(k)
			got, ok := v.m.Get(key)
			want, wok := v.model[key]
			if ok != wok || got != want {
				t.Fatalf("version %d: Get(%q) = %d, %v; want %d, %v", i, key, got, ok, want, wok)
			}
		}
	}
}

// TestLargeMapSplitsAndKeepsOldVersions fills a Map far past the point
// where its shards split into branches, edits it, and checks that every
// version holds exactly its entries and that a write copies a bounded
// part of it.
func TestLargeMapSplitsAndKeepsOldVersions(t *testing.T) {
	n := (leafMax + 40) * Shards // shards split past leafMax entries
	if testing.Short() {
		n = 50_000
	}
	e := Map[int]{}.Edit()
	for i := range n {
		e.Set("k"+strconv.Itoa(i), i)
	}
	big := e.Map()
	if big.Len() != n {
		t.Fatalf("Len = %d, want %d", big.Len(), n)
	}
	e = big.Edit()
	for i := 0; i < n; i += 2 {
		e.Delete("k" + strconv.Itoa(i))
	}
	e.Set("k1", -1)
	half := e.Map()
	for i := range n {
		k := "k" + strconv.Itoa(i)
		if v, ok := big.Get(k); !ok || v != i {
			t.Fatalf("old version: Get(%q) = %d, %v", k, v, ok)
		}
		want, wok := i, i%2 == 1
		if i == 1 {
			want = -1
		}
		if v, ok := half.Get(k); ok != wok || (ok && v != want) {
			t.Fatalf("new version: Get(%q) = %d, %v; want %d, %v", k, v, ok, want, wok)
		}
	}
	if half.Len() != n/2 {
		t.Fatalf("Len = %d, want %d", half.Len(), n/2)
	}
	seen := 0
	half.Range(func(k string, v int) bool { seen++; return true })
	if seen != n/2 {
		t.Fatalf("Range visited %d, want %d", seen, n/2)
	}
	// One write owns the shard array and at most a few nodes.
	e = half.Edit()
	e.Set("k3", 3)
	if len(e.owned) > 4 {
		t.Fatalf("one write copied %d nodes", len(e.owned))
	}
}
