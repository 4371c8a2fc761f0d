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
