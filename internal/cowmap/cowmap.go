// Package cowmap provides an immutable string-keyed map, sharded so that an
// edit copies only the shards it touches. Readers hold a Map value and never
// lock; a writer derives the next Map with an Editor and publishes it (for
// example behind an atomic.Pointer). Old Maps stay valid and unchanged.
package cowmap

import "hash/maphash"

const shardBits = 10

// Shards is the number of shards: an edit copies the shard array (8 KiB)
// and each shard it touches (about n/Shards entries).
const Shards = 1 << shardBits

var seed = maphash.MakeSeed()

func shardOf(key string) uint64 { return maphash.String(seed, key) & (Shards - 1) }

// Map is an immutable map from string to V. The zero Map is empty.
// A Map is safe for concurrent use by any number of readers.
type Map[V any] struct {
	shards *[Shards]map[string]V
	n      int
}

// Get returns the value for key. It does not allocate.
func (m Map[V]) Get(key string) (V, bool) {
	if m.shards == nil {
		var zero V
		return zero, false
	}
	v, ok := m.shards[shardOf(key)][key]
	return v, ok
}

// Len returns the number of entries.
func (m Map[V]) Len() int { return m.n }

// Range calls fn for every entry, in no particular order, until fn
// returns false.
func (m Map[V]) Range(fn func(key string, v V) bool) {
	if m.shards == nil {
		return
	}
	for _, sh := range m.shards {
		for k, v := range sh {
			if !fn(k, v) {
				return
			}
		}
	}
}

// Editor derives a new Map from a base Map. It is not safe for concurrent
// use; the base Map is never modified.
type Editor[V any] struct {
	base   Map[V]
	shards *[Shards]map[string]V
	copied *[Shards]bool
	n      int
}

// Edit starts deriving a new Map from m.
func (m Map[V]) Edit() *Editor[V] {
	return &Editor[V]{base: m, n: m.n}
}

func (e *Editor[V]) shard(key string) map[string]V {
	if e.shards == nil {
		e.shards = new([Shards]map[string]V)
		e.copied = new([Shards]bool)
		if e.base.shards != nil {
			*e.shards = *e.base.shards
		}
	}
	i := shardOf(key)
	if !e.copied[i] {
		old := e.shards[i]
		fresh := make(map[string]V, len(old)+1)
		for k, v := range old {
			fresh[k] = v
		}
		e.shards[i] = fresh
		e.copied[i] = true
	}
	return e.shards[i]
}

// Get reads through the edits made so far.
func (e *Editor[V]) Get(key string) (V, bool) {
	if e.shards == nil {
		return e.base.Get(key)
	}
	v, ok := e.shards[shardOf(key)][key]
	return v, ok
}

// Set puts key → v.
func (e *Editor[V]) Set(key string, v V) {
	sh := e.shard(key)
	if _, ok := sh[key]; !ok {
		e.n++
	}
	sh[key] = v
}

// Delete removes key.
func (e *Editor[V]) Delete(key string) {
	if _, ok := e.Get(key); !ok {
		return
	}
	delete(e.shard(key), key)
	e.n--
}

// Map returns the edited Map. The Editor must not be used afterwards.
func (e *Editor[V]) Map() Map[V] {
	if e.shards == nil {
		return e.base
	}
	m := Map[V]{shards: e.shards, n: e.n}
	e.shards, e.copied = nil, nil
	return m
}
