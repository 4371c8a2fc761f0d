package iam

import (
	"cmp"
	"slices"
)

// What the slow paths read behind the masks: the rules of the policies
// that grant, for conditional grants, Explain and the reverse queries.

// holder is one source of grants for a caller: itself or a group.
type holder struct {
	p Principal // the caller itself, or the group
	g *grants
}

// holders lists the caller's sources of grants that have any: its own,
// then its explicit groups, then the all-users or all-applications groups.
// self names the caller in the result. (It allocates: slow paths only.)
func (q *query) holders(pe *principalEntry, self Principal) []holder {
	org := q.org
	if pe.typ == PrincipalGroup {
		if g := org.group(pe.ref); g != nil {
			return []holder{{GroupPrincipal(org.groupIDs[pe.ref]), g}}
		}
		return nil
	}
	c, special := org.combo(pe.ref), org.specialGroups(pe)
	n := 1 + len(special)
	if c != nil {
		n += len(c.groups)
	}
	out := make([]holder, 0, n)
	add := func(p Principal, g *grants) {
		if g != nil {
			out = append(out, holder{p, g})
		}
	}
	add(self, pe.own)
	if c != nil {
		for _, seq := range c.groups {
			add(GroupPrincipal(org.groupIDs[seq]), org.group(seq))
		}
	}
	for _, seq := range special {
		add(GroupPrincipal(org.groupIDs[seq]), org.group(seq))
	}
	return out
}

// ruleMatch returns the set of rule r that grants the query at its target
// and the set that matched inside its closure (equal to the first when the
// rule names it directly), as catalogue bits, or ok false.
func (q *query) ruleMatch(r *crule) (named, via int32, ok bool) {
	cat := q.org.cat
	for j := range r.nsets {
		bit := q.org.setBits[r.set(j)]
		if bit < 0 {
			continue
		}
		cs := &cat.sets[bit]
		if !r.appliesAt(q.project, cs.ScopeType) {
			continue
		}
		if q.triple {
			if m := cat.matchingSet(cs.closure, q.pats, q.resource, q.action, q.orgScoped); m >= 0 {
				return bit, int32(m), true
			}
			continue
		}
		if cs.closure.has(q.bit) {
			return bit, q.bit, true
		}
	}
	return -1, -1, false
}

// candidates lists, in order (by policy ID, then rule index), the rules
// of g that could grant the query somewhere (its target aside). sets is
// q.grantingSets(), found once for every holder a caller asks about. A
// holder of many rules has an index of them by set: then only the rules
// naming one of sets are listed; otherwise every rule is. The slow paths
// read these only. (It allocates.)
func (q *query) candidates(g *grants, sets []int32) []ruleRef { return q.collect(g, sets, false) }

// candidatesHere is candidates at the query's target: from the index by
// set, only the rules that may apply there (see mayApplyAt), so that a
// holder of thousands of rules on other projects costs their entries'
// reading, not their rules'.
func (q *query) candidatesHere(g *grants, sets []int32) []ruleRef {
	return q.collect(g, sets, true)
}

func (q *query) collect(g *grants, sets []int32, here bool) []ruleRef {
	var out []ruleRef
	if g.bySet == nil {
		for pi, p := range g.pols {
			for ri := range p.rules() {
				if here {
					if r := p.rule(ri); !mayApplyAt(whereOf(&r), q.project) {
						continue
					}
				}
				out = append(out, ruleRef{int32(pi), int32(ri)})
			}
		}
		return out
	}
	for _, bit := range sets {
		out = g.rulesNaming(bit, here, q.project, out)
	}
	slices.SortFunc(out, func(x, y ruleRef) int { return cmp.Or(cmp.Compare(x.pol, y.pol), cmp.Compare(x.rule, y.rule)) })
	return slices.Compact(out)
}
