package iam

import (
	"unique"

	"github.com/iamkit/iam/internal/cowmap"
)

// mask is an interned, immutable bit set of permission sets, indexed by
// the bit numbers of a compiled catalogue, held as the bytes of a string.
// Equal masks share their bytes (interned with package unique), so a grant
// costs a string header however many sets it holds, and the few distinct
// masks stay hot in the cache. The zero mask is empty.
type mask struct{ s string }

func (m mask) has(bit int32) bool { return hasBit(m.bytes(), bit) }

// hasBit tests a bit of a mask's bytes.
func hasBit(s string, bit int32) bool {
	i := int(bit >> 3)
	return i < len(s) && s[i]&(1<<(bit&7)) != 0
}

func (m mask) empty() bool { return m.s == "" }

// bytes returns the mask's bytes ("" for the empty mask).
func (m mask) bytes() string { return m.s }

// bitset is a mutable bit set, used to build masks.
type bitset []byte

func (b *bitset) set(bit int32) {
	i := int(bit >> 3)
	for len(*b) <= i {
		*b = append(*b, 0)
	}
	(*b)[i] |= 1 << (bit & 7)
}

func (b *bitset) or(s string) {
	for len(*b) < len(s) {
		*b = append(*b, 0)
	}
	for i := 0; i < len(s); i++ {
		(*b)[i] |= s[i]
	}
}

func (b bitset) mask() mask {
	n := len(b)
	for n > 0 && b[n-1] == 0 {
		n--
	}
	if n == 0 {
		return mask{}
	}
	return mask{unique.Make(string(b[:n])).Value()}
}

// catalogue is a compiled permission-set catalogue: the built-in sets,
// then an organization's own. Bits of built-in sets are the same in every
// organization. Immutable once built.
type catalogue struct {
	bits      map[string]int32
	lookup    cowmap.Names // bits, for the check path
	sets      []catSet
	byService map[string][]catPattern // patterns by service segment
	services  cowmap.Frozen[[]catPattern]
	wild      []catPattern // patterns whose service is "*"
}

type catSet struct {
	PermissionSet
	closure   mask    // the set and every set it includes, transitively
	includers []int32 // the sets whose closure holds this one, itself included
}

type catPattern struct {
	resource, action string
	bit              int32
}

// compileCatalogue compiles builtin then own. The store has validated both
// (names resolve, includes share the scope type, no cycles).
func compileCatalogue(builtin, own []PermissionSet) *catalogue {
	c := &catalogue{
		bits:      make(map[string]int32, len(builtin)+len(own)),
		sets:      make([]catSet, 0, len(builtin)+len(own)),
		byService: map[string][]catPattern{},
	}
	for _, group := range [][]PermissionSet{builtin, own} {
		for _, ps := range group {
			bit := int32(len(c.sets))
			c.bits[ps.Name] = bit
			c.sets = append(c.sets, catSet{PermissionSet: ps})
			for _, p := range ps.Permissions {
				s, r, a, ok := splitTriple(p)
				if !ok {
					continue
				}
				cp := catPattern{resource: r, action: a, bit: bit}
				if s == "*" {
					c.wild = append(c.wild, cp)
				} else {
					c.byService[s] = append(c.byService[s], cp)
				}
			}
		}
	}
	c.lookup = cowmap.NewNames(c.bits)
	c.services = cowmap.Freeze(c.byService)
	for i := range c.sets {
		var b bitset
		c.closeOver(int32(i), &b, make(map[int32]bool))
		c.sets[i].closure = b.mask()
	}
	for i := range c.sets {
		c.sets[i].closure.each(func(bit int32) {
			c.sets[bit].includers = append(c.sets[bit].includers, int32(i))
		})
	}
	return c
}

func (c *catalogue) closeOver(bit int32, b *bitset, seen map[int32]bool) {
	if seen[bit] {
		return
	}
	seen[bit] = true
	b.set(bit)
	for _, inc := range c.sets[bit].Includes {
		if ib, ok := c.bits[inc]; ok {
			c.closeOver(ib, b, seen)
		}
	}
}

// grantsTriple reports whether mask m holds a set with a pattern, among
// pats (a service's patterns) and the wildcard-service ones, matching
// resource:action.
func (c *catalogue) grantsTriple(m mask, pats []catPattern, resource, action string) bool {
	return c.matchingSet(m, pats, resource, action) >= 0
}

// matchingSet returns the bit of a set of mask m with a pattern matching
// resource:action among pats and the wildcard-service patterns, or -1.
func (c *catalogue) matchingSet(m mask, pats []catPattern, resource, action string) int32 {
	if m.empty() {
		return -1
	}
	for _, list := range [2][]catPattern{pats, c.wild} {
		for _, p := range list {
			if m.has(p.bit) && segMatch(p.resource, resource) && segMatch(p.action, action) {
				return p.bit
			}
		}
	}
	return -1
}

// eachBit calls fn for every bit set in the bytes of a mask or bitset.
func eachBit(s string, fn func(bit int32)) {
	for i := 0; i < len(s); i++ {
		for c := s[i]; c != 0; c &= c - 1 {
			j := int32(0)
			for c&(1<<j) == 0 {
				j++
			}
			fn(int32(i)*8 + j)
		}
	}
}

func (m mask) each(fn func(bit int32)) { eachBit(m.bytes(), fn) }
