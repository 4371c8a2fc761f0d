package cowmap

import (
	"cmp"
	"iter"
	"slices"
)

const (
	vecBits = 5
	vecFan  = 1 << vecBits
)

// Vec is an immutable array of V indexed from 0: a trie of 32-way nodes,
// so that an edit copies the nodes on the path to what it changes (a few
// arrays of 32), whatever the length. The zero Vec is empty. A Vec is
// safe for concurrent use by any number of readers.
type Vec[V any] struct {
	root  *vnode[V]
	depth int // levels of interior nodes above the leaves
	n     int
}

// vnode is an interior node (kids) or a leaf (vals).
type vnode[V any] struct {
	kids *[vecFan]*vnode[V]
	vals *[vecFan]V
}

// Len returns the number of elements.
func (v Vec[V]) Len() int { return v.n }

// At returns element i, which must be below Len.
func (v Vec[V]) At(i int) V {
	nd := v.root
	for d := v.depth; d > 0; d-- {
		nd = nd.kids[(i>>(vecBits*d))&(vecFan-1)]
		if nd == nil {
			var zero V
			return zero
		}
	}
	return nd.vals[i&(vecFan-1)]
}

// VecEditor derives a new Vec from a base one, which it never modifies.
// It is not safe for concurrent use.
type VecEditor[V any] struct {
	v     Vec[V]
	owned map[*vnode[V]]bool
}

// Edit starts deriving a new Vec from v.
func (v Vec[V]) Edit() *VecEditor[V] { return &VecEditor[V]{v: v, owned: map[*vnode[V]]bool{}} }

// Len returns the number of elements so far.
func (e *VecEditor[V]) Len() int { return e.v.n }

// At reads element i through the edits made so far.
func (e *VecEditor[V]) At(i int) V { return e.v.At(i) }

// own returns the editor's own copy of *ref (a new node when nil).
func (e *VecEditor[V]) own(ref **vnode[V], leaf bool) *vnode[V] {
	nd := *ref
	if nd != nil && e.owned[nd] {
		return nd
	}
	c := &vnode[V]{}
	switch {
	case nd != nil && nd.kids != nil:
		kids := *nd.kids
		c.kids = &kids
	case nd != nil:
		vals := *nd.vals
		c.vals = &vals
	case leaf:
		c.vals = new([vecFan]V)
	default:
		c.kids = new([vecFan]*vnode[V])
	}
	e.owned[c] = true
	*ref = c
	return c
}

// Set puts v at index i, growing the Vec to i+1 elements if it is shorter
// (the elements between are zero).
func (e *VecEditor[V]) Set(i int, v V) {
	for i >= vecFan<<(vecBits*e.v.depth) {
		// One level more: the old root becomes the first kid.
		up := &vnode[V]{kids: new([vecFan]*vnode[V])}
		up.kids[0] = e.v.root
		e.owned[up] = true
		e.v.root, e.v.depth = up, e.v.depth+1
	}
	ref := &e.v.root
	for d := e.v.depth; d > 0; d-- {
		nd := e.own(ref, false)
		ref = &nd.kids[(i>>(vecBits*d))&(vecFan-1)]
	}
	e.own(ref, true).vals[i&(vecFan-1)] = v
	e.v.n = max(e.v.n, i+1)
}

// Vec returns the edited Vec. The editor must not be used afterwards.
func (e *VecEditor[V]) Vec() Vec[V] {
	v := e.v
	e.owned = nil
	return v
}

// setChunk is the number of values a Set's chunk is split back to: chunks
// hold from 1 to 2*setChunk values.
const setChunk = 128

// Set is an immutable set of ordered values that lists them in order, in
// chunks of at most 256 values, so that an edit copies the list of chunks
// and the chunks it touches. The zero Set is empty. A Set is safe for
// concurrent use by any number of readers.
type Set[T cmp.Ordered] struct {
	chunks [][]T
	n      int
}

// Len returns the number of values.
func (s Set[T]) Len() int { return s.n }

// All yields the values in increasing order.
func (s Set[T]) All() iter.Seq[T] { return s.Range(nil, nil) }

// Range yields, in increasing order, the values from *lo (nil: the first)
// up to and excluding *hi (nil: past the last).
func (s Set[T]) Range(lo, hi *T) iter.Seq[T] {
	return func(yield func(T) bool) {
		i, j := 0, 0
		if lo != nil && len(s.chunks) > 0 {
			i = locateSet(s.chunks, *lo)
			j, _ = slices.BinarySearch(s.chunks[i], *lo)
		}
		for ; i < len(s.chunks); i, j = i+1, 0 {
			for _, v := range s.chunks[i][j:] {
				if hi != nil && v >= *hi || !yield(v) {
					return
				}
			}
		}
	}
}

// locateSet returns the index of the chunk where v is, or would be.
func locateSet[T cmp.Ordered](chunks [][]T, v T) int {
	i, _ := slices.BinarySearchFunc(chunks, v, func(c []T, v T) int { return cmp.Compare(c[len(c)-1], v) })
	return min(i, len(chunks)-1)
}

// Has reports whether v is in the set.
func (s Set[T]) Has(v T) bool {
	if len(s.chunks) == 0 {
		return false
	}
	_, ok := slices.BinarySearch(s.chunks[locateSet(s.chunks, v)], v)
	return ok
}

// SetEditor derives a new Set from a base one, which it never modifies.
// It is not safe for concurrent use.
type SetEditor[T cmp.Ordered] struct {
	chunks [][]T
	owned  map[*T]bool // first elements of the chunks this editor made
	copied bool
	n      int
}

// Edit starts deriving a new Set from s.
func (s Set[T]) Edit() *SetEditor[T] { return &SetEditor[T]{chunks: s.chunks, n: s.n} }

// own returns the editor's own copy of chunk i.
func (e *SetEditor[T]) own(i int) []T {
	if !e.copied {
		e.chunks, e.copied = slices.Clone(e.chunks), true
		e.owned = map[*T]bool{}
	}
	c := e.chunks[i]
	if !e.owned[&c[0]] {
		c = append(make([]T, 0, len(c)+1), c...)
		e.chunks[i] = c
		e.owned[&c[0]] = true
	}
	return c
}

// Add puts v in the set.
func (e *SetEditor[T]) Add(v T) {
	if len(e.chunks) == 0 {
		c := []T{v}
		e.chunks, e.copied = [][]T{c}, true
		e.owned = map[*T]bool{&c[0]: true}
		e.n = 1
		return
	}
	i := locateSet(e.chunks, v)
	j, ok := slices.BinarySearch(e.chunks[i], v)
	if ok {
		return
	}
	c := e.own(i)
	delete(e.owned, &c[0])
	c = slices.Insert(c, j, v)
	e.owned[&c[0]] = true
	e.chunks[i] = c
	e.n++
	if len(c) > 2*setChunk {
		right := slices.Clone(c[setChunk:])
		e.chunks[i] = c[:setChunk:setChunk]
		e.chunks = slices.Insert(e.chunks, i+1, right)
		e.owned[&right[0]] = true
	}
}

// Remove takes v out of the set.
func (e *SetEditor[T]) Remove(v T) {
	if len(e.chunks) == 0 {
		return
	}
	i := locateSet(e.chunks, v)
	j, ok := slices.BinarySearch(e.chunks[i], v)
	if !ok {
		return
	}
	c := e.own(i)
	e.n--
	if len(c) == 1 {
		delete(e.owned, &c[0])
		e.chunks = slices.Delete(e.chunks, i, i+1)
		return
	}
	c = slices.Delete(c, j, j+1) // in place: c[0] stays where it was
	e.chunks[i] = c
	if len(c) >= setChunk/4 || len(e.chunks) == 1 {
		return
	}
	// Fold a small chunk into a neighbour, so that removals never leave a
	// long list of nearly empty chunks.
	if i+1 == len(e.chunks) {
		i--
	}
	if len(e.chunks[i])+len(e.chunks[i+1]) > 2*setChunk {
		return
	}
	left := e.own(i)
	delete(e.owned, &left[0])
	left = append(left, e.chunks[i+1]...)
	e.owned[&left[0]] = true
	e.chunks[i] = left
	e.chunks = slices.Delete(e.chunks, i+1, i+2)
}

// Set returns the edited Set. The editor must not be used afterwards.
// The chunks it made keep no spare room.
func (e *SetEditor[T]) Set() Set[T] {
	for i, c := range e.chunks {
		if e.owned[&c[0]] && cap(c) > len(c)+len(c)/8 {
			e.chunks[i] = slices.Clone(c)
		}
	}
	s := Set[T]{chunks: e.chunks, n: e.n}
	e.chunks, e.owned = nil, nil
	return s
}

// SetOf returns the Set of values, which must be sorted and without
// repeats. It takes the slice over: the caller must not use it again.
func SetOf[T cmp.Ordered](values []T) Set[T] {
	s := Set[T]{n: len(values)}
	for len(values) > 0 {
		k := min(len(values), setChunk+setChunk/2)
		s.chunks = append(s.chunks, values[:k:k])
		values = values[k:]
	}
	return s
}
