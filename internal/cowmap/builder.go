package cowmap

// Builder gathers the entries of a new Map, to make it at once: each leaf
// is made once at the size of what it holds, where an Editor would copy
// and grow leaves as entries arrive one by one. The Map it makes has the
// shape an Editor gives (leaves of at most leafMax entries while hash bits
// remain to split on), so reads and later edits treat it as one an Editor
// made. The zero Builder is ready to use; it is not safe for concurrent
// use.
type Builder[V any] struct {
	slots []slot[V]
}

// Grow makes room for n more entries.
func (b *Builder[V]) Grow(n int) {
	if cap(b.slots)-len(b.slots) < n {
		s := make([]slot[V], len(b.slots), len(b.slots)+n)
		copy(s, b.slots)
		b.slots = s
	}
}

// Set puts key → v; a later Set of the same key replaces it.
func (b *Builder[V]) Set(key string, v V) {
	b.slots = append(b.slots, slot[V]{hash: hash(key), key: key, val: v})
}

// Map returns the Map of the entries set. The Builder must not be used
// afterwards.
func (b *Builder[V]) Map() Map[V] {
	all := b.slots
	b.slots = nil
	if len(all) == 0 {
		return Map[V]{}
	}
	// Order the entries by shard (a counting sort on the hash's top bits),
	// keeping the order of Sets within a shard so a later Set wins.
	sorted := make([]slot[V], len(all))
	var start [Shards + 1]int
	for i := range all {
		start[all[i].hash>>(64-shardBits)+1]++
	}
	for i := 1; i <= Shards; i++ {
		start[i] += start[i-1]
	}
	next := start
	for i := range all {
		s := all[i].hash >> (64 - shardBits)
		sorted[next[s]] = all[i]
		next[s]++
	}
	m := Map[V]{root: new(root[V])}
	for s := range Shards {
		run := sorted[start[s]:start[s+1]]
		if len(run) == 0 {
			continue
		}
		t := s >> midBits
		if m.root[t] == nil {
			m.root[t] = new(mid[V])
		}
		nd, n := buildNode(run, uint(64-shardBits))
		i := s & (1<<midBits - 1)
		m.root[t].nodes[i] = nd
		if nd.kids == nil {
			m.root[t].leaves[i] = nd.slots // as an Editor's Map fills them
		}
		m.n += n
	}
	return m
}

// buildNode makes the node of entries, whose hashes agree above shift: a
// leaf when they are at most leafMax (or no bits remain to split on, as an
// Editor splits), else a branch on the next four bits. It returns the node
// and the number of distinct keys in it.
func buildNode[V any](entries []slot[V], shift uint) (*node[V], int) {
	if len(entries) <= leafMax || shift < minShift+kidBits {
		// About six sevenths full: between the fill of a leaf an Editor
		// has just grown (four fifths) and the most it lets one hold
		// (seven eighths); a leaf of one entry has two slots.
		nd := &node[V]{slots: make([]slot[V], len(entries)+len(entries)/6+1)}
		for _, e := range entries {
			if s := probe(nd.slots, e.hash, e.key); s != nil {
				s.val = e.val
				continue
			}
			place(nd.slots, e)
			nd.n++
		}
		return nd, nd.n
	}
	shift -= kidBits
	var start [fanout + 1]int
	for i := range entries {
		start[(entries[i].hash>>shift)&(fanout-1)+1]++
	}
	for i := 1; i <= fanout; i++ {
		start[i] += start[i-1]
	}
	sorted := make([]slot[V], len(entries))
	next := start
	for i := range entries {
		k := (entries[i].hash >> shift) & (fanout - 1)
		sorted[next[k]] = entries[i]
		next[k]++
	}
	b := &node[V]{kids: new([fanout]*node[V])}
	total := 0
	for k := range fanout {
		if run := sorted[start[k]:start[k+1]]; len(run) > 0 {
			kid, n := buildNode(run, shift)
			b.kids[k] = kid
			total += n
		}
	}
	return b, total
}
