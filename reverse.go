package iam

import (
	"context"
	"slices"

	"github.com/iamkit/iam/internal/cowmap"
)

// The reverse queries: each is a Request with one part left out. They read
// the index (never the store's policies) and answer for one consistent
// state of it: the snapshot published when they start. They take no lock,
// so a slow one (a slow condition) delays no write and no other query.

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
	for _, h := range q.granting(r, e, &req, allUsers) {
		if h.p.Type == PrincipalUser {
			holderUsers = append(holderUsers, h.p.ID)
		} else {
			holderApps = append(holderApps, h.p.ID)
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
func (q *query) granting(r *roster, e *Evaluator, req *Request, appsOnly bool) []holderRef {
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
	var out []holderRef
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
				if h := r.holders.At(int(num)); h.g != nil && q.holds(h.g) {
					out = append(out, h)
				}
			}
		}
	}
	for num := range r.conditional.All() {
		if !mark(num) {
			continue
		}
		if h := r.holders.At(int(num)); e.allows(q, h.g, req) {
			out = append(out, h)
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

// WhatCan lists the names of the permission sets req.Principal holds at
// req.ProjectID or req.OrganizationID (req.Permission is ignored),
// includes expanded, sorted. At the organization it lists the
// organization-scoped sets held there and the project-scoped sets held in
// all projects. The owner holds every set of the catalogue that applies
// at the target; a locked user, an expired key or a caller of another
// organization holds none.
func (e *Evaluator) WhatCan(ctx context.Context, req Request) ([]string, error) {
	if err := checkShape(&req, needPrincipal|needTarget); err != nil {
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
	pe, reason, err := e.resolve(s, &q, req.Principal)
	if err != nil {
		return nil, err
	}
	cat := q.org.cat
	out := []string{}
	switch reason {
	case ReasonOwner:
		for _, cs := range cat.sets {
			if q.project < 0 || cs.ScopeType == ScopeProjects {
				out = append(out, cs.Name)
			}
		}
	case ReasonNone:
		held := q.heldBits(pe)
		for _, h := range q.holders(pe, req.Principal) {
			if !h.g.conditional {
				continue
			}
			for _, p := range h.g.pols {
				for ri := range p.rules() {
					r := p.rule(ri)
					rc := r.cond()
					if rc == nil || rc.cond == nil {
						continue
					}
					if holds, err := rc.cond.Eval(&req); err != nil || !holds {
						continue
					}
					for j := range r.nsets {
						bit, ok := cat.lookup.Get(q.org.setNames[r.set(j)])
						if ok && r.appliesAt(q.project, cat.sets[bit].ScopeType) {
							held.or(cat.sets[bit].closure.bytes())
						}
					}
				}
			}
		}
		eachBit(string(held), func(bit int32) { out = append(out, cat.sets[bit].Name) })
	}
	slices.Sort(out)
	return out, nil
}

// heldBits is the union of the caller's unconditional grants at the
// query's target.
func (q *query) heldBits(pe *principalEntry) bitset {
	var b bitset
	for _, h := range q.holders(pe, Principal{}) {
		if q.project >= 0 {
			b.or(h.g.m.all().bytes())
			b.or(h.g.m.inProject(q.project).bytes())
		} else {
			b.or(h.g.m.org().bytes())
			b.or(h.g.m.all().bytes())
		}
	}
	return b
}

func (b bitset) each(fn func(bit int32)) { eachBit(string(b), fn) }

// WhereCan lists the IDs of the projects of req.Principal's organization
// where it is allowed req.Permission (a project-scoped permission; leave
// the target out), sorted: the answer to "which of these resources may I
// list?". Conditional rules count when their condition holds for req.
func (e *Evaluator) WhereCan(ctx context.Context, req Request) ([]string, error) {
	if err := checkShape(&req, needPrincipal|needPermission); err != nil {
		return nil, err
	}
	e.stamp(&req)
	if req.ProjectID != "" || req.OrganizationID != "" {
		return nil, invalidRequest("project_id", req.ProjectID+req.OrganizationID, "WhereCan answers for every project of the caller's organization: leave the target out")
	}
	s, err := e.current()
	if err != nil {
		return nil, err
	}
	bearer := e.caller(s, req.Principal)
	pe, ok := s.principals.Ref(bearer.ID)
	if !ok || pe.typ != bearer.Type {
		if req.Principal.Type == PrincipalAPIKey && bearer == req.Principal {
			return nil, notFound(KindAPIKey, req.Principal.ID)
		}
		return nil, notFound(kindOf(bearer.Type), bearer.ID)
	}
	org, ok := s.orgs.Get(s.orgID(pe.org))
	if !ok {
		return nil, notFound(KindOrganization, s.orgID(pe.org))
	}
	// Parse the permission as if asked in some project, so that an
	// organization-level permission is a scope mismatch.
	q := query{org: org, project: 0}
	if err := q.permission(req.Permission); err != nil {
		return nil, err
	}
	_, reason, err := e.resolve(s, &q, req.Principal)
	if err != nil {
		return nil, err
	}
	out := []string{}
	switch reason {
	case ReasonOwner:
		for id := range s.roster(org.id).projects.All() {
			out = append(out, id)
		}
	case ReasonNone:
		all, seqs := e.whereSeqs(s, &q, pe, &req)
		out = projectsIn(s, org.id, all, seqs, out)
	}
	return out, nil
}

// projectsIn appends to out, sorted, the projects of organization org
// that are all or among seqs.
func projectsIn(s *snapshot, org string, all bool, seqs map[int32]bool, out []string) []string {
	for id, seq := range s.roster(org).projects.All() {
		if all || seqs[seq] {
			out = append(out, id)
		}
	}
	return out
}

// projectsWhere is WhereCan's answer for unconditional grants, for
// Explain.
func (e *Evaluator) projectsWhere(s *snapshot, q *query, pe *principalEntry) []string {
	qq := *q
	all, seqs := e.whereSeqs(s, &qq, pe, nil)
	return projectsIn(s, q.org.id, all, seqs, nil)
}

// whereSeqs finds the projects where the caller's grants allow the query:
// all of them, or the listed seqs. req nil: unconditional grants only.
func (e *Evaluator) whereSeqs(s *snapshot, q *query, pe *principalEntry, req *Request) (all bool, seqs map[int32]bool) {
	seqs = map[int32]bool{}
	cat := q.org.cat
	for _, h := range q.holders(pe, Principal{}) {
		if q.triple && cat.grantsTriple(h.g.m.all(), q.pats, q.resource, q.action, q.orgScoped) || !q.triple && h.g.m.all().has(q.bit) {
			return true, nil
		}
		h.g.m.eachProject(func(seq int32, m mask) {
			if q.triple && cat.grantsTriple(m, q.pats, q.resource, q.action, q.orgScoped) || !q.triple && m.has(q.bit) {
				seqs[seq] = true
			}
		})
		if req == nil || !h.g.conditional {
			continue
		}
		for _, ref := range q.candidates(h.g) {
			r := h.g.rule(ref)
			rc := r.cond()
			if rc == nil || rc.cond == nil {
				continue
			}
			for k := range r.projects() {
				q.project = r.project(k)
				if _, _, ok := q.ruleMatch(&r); ok {
					if holds, err := rc.cond.Eval(req); err == nil && holds {
						seqs[q.project] = true
					}
				}
			}
			if r.onOrg {
				// A rule on the organization covers every project: ask in
				// the default project, which always exists.
				q.project, q.projectID = 0, q.org.id
				if _, _, ok := q.ruleMatch(&r); ok {
					if holds, err := rc.cond.Eval(req); err == nil && holds {
						return true, nil
					}
				}
			}
		}
	}
	return false, seqs
}

func kindOf(t PrincipalType) Kind {
	switch t {
	case PrincipalUser:
		return KindUser
	case PrincipalApplication:
		return KindApplication
	case PrincipalGroup:
		return KindGroup
	case PrincipalAPIKey:
		return KindAPIKey
	}
	return 0
}

// stamp sets a request's time to now when it has none, so that every
// condition read for it sees one instant.
func (e *Evaluator) stamp(req *Request) {
	if req.Time.IsZero() {
		req.Time = e.now()
	}
}
