package iam

import (
	"context"
	"slices"
)

// The reverse queries: each is a Request with one part left out. They read
// the index (never the store's policies) and answer for one consistent
// state of it: the snapshot published when they start. They take no lock,
// so a slow one (a slow condition) delays no write and no other query.

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
						bit := q.org.setBits[r.set(j)]
						if bit >= 0 && r.appliesAt(q.project, cat.sets[bit].ScopeType) {
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
	var sets []int32 // q.grantingSets(), once a holder has conditional rules
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
		if sets == nil {
			sets = q.grantingSets()
		}
		for _, ref := range q.candidates(h.g, sets) {
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
