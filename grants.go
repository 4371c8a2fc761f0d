package iam

import (
	"slices"
	"strings"
)

// A holder's grants, computed from the policies naming it (see grants and
// packedMasks in snapshot.go).

// scratch is the writer's reusable working space for computing grants.
type scratch struct {
	org, all bitset
	proj     []bitset // by project sequence number
	used     []uint32 // by project sequence number: the round that last used proj
	round    uint32
	touched  []int32 // the projects of proj in use in this round
	keys     []uint64

	listed, order, uniq []int32 // pack's working lists
}

// project returns the bit set of project seq, cleared on first use.
func (sc *scratch) project(seq int32) *bitset {
	for int(seq) >= len(sc.proj) {
		sc.proj = append(sc.proj, nil)
		sc.used = append(sc.used, 0)
	}
	b := &sc.proj[seq]
	if sc.used[seq] != sc.round {
		sc.used[seq] = sc.round
		sc.touched = append(sc.touched, seq)
		clear(*b)
	}
	return b
}

// reset starts a round: every bit set empty.
func (sc *scratch) reset() {
	clear(sc.org)
	clear(sc.all)
	sc.touched = sc.touched[:0]
	if sc.round++; sc.round == 0 {
		clear(sc.used)
		sc.round = 1
	}
}

// pack packs what was gathered into g.m (see packedMasks).
func (sc *scratch) pack(g *grants) {
	trim := func(b bitset) int {
		n := len(b)
		for n > 0 && b[n-1] == 0 {
			n--
		}
		return n
	}
	slices.Sort(sc.touched)
	l := max(trim(sc.org), trim(sc.all))
	listed := sc.listed[:0] // the projects with a mask
	for _, seq := range sc.touched {
		if k := trim(sc.proj[seq]); k > 0 {
			l = max(l, k)
			listed = append(listed, seq)
		}
	}
	sc.listed = listed
	if l == 0 {
		return
	}
	// The distinct masks, each once (found by a scan while they are few).
	var distinct map[string]int
	order := sc.order[:0] // for each listed project, its mask's index
	uniq := sc.uniq[:0]   // a project of each distinct mask
	defer func() { sc.order, sc.uniq = order, uniq }()
	for _, seq := range listed {
		m := sc.proj[seq][:trim(sc.proj[seq])]
		j := -1
		if distinct != nil {
			if v, ok := distinct[string(m)]; ok {
				j = v
			}
		} else {
			for u, other := range uniq {
				o := sc.proj[other]
				if string(o[:trim(o)]) == string(m) {
					j = u
					break
				}
			}
		}
		if j < 0 {
			j = len(uniq)
			uniq = append(uniq, seq)
			if distinct != nil {
				distinct[string(m)] = j
			} else if len(uniq) == 32 {
				distinct = map[string]int{}
				for u, other := range uniq {
					o := sc.proj[other]
					distinct[string(o[:trim(o)])] = u
				}
			}
		}
		order = append(order, int32(j))
	}
	n, k := len(listed), len(uniq)
	width := idxWidth(k)
	var b strings.Builder
	flags, masks := 0, 0
	if trim(sc.org) > 0 {
		flags, masks = flags|packedOrg, masks+1
	}
	if trim(sc.all) > 0 {
		flags, masks = flags|packedAll, masks+1
	}
	b.Grow(12 + masks*l + n*(4+width) + k*l)
	word := func(v int) { b.Write([]byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24)}) }
	bytes := func(m bitset) {
		c := min(len(m), l)
		b.Write(m[:c])
		for ; c < l; c++ {
			b.WriteByte(0)
		}
	}
	word(l)
	word(n)
	word(k | flags)
	if flags&packedOrg != 0 {
		bytes(sc.org)
	}
	if flags&packedAll != 0 {
		bytes(sc.all)
	}
	for _, seq := range listed {
		word(int(seq))
	}
	for _, j := range order {
		for c := range width {
			b.WriteByte(byte(j >> (8 * c)))
		}
	}
	for _, seq := range uniq {
		bytes(sc.proj[seq])
	}
	g.m = packedMasks(b.String())
}

// computeGrants folds the rules of pols, the policies naming one holder:
// unconditional rules into packed masks; every rule stays readable
// through pols, for Explain and conditional checks. group says the holder
// is a group, whose rules every member's Explain reads: it gets a set →
// rule index whatever its number of rules. nil: no policy.
func (mo *mOrg) computeGrants(pols []*cpolicy, group bool) *grants {
	return mo.grantsWith(&mo.m.scratch, pols, group)
}

// grantsWith is computeGrants in the working space sc. It reads the
// organization and changes nothing but sc, so that holders may be
// computed at once, each worker in its own space.
func (mo *mOrg) grantsWith(sc *scratch, pols []*cpolicy, group bool) *grants {
	if len(pols) == 0 {
		return nil
	}
	sc.reset()
	g := &grants{pols: pols, num: -1}
	rules, named := 0, 0
	for _, p := range pols {
		rules += p.rules()
		for ri := range p.rules() {
			named += p.rule(ri).nsets
		}
	}
	var bySet []setRule
	if rules >= bySetMin || group && rules > 0 {
		bySet = make([]setRule, 0, named)
	}
	for pi, p := range pols {
		for ri := range p.rules() {
			r := p.rule(ri)
			if bySet != nil {
				where := whereOf(&r)
				for j := range r.nsets {
					if bit := mo.bit(r.set(j)); bit >= 0 {
						bySet = append(bySet, setRule{bit: bit, pol: int32(pi), rule: uint16(ri), where: where})
					}
				}
			}
			if r.cond() != nil {
				g.conditional = true
				continue
			}
			for j := range r.nsets {
				bit := mo.bit(r.set(j))
				if bit < 0 {
					continue
				}
				cs := &mo.cat.sets[bit]
				closure := cs.closure.bytes()
				switch {
				case r.onOrg && cs.ScopeType == ScopeOrganization:
					sc.org.or(closure)
				case r.onOrg:
					sc.all.or(closure)
				case cs.ScopeType == ScopeProjects:
					for k := range r.projects() {
						if seq := r.project(k); mo.alive(seq) {
							sc.project(seq).or(closure)
						}
					}
				}
			}
		}
	}
	if bySet != nil {
		g.bySet = newRuleIndex(bySet)
	}
	sc.pack(g)
	return g
}

// colocate moves g's packed masks into one allocation with a copy of id,
// the holder's ID, just before them, and returns that copy: the key to
// store the holder's entry under, so that a check's comparison of the key
// and its read of the masks touch neighbouring cache lines. g must not be
// published yet. A nil g, or one without masks, returns id.
func (g *grants) colocate(id string) string {
	if g == nil || g.m == "" {
		return id
	}
	blob := id + string(g.m)
	g.m = packedMasks(blob[len(id):])
	return blob[:len(id)]
}
