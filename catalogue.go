package iam

import (
	"hash/maphash"
	"slices"
	"strings"

	"github.com/iamkit/iam/internal/cowmap"
)

// mask is an immutable bit set of permission sets, indexed by the bit
// numbers of a compiled catalogue, held as the bytes of a string (bits
// past its end are clear). A mask is either a catalogue set's closure,
// made by a maskTable, which interns them, or a view into a holder's
// packed masks (see packedMasks), made from a bitset by pack: a bitset
// becomes a mask in those two places only. The zero mask is empty.
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

// maskTable makes the catalogues' masks: it interns them, keeping each
// distinct mask once in an open-addressing table of strings, so that the
// closures of the built-in sets are shared by every organization's
// catalogue. When the table grows past maskTableMax masks (after churn, most
// are no longer used), it starts again empty: masks made before keep
// their bytes, and correctness never depends on sharing. It is not safe
// for concurrent use: the writer of an index owns one.
type maskTable struct {
	slots []string
	n     int
}

const maskTableMax = 1 << 16

var maskSeed = maphash.MakeSeed()

// mask returns the mask of b, sharing the bytes of an equal mask made
// before.
func (t *maskTable) mask(b bitset) mask {
	n := len(b)
	for n > 0 && b[n-1] == 0 {
		n--
	}
	if n == 0 {
		return mask{}
	}
	b = b[:n]
	if 4*(t.n+1) > 3*len(t.slots) {
		t.grow()
	}
	m := uint64(len(t.slots) - 1)
	i := maphash.Bytes(maskSeed, b) & m
	for ; t.slots[i] != ""; i = (i + 1) & m {
		if t.slots[i] == string(b) {
			return mask{t.slots[i]}
		}
	}
	s := string(b)
	t.slots[i] = s
	t.n++
	return mask{s}
}

func (t *maskTable) grow() {
	old := t.slots
	if t.n >= maskTableMax {
		old, t.n = nil, 0
	}
	t.slots = make([]string, max(64, 2*len(old)))
	m := uint64(len(t.slots) - 1)
	for _, s := range old {
		if s != "" {
			i := maphash.String(maskSeed, s) & m
			for t.slots[i] != "" {
				i = (i + 1) & m
			}
			t.slots[i] = s
		}
	}
}

// catalogue is a compiled permission-set catalogue: the built-in sets,
// then an organization's own. Bits of built-in sets are the same in every
// organization. Immutable once built.
//
// A triple's level is the scope type of the sets whose patterns match it
// (the store keeps the two levels apart). Should a catalogue ever mix them
// (a store that does not validate), a triple that an organization-scoped
// set matches is organization-level; either way only the sets of a
// triple's level ever grant it: a project-scoped set never grants an
// organization-level permission, whatever its patterns.
type catalogue struct {
	bits      map[string]int32
	lookup    cowmap.Names // bits, for the check path
	sets      []catSet
	byService map[string][]catPattern // patterns by service segment
	services  cowmap.Frozen[catService]
	wild      []catPattern // patterns whose service is "*"

	// The declared permissions, resolved once: a check of one of them
	// reads its level and its matching sets without scanning patterns.
	perms    []knownPerm
	declared map[string][]string // declared triples by service, for suggestions

	// requested resolves a requested permission in one lookup, with no
	// splitting and no pattern scan: a set name to its bit (with
	// requestedOrg when organization-scoped), a well-formed declared
	// permission to ^i, i its entry of triples. Permissions of services
	// without declared permissions are not in it.
	requested cowmap.Names
	triples   []resolvedTriple
}

// requestedOrg marks an organization-scoped set in catalogue.requested.
const requestedOrg = 1 << 30

// resolvedTriple is a declared permission as the check path reads it.
type resolvedTriple struct {
	pats []catPattern // its service's patterns
	sets []int32      // the sets of its level with a pattern matching it
	org  bool         // organization-level
}

// catService is what the check path needs of one service.
type catService struct {
	pats     []catPattern // the patterns naming it
	declared bool         // some set declares permissions of it
	known    cowmap.Names // its declared "resource:action" pairs → index into perms
}

// knownPerm is a declared permission, resolved.
type knownPerm struct {
	org  bool    // organization-level
	sets []int32 // the sets of its level with a pattern matching it
}

type catSet struct {
	PermissionSet
	closure   mask    // the set and every set it includes, transitively
	includers []int32 // the sets whose closure holds this one, itself included
}

type catPattern struct {
	resource, action string
	bit              int32
	org              bool // the set is organization-scoped
}

// compileCatalogue compiles builtin then own. The store has validated both
// (names resolve, includes share the scope type, no cycles, levels apart).
// base is the compiled catalogue of builtin alone, or nil. masks makes the
// closures' masks.
func compileCatalogue(builtin, own []PermissionSet, base *catalogue, masks *maskTable) *catalogue {
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
				cp := catPattern{resource: r, action: a, bit: bit, org: ps.ScopeType == ScopeOrganization}
				if s == "*" {
					c.wild = append(c.wild, cp)
				} else {
					c.byService[s] = append(c.byService[s], cp)
				}
			}
		}
	}
	c.lookup = cowmap.NewNames(c.bits)
	c.declare(base, slices.ContainsFunc(own, func(ps PermissionSet) bool { return len(ps.Declared) > 0 }))
	c.resolveRequested()
	for i := range c.sets {
		var b bitset
		c.closeOver(int32(i), &b, make(map[int32]bool))
		c.sets[i].closure = masks.mask(b)
	}
	for i := range c.sets {
		c.sets[i].closure.each(func(bit int32) {
			c.sets[bit].includers = append(c.sets[bit].includers, int32(i))
		})
	}
	return c
}

// declare indexes the services and resolves every declared permission:
// its level and the sets of that level whose patterns match it. base, when
// not nil, is the compiled built-in catalogue that c extends: what the
// organization's own sets leave unchanged is shared with it.
func (c *catalogue) declare(base *catalogue, ownDeclares bool) {
	known := map[string]cowmap.Names{} // by service
	if base != nil && len(c.wild) == len(base.wild) && !ownDeclares {
		// The own sets declare nothing: the declared permissions are the
		// built-in ones, and only those of services that own patterns name
		// need resolving again.
		c.declared, c.perms = base.declared, base.perms
		copied := false
		for service, ds := range base.declared {
			bs, _ := base.services.Get(service)
			known[service] = bs.known
			pats := c.byService[service]
			if len(pats) == len(bs.pats) {
				continue
			}
			if !copied {
				c.perms, copied = slices.Clone(base.perms), true
			}
			for _, d := range ds {
				_, r, a, _ := splitTriple(d)
				i, _ := bs.known.Get(d[len(service)+1:])
				kp := knownPerm{}
				kp.org, kp.sets = c.levelOf(pats, r, a, nil)
				c.perms[i] = kp
			}
		}
	} else {
		c.declared = map[string][]string{}
		byService := map[string]map[string]int32{}
		var arena []int32 // backing for the perms' sets
		for _, cs := range c.sets {
			for _, d := range cs.Declared {
				s, r, a, ok := splitTriple(d)
				if !ok {
					continue
				}
				m := byService[s]
				if m == nil {
					m = map[string]int32{}
					byService[s] = m
				}
				key := d[len(s)+1:]
				if _, dup := m[key]; dup {
					continue
				}
				c.declared[s] = append(c.declared[s], d)
				kp := knownPerm{}
				start := len(arena)
				kp.org, arena = c.levelOf(c.byService[s], r, a, arena)
				kp.sets = arena[start:len(arena):len(arena)]
				m[key] = int32(len(c.perms))
				c.perms = append(c.perms, kp)
			}
		}
		for s, m := range byService {
			known[s] = cowmap.NewNames(m)
		}
	}
	services := make(map[string]catService, len(c.byService)+len(c.declared))
	for s, pats := range c.byService {
		services[s] = catService{pats: pats}
	}
	for s := range c.declared {
		services[s] = catService{pats: c.byService[s], declared: true, known: known[s]}
	}
	c.services = cowmap.Freeze(services)
}

// resolveRequested makes c.requested and c.triples. A name that a request
// could not carry (a set name with ':' or '*', a malformed triple) is left
// out, so that whatever the table finds is well-formed.
func (c *catalogue) resolveRequested() {
	n := len(c.bits)
	for _, ds := range c.declared {
		n += len(ds)
	}
	m := make(map[string]int32, n)
	for name, bit := range c.bits {
		if strings.ContainsAny(name, ":*") {
			continue
		}
		if c.sets[bit].ScopeType == ScopeOrganization {
			bit |= requestedOrg
		}
		m[name] = bit
	}
	for _, service := range sortedKeys(c.declared) {
		svc, _ := c.services.Get(service)
		for _, d := range c.declared[service] {
			i, ok := svc.known.Get(d[len(service)+1:])
			if _, valid := scanPermission(d); !ok || !valid {
				continue
			}
			kp := &c.perms[i]
			m[d] = ^int32(len(c.triples))
			c.triples = append(c.triples, resolvedTriple{pats: svc.pats, sets: kp.sets, org: kp.org})
		}
	}
	c.requested = cowmap.NewNames(m)
}

// levelOf finds the level of resource:action among pats (a service's
// patterns) and the wildcard-service ones, and appends to sets the sets of
// that level with a pattern matching it. An organization-scoped match
// makes it organization-level.
func (c *catalogue) levelOf(pats []catPattern, resource, action string, sets []int32) (org bool, _ []int32) {
	start := len(sets)
	for _, list := range [2][]catPattern{pats, c.wild} {
		for _, p := range list {
			if !segMatch(p.resource, resource) || !segMatch(p.action, action) {
				continue
			}
			if p.org && !org {
				org, sets = true, sets[:start] // the level is the organization: start again
			}
			if p.org == org && !slices.Contains(sets[start:], p.bit) {
				sets = append(sets, p.bit)
			}
		}
	}
	return org, sets
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

// grantsTriple reports whether mask m holds a set of level org with a
// pattern, among pats (a service's patterns) and the wildcard-service
// ones, matching resource:action.
func (c *catalogue) grantsTriple(m mask, pats []catPattern, resource, action string, org bool) bool {
	return c.matchingSet(m, pats, resource, action, org) >= 0
}

// matchingSet returns the bit of a set of mask m and of level org with a
// pattern matching resource:action among pats and the wildcard-service
// patterns, or -1. Sets of the other level never count: a permission is
// granted only by sets of its own level.
func (c *catalogue) matchingSet(m mask, pats []catPattern, resource, action string, org bool) int32 {
	if m.empty() {
		return -1
	}
	for _, list := range [2][]catPattern{pats, c.wild} {
		for _, p := range list {
			if p.org == org && m.has(p.bit) && segMatch(p.resource, resource) && segMatch(p.action, action) {
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
