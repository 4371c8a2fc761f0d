package cowmap

import (
	"iter"
	"slices"
	"strings"
)

// sortedChunk is the number of entries a Sorted's chunk is split back to:
// chunks hold from 1 to 2*sortedChunk entries.
const sortedChunk = 128

// Sorted is an immutable map from string to V that lists its entries in
// key order. Its entries lie in a sorted list of chunks of at most 256
// entries, so that an edit copies the list of chunks (one pointer per
// chunk) and the chunks it touches, never the whole map. The zero Sorted
// is empty. A Sorted is safe for concurrent use by any number of readers.
type Sorted[V any] struct {
	chunks []*chunk[V]
	n      int
}

type chunk[V any] struct {
	keys []string
	vals []V
}

// Len returns the number of entries.
func (m Sorted[V]) Len() int { return m.n }

// locate returns the index of the chunk where key is, or would be: the
// first chunk whose last key is not below key, else the last chunk.
func locate[V any](chunks []*chunk[V], key string) int {
	i, _ := slices.BinarySearchFunc(chunks, key, func(c *chunk[V], k string) int {
		return strings.Compare(c.keys[len(c.keys)-1], k)
	})
	return min(i, len(chunks)-1)
}

// Get returns the value for key.
func (m Sorted[V]) Get(key string) (V, bool) {
	if len(m.chunks) > 0 {
		c := m.chunks[locate(m.chunks, key)]
		if j, ok := slices.BinarySearch(c.keys, key); ok {
			return c.vals[j], true
		}
	}
	var zero V
	return zero, false
}

// All yields every entry in key order.
func (m Sorted[V]) All() iter.Seq2[string, V] {
	return func(yield func(string, V) bool) {
		for _, c := range m.chunks {
			for j, k := range c.keys {
				if !yield(k, c.vals[j]) {
					return
				}
			}
		}
	}
}

// EachChunk calls fn with the keys in order, a chunk at a time: the
// fastest way through all of them. fn must not modify keys.
func (m Sorted[V]) EachChunk(fn func(keys []string)) {
	for _, c := range m.chunks {
		fn(c.keys)
	}
}

// SortedEditor derives a new Sorted from a base one, which it never
// modifies. It is not safe for concurrent use.
type SortedEditor[V any] struct {
	chunks []*chunk[V]
	owned  map[*chunk[V]]bool // chunks this editor made, to edit in place
	copied bool               // chunks is the editor's own list
	n      int
}

// Edit starts deriving a new Sorted from m.
func (m Sorted[V]) Edit() *SortedEditor[V] {
	return &SortedEditor[V]{chunks: m.chunks, n: m.n}
}

// Get reads through the edits made so far.
func (e *SortedEditor[V]) Get(key string) (V, bool) {
	return Sorted[V]{chunks: e.chunks}.Get(key)
}

// own returns the editor's own copy of chunk i.
func (e *SortedEditor[V]) own(i int) *chunk[V] {
	if !e.copied {
		e.chunks, e.copied = slices.Clone(e.chunks), true
		e.owned = map[*chunk[V]]bool{}
	}
	c := e.chunks[i]
	if !e.owned[c] {
		c = &chunk[V]{keys: slices.Clone(c.keys), vals: slices.Clone(c.vals)}
		e.chunks[i] = c
		e.owned[c] = true
	}
	return c
}

// Set puts key → v.
func (e *SortedEditor[V]) Set(key string, v V) {
	if len(e.chunks) == 0 {
		e.chunks, e.copied = []*chunk[V]{{keys: []string{key}, vals: []V{v}}}, true
		e.owned = map[*chunk[V]]bool{e.chunks[0]: true}
		e.n = 1
		return
	}
	i := locate(e.chunks, key)
	j, ok := slices.BinarySearch(e.chunks[i].keys, key)
	if ok {
		e.own(i).vals[j] = v
		return
	}
	c := e.own(i)
	c.keys = slices.Insert(c.keys, j, key)
	c.vals = slices.Insert(c.vals, j, v)
	e.n++
	if c := e.chunks[i]; len(c.keys) > 2*sortedChunk {
		right := &chunk[V]{keys: slices.Clone(c.keys[sortedChunk:]), vals: slices.Clone(c.vals[sortedChunk:])}
		clear(c.keys[sortedChunk:])
		clear(c.vals[sortedChunk:])
		c.keys, c.vals = c.keys[:sortedChunk], c.vals[:sortedChunk]
		e.chunks = slices.Insert(e.chunks, i+1, right)
		e.owned[right] = true
	}
}

// Delete removes key.
func (e *SortedEditor[V]) Delete(key string) {
	if len(e.chunks) == 0 {
		return
	}
	i := locate(e.chunks, key)
	j, ok := slices.BinarySearch(e.chunks[i].keys, key)
	if !ok {
		return
	}
	c := e.own(i)
	c.keys = slices.Delete(c.keys, j, j+1)
	c.vals = slices.Delete(c.vals, j, j+1)
	e.n--
	if len(c.keys) == 0 {
		e.chunks = slices.Delete(e.chunks, i, i+1)
		return
	}
	if len(c.keys) >= sortedChunk/4 || len(e.chunks) == 1 {
		return
	}
	// Fold a small chunk into a neighbour, so that deletes never leave a
	// long list of nearly empty chunks.
	if i+1 == len(e.chunks) {
		i-- // the last chunk folds into the one before it
	}
	if len(e.chunks[i].keys)+len(e.chunks[i+1].keys) > 2*sortedChunk {
		return
	}
	left, right := e.own(i), e.chunks[i+1]
	left.keys = append(left.keys, right.keys...)
	left.vals = append(left.vals, right.vals...)
	e.chunks = slices.Delete(e.chunks, i+1, i+2)
}

// Map returns the edited Sorted. The editor must not be used afterwards.
func (e *SortedEditor[V]) Map() Sorted[V] {
	m := Sorted[V]{chunks: e.chunks, n: e.n}
	e.chunks, e.owned = nil, nil
	return m
}

// SortedOf returns the Sorted of keys and vals: keys sorted, without
// repeats, vals[i] the value of keys[i]. It takes the slices over: the
// caller must not use them again.
func SortedOf[V any](keys []string, vals []V) Sorted[V] {
	m := Sorted[V]{n: len(keys)}
	for len(keys) > 0 {
		k := min(len(keys), sortedChunk+sortedChunk/2)
		m.chunks = append(m.chunks, &chunk[V]{keys: keys[:k:k], vals: vals[:k:k]})
		keys, vals = keys[k:], vals[k:]
	}
	return m
}
