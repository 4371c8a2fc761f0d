package iam

import (
	"context"
	"slices"

	"github.com/iamkit/iam/internal/cowmap"
)

// WhoCan lists the users and applications allowed req.Permission at
// req.ProjectID or req.OrganizationID (req.Principal is ignored): groups
// expanded, the owner included, locked users left out, sorted by type
// (users first) then ID. Conditional rules count when their condition
// holds for req's condition context.
func (e *Evaluator) WhoCan(ctx context.Context, req Request) ([]Principal, error) {
	if err := checkShape(&req, needTarget|needPermission); err != nil {
		return nil, err
	}
	e.stamp(&req)
	s, err := e.current()
	if err != nil {
		return nil, err
	}
	var q query
	if err := q.target(s, &req); err != nil {
		return nil, err
	}
	if err := q.permission(req.Permission); err != nil {
		return nil, err
	}
	org, r := q.org, s.roster(q.org.id)
	// The groups first (they are few): one holding all users answers for
	// every user, and then no user needs to be looked at one by one.
	allUsers, allApps := false, false // a granting group holds every user / non-managed app
	var granting []int32
	for seq, g := range org.groups {
		if g == nil || !e.allows(&q, g, &req) {
			continue
		}
		granting = append(granting, int32(seq))
		m := &org.members[seq]
		allUsers = allUsers || m.allUsers
		allApps = allApps || m.allApps
	}
	// Candidates, as sorted lists: the granting groups' members (kept
	// sorted by the index), the holders that grant, the owner.
	var userLists, appLists [][]string
	var holderUsers, holderApps []string
	for _, p := range q.granting(r, e, &req, allUsers) {
		if p.Type == PrincipalUser {
			holderUsers = append(holderUsers, p.ID)
		} else {
			holderApps = append(holderApps, p.ID)
		}
	}
	slices.Sort(holderUsers)
	slices.Sort(holderApps)
	userLists = append(userLists, holderUsers)
	appLists = append(appLists, holderApps)
	if r.owner != "" {
		userLists = append(userLists, []string{r.owner})
	}
	for _, seq := range granting {
		m := &org.members[seq]
		userLists = append(userLists, m.users)
		appLists = append(appLists, m.apps)
	}
	// The candidates that are users of the organization and not locked:
	// those in the roster's list (all of it when a granting group holds
	// all users).
	var users []string
	nUsers := r.users.Len()
	if !allUsers {
		users, _ = intersect(mergeSorted(userLists), r.users)
		nUsers = len(users)
	}
	// Applications: the non-managed ones in the roster's list (all of
	// them when a granting group holds all applications), and the managed
	// ones granted otherwise.
	in, rest := intersect(mergeSorted(appLists), r.apps)
	managed := rest[:0:0]
	for _, id := range rest {
		if pe, ok := s.principals.Ref(id); ok && pe.typ == PrincipalApplication && pe.org == org.num && pe.managed {
			managed = append(managed, id)
		}
	}
	nApps := len(in) + len(managed)
	if allApps {
		nApps = r.apps.Len() + len(managed)
	}
	out := make([]Principal, 0, nUsers+nApps)
	if allUsers {
		r.users.EachChunk(func(ids []string) {
			for _, id := range ids {
				out = append(out, UserPrincipal(id))
			}
		})
	}
	for _, id := range users {
		out = append(out, UserPrincipal(id))
	}
	if !allApps {
		for _, id := range mergeSorted([][]string{in, managed}) {
			out = append(out, ApplicationPrincipal(id))
		}
		return out, nil
	}
	r.apps.EachChunk(func(ids []string) {
		for _, id := range ids {
			for len(managed) > 0 && managed[0] < id {
				out, managed = append(out, ApplicationPrincipal(managed[0])), managed[1:]
			}
			out = append(out, ApplicationPrincipal(id))
		}
	})
	for _, id := range managed {
		out = append(out, ApplicationPrincipal(id))
	}
	return out, nil
}

// mergeSorted merges sorted lists into one sorted list without repeats,
// two by two.
func mergeSorted(lists [][]string) []string {
	lists = slices.DeleteFunc(slices.Clone(lists), func(l []string) bool { return len(l) == 0 })
	if len(lists) == 0 {
		return nil
	}
	for len(lists) > 1 {
		next := lists[:0]
		for i := 0; i < len(lists); i += 2 {
			if i+1 == len(lists) {
				next = append(next, lists[i])
				break
			}
			a, b := lists[i], lists[i+1]
			m := make([]string, 0, len(a)+len(b))
			for len(a) > 0 && len(b) > 0 {
				switch {
				case a[0] < b[0]:
					m, a = append(m, a[0]), a[1:]
				case b[0] < a[0]:
					m, b = append(m, b[0]), b[1:]
				default:
					m, a, b = append(m, a[0]), a[1:], b[1:]
				}
			}
			next = append(next, append(append(m, a...), b...))
		}
		lists = next
	}
	return slices.Compact(lists[0])
}

// intersect splits sorted ids into those set holds and the others, by a
// walk through both when ids are many and a lookup each when they are few.
func intersect(ids []string, set cowmap.Sorted[struct{}]) (in, out []string) {
	if len(ids)*16 < set.Len() {
		for _, id := range ids {
			if _, ok := set.Get(id); ok {
				in = append(in, id)
			} else {
				out = append(out, id)
			}
		}
		return in, out
	}
	in = make([]string, 0, len(ids))
	for id := range set.All() {
		for len(ids) > 0 && ids[0] < id {
			out, ids = append(out, ids[0]), ids[1:]
		}
		if len(ids) == 0 {
			break
		}
		if ids[0] == id {
			in, ids = append(in, id), ids[1:]
		}
	}
	return in, append(out, ids...)
}

// granting returns the users and applications whose own grants allow the
// query, read from the reverse index: the holders granted, at a scope that
// covers the target, a set that could grant the query (a set whose
// closure holds the asked set, or a set matching the asked triple), each
// confirmed on its grants as a check would; then the holders with
// conditional rules, whose conditions are evaluated. The work is that of
// the holders that grant, never of the whole organization.
//
// appsOnly leaves the users out (users have even numbers).
func (q *query) granting(r *roster, e *Evaluator, req *Request, appsOnly bool) []Principal {
	var scopes []int32
	switch {
	case q.project >= 0:
		scopes = []int32{scopeAll, q.project}
	case q.orgScoped:
		scopes = []int32{scopeOrg}
	default:
		scopes = []int32{scopeAll}
	}
	seen := make([]uint64, (r.holders.Len()+63)/64)
	mark := func(num int32) bool {
		if appsOnly && num&1 == 0 || int(num) >= r.holders.Len() || seen[num/64]&(1<<(num%64)) != 0 {
			return false
		}
		seen[num/64] |= 1 << (num % 64)
		return true
	}
	var out []Principal
	for _, c := range q.grantingSets() {
		if int(c) >= r.granted.Len() {
			continue
		}
		set := r.granted.At(int(c))
		for _, scope := range scopes {
			lo, hi := scopeRange(scope)
			for e := range set.Range(&lo, hi) {
				num := int32(uint32(e))
				if !mark(num) {
					continue
				}
				if g := r.holders.At(int(num)); g != nil && q.holds(g) {
					out = append(out, g.holder())
				}
			}
		}
	}
	for num := range r.conditional.All() {
		if !mark(num) {
			continue
		}
		if g := r.holders.At(int(num)); g != nil && e.allows(q, g, req) {
			out = append(out, g.holder())
		}
	}
	return out
}

// grantingSets lists the sets that grant the query when granted at its
// target: for a set name, the sets whose closure holds it; for a triple,
// the sets whose closure holds a set of its level matching it.
func (q *query) grantingSets() []int32 {
	cat := q.org.cat
	if !q.triple {
		return cat.sets[q.bit].includers
	}
	var out []int32
	if q.overflow {
		for bit := range cat.sets {
			if cat.matchingSet(cat.sets[bit].closure, q.pats, q.resource, q.action, q.orgScoped) >= 0 {
				out = append(out, int32(bit))
			}
		}
		return out
	}
	for _, m := range q.matches[:q.nmatch] {
		out = append(out, cat.sets[m].includers...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// allows reports whether grants g allow the query, conditions included.
func (e *Evaluator) allows(q *query, g *grants, req *Request) bool {
	if g == nil {
		return false
	}
	if q.holds(g) {
		return true
	}
	if !g.conditional {
		return false
	}
	for _, ref := range q.candidates(g) {
		r := g.rule(ref)
		rc := r.cond()
		if rc == nil || rc.cond == nil {
			continue
		}
		if _, _, ok := q.ruleMatch(&r); ok {
			if holds, err := rc.cond.Eval(req); err == nil && holds {
				return true
			}
		}
	}
	return false
}
