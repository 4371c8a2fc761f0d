// Package cowmap provides an immutable string-keyed hash map whose edits
// copy only the path to what they change. Readers hold a Map value and
// never lock; a writer derives the next Map with an Editor and publishes
// it (for example behind an atomic.Pointer). Old Maps stay valid and
// unchanged.
//
// A lookup hashes the key once (with a per-process random seed, so keys
// chosen by an attacker cannot force collisions). The top bits of the hash
// pick one of Shards shards (through two arrays of 64: a top one and one
// below it); a shard is a leaf, a small open-addressing table probed
// linearly from the low bits, or, once it holds more than leafMax entries,
// a branch of 16 nodes picked by the next four bits, and so on down. So an
// edit copies two arrays of 64 pointers, the branches on its path and one
// leaf of at most leafMax entries, whatever the size of the map: the cost
// of a write does not grow with the map. Leaves are at most seven eighths
// full. Lookups do not allocate.
//
// Sorted is the ordered counterpart, for sets that are listed in key
// order: an edit copies only the chunks of entries it touches.
package cowmap

import (
	"hash/maphash"
	"slices"
)

const (
	shardBits = 12
	topBits   = 6 // the top array picks a mid array, which picks the shard
	midBits   = shardBits - topBits
)

// Shards is the number of shards: an edit copies two arrays of 64 pointers
// (the top one and one below it), and below them at most a few branches of
// 16 pointers and one leaf.
const Shards = 1 << shardBits

type (
	root[V any] [1 << topBits]*mid[V]
	mid[V any]  struct {
		nodes [1 << midBits]*node[V]
		// leaves repeats the slots of the nodes that are leaves, so that a
		// lookup reaches a leaf's slots without first reading its node:
		// one dependent load less. An Editor fills them when it returns
		// its Map; they are nil in a mid array it is editing, whose
		// lookups read the nodes.
		leaves [1 << midBits][]slot[V]
	}
)

const (
	kidBits = 4
	fanout  = 1 << kidBits
	// leafMax is the most entries a leaf holds before it splits into a
	// branch (while hash bits remain to split on): up to about 1.3M
	// entries (about 320 per shard at most), shards are leaves, which a
	// lookup reaches straight from its mid array; a branch costs a lookup
	// three more dependent loads (the node, its children, the child), the
	// most expensive part of a lookup in a large map. The price is an edit
	// copying a leaf of up to leafMax entries (about 30 KB for the
	// Evaluator's principal table), which stays small beside a write.
	leafMax = 384
	// minShift keeps the bits that pick a branch's child apart from the
	// low bits that pick a leaf's slot.
	minShift = 24
)

var seed = maphash.MakeSeed()

func hash(key string) uint64 {
	// 0 marks an empty slot.
	return maphash.String(seed, key) | 1
}

type slot[V any] struct {
	hash uint64
	key  string
	val  V
}

// table is an open-addressing table of a power-of-two size, for Frozen.
type table[V any] struct {
	slots []slot[V]
	n     int
}

func (t *table[V]) get(h uint64, key string) (V, bool) {
	if s := probe(t.slots, h, key); s != nil {
		return s.val, true
	}
	var zero V
	return zero, false
}

// probe finds key in slots, an open-addressing table (or empty).
func probe[V any](slots []slot[V], h uint64, key string) *slot[V] {
	if len(slots) == 0 {
		return nil
	}
	for i := home(h, len(slots)); ; {
		s := &slots[i]
		if s.hash == h && s.key == key {
			return s
		}
		if s.hash == 0 {
			return nil
		}
		if i++; i == len(slots) {
			i = 0
		}
	}
}

// home is the first slot of hash h in a table of size n: the low 32 bits
// of the hash (the high ones pick the shard and the branches), scaled to
// n, so that a table need not be a power of two.
func home(h uint64, n int) int { return int(uint64(uint32(h)) * uint64(n) >> 32) }

// build makes a table holding entries.
func build[V any](entries map[string]V) *table[V] {
	if len(entries) == 0 {
		return nil
	}
	t := &table[V]{slots: make([]slot[V], tableSize(len(entries))), n: len(entries)}
	for k, v := range entries {
		place(t.slots, slot[V]{hash: hash(k), key: k, val: v})
	}
	return t
}

// tableSize is the size of a table for n entries: about four fifths
// full, so that it grows again (at seven eighths) only after n/10 more.
// Slots are large (a key, its hash and the value) and probe runs short at
// that load, so that the memory goes to entries.
func tableSize(n int) int { return n + n/4 + 2 }

// full reports whether a table of size size is too full for n entries.
func full(n, size int) bool { return 8*n > 7*size }

// place puts s in the first free slot of its probe run.
func place[V any](slots []slot[V], s slot[V]) {
	i := home(s.hash, len(slots))
	for slots[i].hash != 0 {
		if i++; i == len(slots) {
			i = 0
		}
	}
	slots[i] = s
}

// node is a shard or part of one: a leaf (kids nil) holding its entries in
// slots, or a branch whose kids split its entries by four more bits of
// their hash.
type node[V any] struct {
	slots []slot[V]
	n     int // a leaf's entries
	kids  *[fanout]*node[V]
}

// Map is an immutable map from string to V. The zero Map is empty.
// A Map is safe for concurrent use by any number of readers.
type Map[V any] struct {
	root *root[V]
	n    int
}

// find returns the slot of key, or nil.
func (m Map[V]) find(key string) *slot[V] {
	if m.root == nil {
		return nil
	}
	h := hash(key)
	md := m.root[h>>(64-topBits)]
	if md == nil {
		return nil
	}
	shift := uint(64 - shardBits)
	i := (h >> shift) & (1<<midBits - 1)
	if s := md.leaves[i]; s != nil {
		return probe(s, h, key)
	}
	nd := md.nodes[i]
	for nd != nil && nd.kids != nil {
		shift -= kidBits
		nd = nd.kids[(h>>shift)&(fanout-1)]
	}
	if nd == nil {
		return nil
	}
	return probe(nd.slots, h, key)
}

// Get returns the value for key. It does not allocate.
func (m Map[V]) Get(key string) (V, bool) {
	if s := m.find(key); s != nil {
		return s.val, true
	}
	var zero V
	return zero, false
}

// Ref returns a pointer to the value stored for key, which the caller must
// not modify: it saves copying a large V. It does not allocate.
func (m Map[V]) Ref(key string) (*V, bool) {
	if s := m.find(key); s != nil {
		return &s.val, true
	}
	return nil, false
}

// Entry is Ref, and returns as well the key as it was stored (equal to
// key, but perhaps held elsewhere in memory). It does not allocate.
func (m Map[V]) Entry(key string) (string, *V, bool) {
	if s := m.find(key); s != nil {
		return s.key, &s.val, true
	}
	return "", nil, false
}

// Len returns the number of entries.
func (m Map[V]) Len() int { return m.n }

// Range calls fn for every entry, in no particular order, until fn
// returns false.
func (m Map[V]) Range(fn func(key string, v V) bool) {
	if m.root == nil {
		return
	}
	for _, md := range m.root {
		if md == nil {
			continue
		}
		for _, nd := range md.nodes {
			if !walk(nd, fn) {
				return
			}
		}
	}
}

func walk[V any](nd *node[V], fn func(key string, v V) bool) bool {
	if nd == nil {
		return true
	}
	if nd.kids != nil {
		for _, k := range nd.kids {
			if !walk(k, fn) {
				return false
			}
		}
		return true
	}
	for _, s := range nd.slots {
		if s.hash != 0 && !fn(s.key, s.val) {
			return false
		}
	}
	return true
}

// Editor derives a new Map from a base Map. It is not safe for concurrent
// use; the base Map is never modified. The first write below a node copies
// it (a leaf's slots, or a branch's 16 pointers); later writes to it are
// made in place.
type Editor[V any] struct {
	base     Map[V]
	root     *root[V]           // nil until the first write
	ownedMid [1 << topBits]bool // the mid arrays this editor made
	owned    map[*node[V]]bool  // nodes this editor made
	n        int
}

// Edit starts deriving a new Map from m.
func (m Map[V]) Edit() *Editor[V] {
	return &Editor[V]{base: m, n: m.n}
}

// current is the Map as edited so far.
func (e *Editor[V]) current() Map[V] {
	if e.root == nil {
		return e.base
	}
	return Map[V]{root: e.root, n: e.n}
}

// Get reads through the edits made so far.
func (e *Editor[V]) Get(key string) (V, bool) { return e.current().Get(key) }

// leaf returns the reference to the editor's own copy of the leaf where
// the key of hash h belongs (making an empty leaf if there is none), and
// the shift of the bits above that leaf.
func (e *Editor[V]) leaf(h uint64) (**node[V], uint) {
	if e.root == nil {
		e.root = new(root[V])
		if e.base.root != nil {
			*e.root = *e.base.root
		}
		e.owned = map[*node[V]]bool{}
	}
	t := h >> (64 - topBits)
	if !e.ownedMid[t] {
		md := new(mid[V])
		if old := e.root[t]; old != nil {
			md.nodes = old.nodes // leaves stay nil until Map
		}
		e.root[t], e.ownedMid[t] = md, true
	}
	shift := uint(64 - shardBits)
	ref := &e.root[t].nodes[(h>>shift)&(1<<midBits-1)]
	for {
		nd := *ref
		switch {
		case nd == nil:
			nd = &node[V]{}
			e.owned[nd] = true
			*ref = nd
		case !e.owned[nd]:
			c := &node[V]{n: nd.n}
			if nd.kids != nil {
				kids := *nd.kids
				c.kids = &kids
			} else {
				c.slots = slices.Clone(nd.slots)
			}
			nd = c
			e.owned[nd] = true
			*ref = nd
		}
		if nd.kids == nil {
			return ref, shift
		}
		shift -= kidBits
		ref = &nd.kids[(h>>shift)&(fanout-1)]
	}
}

// Set puts key → v.
func (e *Editor[V]) Set(key string, v V) {
	h := hash(key)
	ref, shift := e.leaf(h)
	nd := *ref
	if s := probe(nd.slots, h, key); s != nil {
		s.key, s.val = key, v // the caller may give the key's bytes a new home
		return
	}
	if nd.n >= leafMax && shift >= minShift+kidBits {
		e.split(ref, shift)
		ref, _ = e.leaf(h)
		nd = *ref
	}
	if full(nd.n+1, len(nd.slots)) {
		grown := make([]slot[V], tableSize(nd.n+1))
		for _, s := range nd.slots {
			if s.hash != 0 {
				place(grown, s)
			}
		}
		nd.slots = grown
	}
	place(nd.slots, slot[V]{hash: h, key: key, val: v})
	nd.n++
	e.n++
}

// split turns the leaf at *ref, under bits of shift, into a branch whose
// kids hold its entries.
func (e *Editor[V]) split(ref **node[V], shift uint) {
	old := *ref
	shift -= kidBits
	var counts [fanout]int
	for _, s := range old.slots {
		if s.hash != 0 {
			counts[(s.hash>>shift)&(fanout-1)]++
		}
	}
	b := &node[V]{kids: new([fanout]*node[V])}
	for i, c := range counts {
		if c > 0 {
			kid := &node[V]{slots: make([]slot[V], tableSize(c)), n: c}
			b.kids[i] = kid
			e.owned[kid] = true
		}
	}
	for _, s := range old.slots {
		if s.hash != 0 {
			place(b.kids[(s.hash>>shift)&(fanout-1)].slots, s)
		}
	}
	e.owned[b] = true
	*ref = b
}

// Delete removes key.
func (e *Editor[V]) Delete(key string) {
	if _, ok := e.Get(key); !ok {
		return
	}
	h := hash(key)
	ref, _ := e.leaf(h)
	nd := *ref
	t := nd.slots
	n := len(t)
	i := home(h, n)
	for t[i].hash != h || t[i].key != key {
		if i++; i == n {
			i = 0
		}
	}
	// Backward-shift deletion: pull later entries of the probe run into
	// the hole when their home slot allows it, so no tombstones are needed.
	dist := func(from, to int) int { return (to - from + n) % n }
	for j := (i + 1) % n; t[j].hash != 0; j = (j + 1) % n {
		if dist(home(t[j].hash, n), j) >= dist(i, j) {
			t[i] = t[j]
			i = j
		}
	}
	t[i] = slot[V]{}
	nd.n--
	e.n--
	if nd.n == 0 {
		*ref = nil
	}
}

// Map returns the edited Map. The Editor must not be used afterwards.
func (e *Editor[V]) Map() Map[V] {
	if e.root != nil {
		for t, md := range e.root {
			if !e.ownedMid[t] || md == nil {
				continue
			}
			for i, nd := range md.nodes {
				if nd != nil && nd.kids == nil && len(nd.slots) > 0 {
					md.leaves[i] = nd.slots
				}
			}
		}
	}
	m := e.current()
	e.root, e.owned = nil, nil
	return m
}

// Frozen is an immutable, unsharded map built once: a table for small
// read-mostly sets such as a catalogue's names. The zero Frozen is empty.
type Frozen[V any] struct{ t *table[V] }

// Freeze builds a Frozen holding the entries of m.
func Freeze[V any](m map[string]V) Frozen[V] { return Frozen[V]{build(m)} }

// Get returns the value for key. It does not allocate.
func (f Frozen[V]) Get(key string) (V, bool) {
	if f.t == nil {
		var zero V
		return zero, false
	}
	return f.t.get(hash(key), key)
}
