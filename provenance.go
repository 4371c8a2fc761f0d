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
	var out []holder
	add := func(p Principal, g *grants) {
		if g != nil {
			out = append(out, holder{p, g})
		}
	}
	if pe.typ == PrincipalGroup {
		add(GroupPrincipal(org.groupIDs[pe.ref]), org.group(pe.ref))
		return out
	}
	add(self, pe.own)
	if c := org.combo(pe.ref); c != nil {
		for _, seq := range c.groups {
			add(GroupPrincipal(org.groupIDs[seq]), org.group(seq))
		}
	}
	for _, seq := range org.specialGroups(pe) {
		add(GroupPrincipal(org.groupIDs[seq]), org.group(seq))
	}
	return out
}

// ruleMatch returns the set of rule r that grants the query at its target
// and the set that matched inside its closure (equal to the first when the
// rule names it directly), or ok false.
func (q *query) ruleMatch(r *crule) (named, via string, ok bool) {
	cat := q.org.cat
	for j := range r.nsets {
		name := q.org.setNames[r.set(j)]
		bit, known := cat.lookup.Get(name)
		if !known {
			continue
		}
		cs := &cat.sets[bit]
		if !r.appliesAt(q.project, cs.ScopeType) {
			continue
		}
		if q.triple {
			if m := cat.matchingSet(cs.closure, q.pats, q.resource, q.action, q.orgScoped); m >= 0 {
				return cs.Name, cat.sets[m].Name, true
			}
			continue
		}
		if cs.closure.has(q.bit) {
			return cs.Name, cat.sets[q.bit].Name, true
		}
	}
	return "", "", false
}

// candidates lists, in order (by policy ID, then rule index), the rules
// of g that could grant the query. A holder of many rules has an index of
// them by set: then only the rules naming a set whose closure holds the
// asked set, or one of the sets matching the asked triple, are listed;
// otherwise every rule is. The slow paths read these only. (It
// allocates.)
func (q *query) candidates(g *grants) []ruleRef {
	var out []ruleRef
	if g.bySet == nil {
		for pi, p := range g.pols {
			for ri := range p.rules() {
				out = append(out, ruleRef{int32(pi), int32(ri)})
			}
		}
		return out
	}
	cat := q.org.cat
	add := func(bit int32) {
		for _, inc := range cat.sets[bit].includers {
			out = g.rulesNaming(inc, out)
		}
	}
	switch {
	case !q.triple:
		add(q.bit)
	case q.overflow:
		for bit := range cat.sets {
			if cat.matchingSet(cat.sets[bit].closure, q.pats, q.resource, q.action, q.orgScoped) >= 0 {
				out = g.rulesNaming(int32(bit), out)
			}
		}
	default:
		for _, bit := range q.matches[:q.nmatch] {
			add(bit)
		}
	}
	slices.SortFunc(out, func(x, y ruleRef) int { return cmp.Or(cmp.Compare(x.pol, y.pol), cmp.Compare(x.rule, y.rule)) })
	return slices.Compact(out)
}
