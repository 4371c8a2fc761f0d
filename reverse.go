package iam

import (
	"context"
	"slices"
)

// The reverse queries: each is a Request with one part left out. They read
// the index (never the store's policies) and answer for one consistent
// state of it. WhoCan and WhereCan hold the index's writer lock while they
// run (a write waits for them; checks never do).

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
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.snap.Load()
	var q query
	if err := q.target(s, &req); err != nil {
		return nil, err
	}
	if err := q.permission(req.Permission); err != nil {
		return nil, err
	}
	mo := e.mirror.orgs[q.org.id]
	users, apps := map[string]bool{}, map[string]bool{}
	allUsers, allApps := false, false // a granting group holds every user / non-managed app
	if mo.owner != "" {
		users[mo.owner] = true
	}
	for h := range mo.byHolder {
		switch h.Type {
		case PrincipalUser, PrincipalApplication:
			pe, ok := s.principals.Ref(h.ID)
			if !ok || !e.allows(&q, &pe.own, &req) {
				continue
			}
			if h.Type == PrincipalUser {
				users[h.ID] = true
			} else {
				apps[h.ID] = true
			}
		case PrincipalGroup:
			seq, ok := mo.groupSeq[h.ID]
			if !ok || !e.allows(&q, q.org.group(seq), &req) {
				continue
			}
			g := mo.groups[h.ID]
			allUsers = allUsers || g.AllUsers
			allApps = allApps || g.AllApplications
			if !allUsers {
				for _, id := range g.UserIDs {
					users[id] = true
				}
			}
			for _, id := range g.ApplicationIDs {
				apps[id] = true
			}
		}
	}
	var out []Principal
	if allUsers {
		out = append(out, mo.sortedUsers()...)
	} else {
		out = appendSorted(out, users, func(id string) (Principal, bool) {
			u, ok := mo.users[id]
			return UserPrincipal(id), ok && !u.Locked
		})
	}
	if allApps {
		// Every non-managed application, and the managed ones a granting
		// group lists explicitly.
		for _, p := range mo.sortedApps() {
			apps[p.ID] = true
		}
	}
	out = appendSorted(out, apps, func(id string) (Principal, bool) {
		_, ok := mo.apps[id]
		return ApplicationPrincipal(id), ok
	})
	return out, nil
}

// appendSorted appends the principals of ids that keep accepts, sorted.
func appendSorted(out []Principal, ids map[string]bool, keep func(string) (Principal, bool)) []Principal {
	sorted := make([]string, 0, len(ids))
	for id := range ids {
		sorted = append(sorted, id)
	}
	slices.Sort(sorted)
	for _, id := range sorted {
		if p, ok := keep(id); ok {
			out = append(out, p)
		}
	}
	return out
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
	for _, i := range q.candidates(g) {
		r := &g.rules[i]
		if r.cond == nil {
			continue
		}
		if _, _, ok := q.ruleMatch(r); ok {
			if holds, err := r.cond.Eval(req); err == nil && holds {
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
	s := e.snap.Load()
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
			for i := range h.g.rules {
				r := &h.g.rules[i]
				if r.cond == nil {
					continue
				}
				if holds, err := r.cond.Eval(&req); err != nil || !holds {
					continue
				}
				for _, name := range r.rule().PermissionSets {
					bit, ok := cat.lookup.Get(name)
					if ok && r.appliesAt(q.projectID, cat.sets[bit].ScopeType) {
						held.or(cat.sets[bit].closure.bytes())
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
			b.or(h.g.all.bytes())
			b.or(h.g.inProject(q.project).bytes())
		} else {
			b.or(h.g.org.bytes())
			b.or(h.g.all.bytes())
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
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.snap.Load()
	bearer := e.caller(s, req.Principal)
	pe, ok := s.principals.Ref(bearer.ID)
	if !ok || pe.typ != bearer.Type {
		if req.Principal.Type == PrincipalAPIKey && bearer == req.Principal {
			return nil, notFound(KindAPIKey, req.Principal.ID)
		}
		return nil, notFound(kindOf(bearer.Type), bearer.ID)
	}
	org, ok := s.orgs.Get(pe.org)
	if !ok {
		return nil, notFound(KindOrganization, pe.org)
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
	mo := e.mirror.orgs[org.id]
	out := []string{}
	switch reason {
	case ReasonOwner:
		out = sortedKeys(mo.projSeq)
	case ReasonNone:
		all, seqs := e.whereSeqs(&q, pe, &req, mo.projSeq)
		for id, seq := range mo.projSeq {
			if all || seqs[seq] {
				out = append(out, id)
			}
		}
		slices.Sort(out)
	}
	return out, nil
}

// projectsWhere is WhereCan's answer for unconditional grants, for
// Explain.
func (e *Evaluator) projectsWhere(q *query, pe *principalEntry) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	qq := *q
	all, seqs := e.whereSeqs(&qq, pe, nil, nil)
	mo := e.mirror.orgs[q.org.id]
	if mo == nil {
		return nil
	}
	var out []string
	for id, seq := range mo.projSeq {
		if all || seqs[seq] {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// whereSeqs finds the projects where the caller's grants allow the query:
// all of them, or the listed seqs. req nil: unconditional grants only.
func (e *Evaluator) whereSeqs(q *query, pe *principalEntry, req *Request, projSeq map[string]int32) (all bool, seqs map[int32]bool) {
	seqs = map[int32]bool{}
	cat := q.org.cat
	for _, h := range q.holders(pe, Principal{}) {
		if q.triple && cat.grantsTriple(h.g.all, q.pats, q.resource, q.action, q.orgScoped) || !q.triple && h.g.all.has(q.bit) {
			return true, nil
		}
		for _, pg := range h.g.projects {
			if q.triple && cat.grantsTriple(pg.m, q.pats, q.resource, q.action, q.orgScoped) || !q.triple && pg.m.has(q.bit) {
				seqs[pg.seq] = true
			}
		}
		if req == nil || !h.g.conditional {
			continue
		}
		for _, i := range q.candidates(h.g) {
			r := &h.g.rules[i]
			if r.cond == nil {
				continue
			}
			for _, pid := range r.rule().Scope.ProjectIDs {
				seq, ok := projSeq[pid]
				if !ok {
					continue
				}
				q.project, q.projectID = seq, pid
				if _, _, ok := q.ruleMatch(r); ok {
					if holds, err := r.cond.Eval(req); err == nil && holds {
						seqs[seq] = true
					}
				}
			}
			if r.onOrg() {
				// A rule on the organization covers every project: ask in
				// the default project, which always exists.
				q.project, q.projectID = 0, q.org.id
				if _, _, ok := q.ruleMatch(r); ok {
					if holds, err := r.cond.Eval(req); err == nil && holds {
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
