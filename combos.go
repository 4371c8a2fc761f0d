package iam

import (
	"encoding/binary"
	"math/bits"
)

// Group grants are read through two structures, so that the cost of a
// check does not grow with the number of groups the caller is in:
//
//   - a combo is one distinct combination of groups, as a bit set of their
//     sequence numbers; members sharing a set of groups share one, and a
//     principal's entry names its combination by number;
//   - the organization's groupTable says, for every scope (the
//     organization, all projects, each project) and every permission set,
//     the groups whose unconditional rules grant that set there, as an
//     interned bit set.
//
// A check of set s in project p then tests whether the caller's
// combination meets the groups granting s in all projects or in p: a few
// words ANDed, whatever the number of its groups. A policy written on a
// group changes the table (one per organization), never the members'
// entries or combinations; a member joining a group changes its own
// entry's combination only.

// combo is a group combination of one kind of principal (users,
// non-managed applications, managed applications).
type combo struct {
	groups []int32  // the explicit groups, sorted
	set    []uint64 // every group it holds, explicit and special, by sequence number
}

// meets reports whether the combination holds a group of set, an interned
// bit set of the table.
func (c *combo) meets(set []uint64) bool {
	for i, w := range c.set {
		if i < len(set) && w&set[i] != 0 {
			return true
		}
	}
	return false
}

// groupTable is which groups grant which permission sets where, for one
// organization: for each scope, a table by set bit of interned group bit
// sets (by number: 0 is the empty set). Immutable once built.
type groupTable struct {
	words int      // words of a group bit set
	sets  []uint64 // the interned bit sets, words each
	org   []uint32 // by bit: the groups granting it at the organization
	all   []uint32 // by bit: the groups granting it in all projects
	proj  [][]uint32
	cond  []uint64 // the groups with a conditional rule
}

var emptyGroupTable = &groupTable{}

// set returns interned group set n.
func (t *groupTable) set(n uint32) []uint64 {
	i := int(n) * t.words
	return t.sets[i : i+t.words]
}

// at returns the groups granting bit according to table tab.
func (t *groupTable) at(tab []uint32, bit int32) []uint64 {
	if int(bit) < len(tab) {
		if n := tab[bit]; n != 0 {
			return t.set(n)
		}
	}
	return nil
}

// inProject returns the table of project seq.
func (t *groupTable) inProject(seq int32) []uint32 {
	if int(seq) < len(t.proj) {
		return t.proj[seq]
	}
	return nil
}

// conditional reports whether a group of c has a conditional rule.
func (t *groupTable) conditional(c *combo) bool { return c.meets(t.cond) }

// buildGroupTable makes the table of organization mo's groups' grants.
func (mo *mOrg) buildGroupTable() *groupTable {
	if len(mo.groupG) == 0 {
		return emptyGroupTable
	}
	w := (int(mo.nextGroup) + 63) / 64
	t := &groupTable{words: w, sets: make([]uint64, w), cond: make([]uint64, w)}
	ids := map[string]uint32{string(make([]byte, 8*w)): 0}
	// Gather, per scope and bit, the groups as a bit set; then intern.
	type scopeBits struct{ bits [][]uint64 }
	gather := func(sb *scopeBits, m mask, seq int32) {
		eachBit(m.bytes(), func(bit int32) {
			for len(sb.bits) <= int(bit) {
				sb.bits = append(sb.bits, nil)
			}
			if sb.bits[bit] == nil {
				sb.bits[bit] = make([]uint64, w)
			}
			sb.bits[bit][seq/64] |= 1 << (seq % 64)
		})
	}
	var org, all scopeBits
	var proj []scopeBits
	for seq, g := range mo.groupG {
		gather(&org, g.m.org(), seq)
		gather(&all, g.m.all(), seq)
		g.m.eachProject(func(p int32, m mask) {
			for len(proj) <= int(p) {
				proj = append(proj, scopeBits{})
			}
			gather(&proj[p], m, seq)
		})
		if g.conditional {
			t.cond[seq/64] |= 1 << (seq % 64)
		}
	}
	key := make([]byte, 8*w)
	intern := func(sb scopeBits) []uint32 {
		if len(sb.bits) == 0 {
			return nil
		}
		out := make([]uint32, len(sb.bits))
		for bit, set := range sb.bits {
			if set == nil {
				continue
			}
			for i, v := range set {
				binary.LittleEndian.PutUint64(key[8*i:], v)
			}
			n, ok := ids[string(key)]
			if !ok {
				n = uint32(len(ids))
				ids[string(key)] = n
				t.sets = append(t.sets, set...)
			}
			out[bit] = n
		}
		return out
	}
	t.org, t.all = intern(org), intern(all)
	t.proj = make([][]uint32, len(proj))
	for p, sb := range proj {
		t.proj[p] = intern(sb)
	}
	return t
}

// ----- the mirror's account of combinations -----

// comboBook is the mirror's account of an organization's group
// combinations: their keys, how many entries use each, and the numbers
// free to give again. list is published (copied) in the orgIndex.
type comboBook struct {
	ids    map[string]int32 // key → number
	list   []*combo         // by number; nil: free
	keys   []string
	class  []byte
	refs   []int32
	free   []int32
	dirty  map[int32]bool // to make in this change
	zeroed []int32        // numbers whose count fell to zero in this change
}

// The kinds of principal a combination is for, by the special groups they
// belong to.
const (
	classUser    byte = iota // the all-users groups
	classApp                 // the all-applications groups
	classManaged             // none
)

func comboClass(info pinfo) byte {
	switch {
	case info.typ == PrincipalUser:
		return classUser
	case info.managed:
		return classManaged
	}
	return classApp
}

// useCombos records that this change made a combination of mo, or left
// one unused.
func (a *applier) useCombos(mo *mOrg) {
	if a.combosUsed == nil {
		a.combosUsed = map[*mOrg]bool{}
	}
	a.combosUsed[mo] = true
}

// acquireCombo returns the number of the combination of class and groups
// (the explicit groups, sorted), counting one more user of it.
func (a *applier) acquireCombo(mo *mOrg, class byte, groups []int32) int32 {
	b := &mo.combos
	key := make([]byte, 1, 1+4*len(groups))
	key[0] = class
	for _, g := range groups {
		key = binary.LittleEndian.AppendUint32(key, uint32(g))
	}
	if n, ok := b.ids[string(key)]; ok {
		b.refs[n]++
		return n
	}
	a.useCombos(mo)
	var n int32
	if k := len(b.free); k > 0 {
		n, b.free = b.free[k-1], b.free[:k-1]
	} else {
		n = int32(len(b.list))
		b.list = append(b.list, nil)
		b.keys = append(b.keys, "")
		b.class = append(b.class, 0)
		b.refs = append(b.refs, 0)
	}
	b.ids[string(key)] = n
	b.keys[n], b.class[n], b.refs[n] = string(key), class, 1
	b.list[n] = &combo{groups: groups}
	if b.dirty == nil {
		b.dirty = map[int32]bool{}
	}
	b.dirty[n] = true
	return n
}

// releaseCombo counts one user less of combination n.
func (a *applier) releaseCombo(mo *mOrg, n int32) {
	b := &mo.combos
	if n < 0 || int(n) >= len(b.refs) || b.refs[n] == 0 {
		return
	}
	if b.refs[n]--; b.refs[n] == 0 {
		a.useCombos(mo)
		b.zeroed = append(b.zeroed, n)
	}
}

// refreshCombos frees the combinations nobody uses any more, and makes the
// group bit sets of the new ones, or of all of them when the special
// groups changed.
func (a *applier) refreshCombos(mo *mOrg) {
	b := &mo.combos
	for _, n := range b.zeroed {
		if b.refs[n] == 0 && b.keys[n] != "" {
			delete(b.ids, b.keys[n])
			b.keys[n], b.list[n] = "", nil
			delete(b.dirty, n)
			b.free = append(b.free, n)
		}
	}
	var specials [2][]int32
	for id, g := range mo.groups {
		if g.AllUsers {
			specials[classUser] = append(specials[classUser], mo.groupSeq[id])
		}
		if g.AllApplications {
			specials[classApp] = append(specials[classApp], mo.groupSeq[id])
		}
	}
	all := a.special[mo]
	for n, c := range b.list {
		if c == nil || !all && !b.dirty[int32(n)] {
			continue
		}
		hi := int32(-1)
		class := b.class[n]
		var special []int32
		if class < classManaged {
			special = specials[class]
		}
		for _, s := range c.groups {
			hi = max(hi, s)
		}
		for _, s := range special {
			hi = max(hi, s)
		}
		set := make([]uint64, (hi+64)/64)
		for _, list := range [2][]int32{c.groups, special} {
			for _, s := range list {
				set[s/64] |= 1 << (s % 64)
			}
		}
		b.list[n] = &combo{groups: c.groups, set: set}
	}
	b.dirty, b.zeroed = nil, b.zeroed[:0]
	a.orgDirty[mo.id] = true
}

// groupsOf calls fn with every group of c, by sequence number.
func (c *combo) groupsOf(fn func(seq int32)) {
	for i, w := range c.set {
		for ; w != 0; w &= w - 1 {
			fn(int32(64*i + bits.TrailingZeros64(w)))
		}
	}
}
