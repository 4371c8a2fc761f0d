// Package cowmap provides an immutable string-keyed hash map, sharded so
// that an edit copies only the shards it touches. Readers hold a Map value
// and never lock; a writer derives the next Map with an Editor and
// publishes it (for example behind an atomic.Pointer). Old Maps stay valid
// and unchanged.
//
// A lookup hashes the key once (with a per-process random seed, so keys
// chosen by an attacker cannot force collisions): the top bits pick the
// shard, the low bits the slot of an open-addressing table probed linearly.
// Tables are at most half full. Lookups do not allocate.
//
// Sorted is the ordered counterpart, for sets that are listed in key
// order: an edit copies only the chunks of entries it touches.
package cowmap

import (
	"hash/maphash"
	"slices"
)

const shardBits = 10

// Shards is the number of shards: an edit copies the shard array (8 KiB)
// and each shard it touches (about n/Shards entries).
const Shards = 1 << shardBits

var seed = maphash.MakeSeed()

func hash(key string) uint64 {
	// 0 marks an empty slot.
	return maphash.String(seed, key) | 1
}

func shardOf(h uint64) uint64 { return h >> (64 - shardBits) }

type slot[V any] struct {
	hash uint64
	key  string
	val  V
}

// table is one shard: a power-of-two open-addressing table.
type table[V any] struct {
	slots []slot[V]
	n     int
}

func (t *table[V]) get(h uint64, key string) (V, bool) {
	mask := uint64(len(t.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.hash == h && s.key == key {
			return s.val, true
		}
		if s.hash == 0 {
			var zero V
			return zero, false
		}
	}
}

// build makes a table holding entries.
func build[V any](entries map[string]V) *table[V] {
	if len(entries) == 0 {
		return nil
	}
	size := 2
	for size < 2*len(entries) {
		size <<= 1
	}
	t := &table[V]{slots: make([]slot[V], size), n: len(entries)}
	mask := uint64(size - 1)
	for k, v := range entries {
		h := hash(k)
		i := h & mask
		for t.slots[i].hash != 0 {
			i = (i + 1) & mask
		}
		t.slots[i] = slot[V]{hash: h, key: k, val: v}
	}
	return t
}

// Map is an immutable map from string to V. The zero Map is empty.
// A Map is safe for concurrent use by any number of readers.
type Map[V any] struct {
	shards *[Shards]*table[V]
	n      int
}

// Get returns the value for key. It does not allocate.
func (m Map[V]) Get(key string) (V, bool) {
	if m.shards != nil {
		h := hash(key)
		if t := m.shards[shardOf(h)]; t != nil {
			return t.get(h, key)
		}
	}
	var zero V
	return zero, false
}

// Len returns the number of entries.
func (m Map[V]) Len() int { return m.n }

// Range calls fn for every entry, in no particular order, until fn
// returns false.
func (m Map[V]) Range(fn func(key string, v V) bool) {
	if m.shards == nil {
		return
	}
	for _, t := range m.shards {
		if t == nil {
			continue
		}
		for _, s := range t.slots {
			if s.hash != 0 && !fn(s.key, s.val) {
				return
			}
		}
	}
}

// Editor derives a new Map from a base Map. It is not safe for concurrent
// use; the base Map is never modified. The first write to a shard copies
// that shard's table (a flat copy of its slots); later writes to it are
// made in place.
type Editor[V any] struct {
	base   Map[V]
	shards *[Shards]*table[V] // nil until the first write
	copied map[uint64]bool    // shards this editor owns
	n      int
}

// Edit starts deriving a new Map from m.
func (m Map[V]) Edit() *Editor[V] {
	return &Editor[V]{base: m, n: m.n}
}

// own returns the editor's own copy of the shard holding hash h.
func (e *Editor[V]) own(h uint64) *table[V] {
	if e.shards == nil {
		e.shards = new([Shards]*table[V])
		if e.base.shards != nil {
			*e.shards = *e.base.shards
		}
		e.copied = map[uint64]bool{}
	}
	i := shardOf(h)
	if !e.copied[i] {
		t := &table[V]{}
		if old := e.shards[i]; old != nil {
			t.slots, t.n = slices.Clone(old.slots), old.n
		}
		e.shards[i] = t
		e.copied[i] = true
	}
	return e.shards[i]
}

// Get reads through the edits made so far.
func (e *Editor[V]) Get(key string) (V, bool) {
	if e.shards == nil {
		return e.base.Get(key)
	}
	h := hash(key)
	if t := e.shards[shardOf(h)]; t != nil && len(t.slots) > 0 {
		return t.get(h, key)
	}
	var zero V
	return zero, false
}

// Set puts key → v.
func (e *Editor[V]) Set(key string, v V) {
	h := hash(key)
	t := e.own(h)
	if 2*(t.n+1) > len(t.slots) {
		t.grow()
	}
	mask := uint64(len(t.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.hash == h && s.key == key {
			s.val = v
			return
		}
		if s.hash == 0 {
			*s = slot[V]{hash: h, key: key, val: v}
			t.n++
			e.n++
			return
		}
	}
}

// grow doubles the table (at least 2 slots) and re-places every entry.
func (t *table[V]) grow() {
	old := t.slots
	t.slots = make([]slot[V], max(2, 2*len(old)))
	mask := uint64(len(t.slots) - 1)
	for _, s := range old {
		if s.hash == 0 {
			continue
		}
		i := s.hash & mask
		for t.slots[i].hash != 0 {
			i = (i + 1) & mask
		}
		t.slots[i] = s
	}
}

// Delete removes key.
func (e *Editor[V]) Delete(key string) {
	if _, ok := e.Get(key); !ok {
		return
	}
	h := hash(key)
	t := e.own(h)
	mask := uint64(len(t.slots) - 1)
	i := h & mask
	for t.slots[i].hash != h || t.slots[i].key != key {
		i = (i + 1) & mask
	}
	// Backward-shift deletion: pull later entries of the probe run into
	// the hole when their home slot allows it, so no tombstones are needed.
	for j := (i + 1) & mask; t.slots[j].hash != 0; j = (j + 1) & mask {
		home := t.slots[j].hash & mask
		if (j-home)&mask >= (j-i)&mask {
			t.slots[i] = t.slots[j]
			i = j
		}
	}
	t.slots[i] = slot[V]{}
	t.n--
	e.n--
}

// Map returns the edited Map. The Editor must not be used afterwards.
func (e *Editor[V]) Map() Map[V] {
	if e.shards == nil {
		return e.base
	}
	for i := range e.copied {
		if e.shards[i].n == 0 {
			e.shards[i] = nil
		}
	}
	m := Map[V]{shards: e.shards, n: e.n}
	e.shards, e.copied = nil, nil
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

// Ref returns a pointer to the value stored for key, which the caller must
// not modify: it saves copying a large V. It does not allocate.
func (m Map[V]) Ref(key string) (*V, bool) {
	if m.shards != nil {
		h := hash(key)
		if t := m.shards[shardOf(h)]; t != nil {
			mask := uint64(len(t.slots) - 1)
			for i := h & mask; ; i = (i + 1) & mask {
				s := &t.slots[i]
				if s.hash == h && s.key == key {
					return &s.val, true
				}
				if s.hash == 0 {
					break
				}
			}
		}
	}
	return nil, false
}
