package iam

import (
	"context"
	"errors"
	"fmt"
	"math/bits"
	"strings"
	"time"
)

// The check path, in the order a check runs: parse the request (its
// shape, then its target and its permission, resolved in the target
// organization's catalogue: query.go), resolve the caller, decide from the
// grants, then, only when no unconditional grant allows the request, the
// slow path of conditional grants.

// Check answers req. Errors come in this order: an index being rebuilt
// after a failure (ErrStale, see Evaluator); a malformed request
// (ErrInvalid); an unknown project or organization (ErrNotFound); a
// permission the target's organization does not know
// (ErrUnknownPermission); an organization-level permission asked in a
// project (ErrScopeMismatch); an unknown principal, or an ID of another
// kind (ErrNotFound). Then a caller of another organization is denied, an
// expired API key is denied, a locked user is denied, the owner is
// allowed, and the grants decide. Whenever err != nil, Allowed is false.
//
// ctx is not consulted: a check never blocks.
func (e *Evaluator) Check(ctx context.Context, req Request) (Decision, error) {
	return e.observe(ctx, e.snap.Load(), &req)
}

// observe answers req from snapshot s and reports it to the decision hook,
// if any.
func (e *Evaluator) observe(ctx context.Context, s *snapshot, req *Request) (Decision, error) {
	if e.hook == nil {
		return e.check(s, req)
	}
	start := time.Now()
	dec, err := e.check(s, req)
	e.hook(ctx, *req, dec, err, time.Since(start))
	return dec, err
}

// check answers req from snapshot s: every step of a check, in order.
func (e *Evaluator) check(s *snapshot, req *Request) (Decision, error) {
	if s.stale != nil {
		return Decision{}, s.stale
	}
	// The caller's entry is looked up first: of a check's reads it is the
	// one likely to miss the cache (the tables of projects and permissions
	// are small and shared), and the parse, which does not depend on it,
	// then runs while it loads. It is judged after the parse, in the order
	// errors are reported.
	var caller *principalEntry
	if req.Principal.Type != PrincipalAPIKey {
		caller, _ = s.principals.Ref(req.Principal.ID)
	}
	var q query
	if err := q.parse(s, req); err != nil {
		return Decision{}, err
	}
	pe, reason, err := e.resolveFound(s, &q, req.Principal, caller)
	if err != nil {
		return Decision{}, err
	}
	if reason == ReasonNone {
		var conditional bool
		reason, conditional = q.decide(pe)
		if reason == ReasonNotGranted && conditional {
			// The slow path: a copy, so that req itself never escapes and
			// unconditional checks stay free of allocation.
			c := *req
			if c.Time.IsZero() {
				c.Time = e.now() // one instant for every rule of this check
			}
			if len(e.conditionalGrants(&q, pe, &c, true)) > 0 {
				reason = ReasonGranted
			}
		}
	}
	return Decision{Allowed: reason == ReasonGranted || reason == ReasonOwner, Reason: reason, Revision: s.rev}, nil
}

// CheckBatch answers every request against one and the same state of the
// index, so the answers are mutually consistent even while writes land.
func (e *Evaluator) CheckBatch(ctx context.Context, reqs []Request) []Result {
	s := e.snap.Load()
	out := make([]Result, len(reqs))
	for i := range reqs {
		out[i].Decision, out[i].Err = e.observe(ctx, s, &reqs[i])
	}
	return out
}

// parse runs the first three steps of a check, in order: the shape, the
// target, the permission. The check path looks the permission up whole in
// the target's catalogue first: what it finds there is well-formed, so
// only a permission it does not find has its characters checked (a
// triple's at once, a set name's only on its error paths: a name with '*'
// is in no catalogue, so it always reaches one). Every error after the
// quick test of the shape goes through checkShape first, so that a
// malformed request is reported as such, as the order requires.
func (q *query) parse(s *snapshot, req *Request) error {
	const all = needPrincipal | needTarget | needPermission
	perm := req.Permission
	if req.Principal.Type == PrincipalNone || req.Principal.Type > PrincipalAPIKey || req.Principal.ID == "" ||
		(req.ProjectID == "") == (req.OrganizationID == "") || perm == "" || oversized(req) {
		return checkShape(req, all)
	}
	if err := q.target(s, req); err != nil {
		// checkShape reports a malformed permission first.
		return firstErr(checkShape(req, all), err)
	}
	if q.known(perm) {
		// Well-formed: a set name or a declared permission of the catalogue.
		if err := q.levelErr(perm); err != nil {
			return firstErr(checkShape(req, all), err)
		}
		return nil
	}
	if strings.IndexByte(perm, ':') >= 0 {
		if _, ok := scanPermission(perm); !ok {
			return checkShape(req, all)
		}
	}
	if err := q.resolveOther(perm); err != nil {
		if org := callerOrg(s, req.Principal); !q.triple && org != q.org.id && errors.Is(err, ErrUnknownPermission) {
			// The caller is not of the target's organization (or is
			// unknown): suggest no set of the target's own.
			err = unknownSet(perm, q.org.cat, org)
		}
		return firstErr(checkShape(req, all), err)
	}
	return nil
}

// callerOrg returns the organization of principal p (an API key's, for a
// key), or "" when s does not hold it.
func callerOrg(s *snapshot, p Principal) string {
	if p.Type == PrincipalAPIKey {
		if k, ok := s.keys.Get(p.ID); ok {
			return k.org
		}
		return ""
	}
	if pe, ok := s.principals.Ref(p.ID); ok && pe.typ == p.Type {
		return s.orgID(pe.org)
	}
	return ""
}

// firstErr returns the first non-nil error.
func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// resolve finds the caller's index entry. A non-None reason settles the
// decision before grants are read.
func (e *Evaluator) resolve(s *snapshot, q *query, p Principal) (*principalEntry, Reason, error) {
	return e.resolveFound(s, q, p, nil)
}

// resolveFound is resolve, given found, when not nil, the entry of p's ID
// already looked up.
func (e *Evaluator) resolveFound(s *snapshot, q *query, p Principal, found *principalEntry) (*principalEntry, Reason, error) {
	expired := false
	if p.Type == PrincipalAPIKey {
		k, ok := s.keys.Get(p.ID)
		if !ok {
			if err := checkIDSize("principal", p.ID); err != nil {
				return nil, ReasonNone, err
			}
			return nil, ReasonNone, fmt.Errorf("iam: API key %q: %w", clip(p.ID), ErrNotFound)
		}
		expired = !k.expires.IsZero() && !e.now().Before(k.expires)
		p = k.bearer
	}
	pe, ok := found, found != nil
	if !ok {
		pe, ok = s.principals.Ref(p.ID)
	}
	if !ok || pe.typ != p.Type {
		if err := checkIDSize("principal", p.ID); err != nil {
			return nil, ReasonNone, err
		}
		return nil, ReasonNone, fmt.Errorf("iam: %s %q: %w", p.Type, clip(p.ID), ErrNotFound)
	}
	switch {
	case pe.org != q.org.num:
		return pe, ReasonOtherOrganization, nil
	case expired:
		return pe, ReasonExpired, nil
	case pe.locked:
		return pe, ReasonLocked, nil
	case pe.owner:
		return pe, ReasonOwner, nil
	}
	return pe, ReasonNone, nil
}

// decide reads the grants of the caller: its own, then those of its
// groups, listed or special, through its group combination. conditional
// reports whether any of them has a conditional rule, for the slow path.
func (q *query) decide(pe *principalEntry) (r Reason, conditional bool) {
	if pe.typ == PrincipalGroup {
		g := q.org.group(pe.ref)
		if q.holds(g) {
			return ReasonGranted, false
		}
		return ReasonNotGranted, g != nil && g.conditional
	}
	if q.holdsPacked(pe.masks) {
		return ReasonGranted, false
	}
	c := q.org.combo(pe.ref)
	if c != nil && q.groupsHold(c) {
		return ReasonGranted, false
	}
	return ReasonNotGranted, pe.cond || c != nil && q.org.gt.conditional(c)
}

// groupsHold reports whether a group of combination c allows the query,
// with the same reading of levels as holds: it tests the caller's groups
// against the groups granting each set that would answer, whatever their
// number.
func (q *query) groupsHold(c *combo) bool {
	t := q.org.gt
	var a, b []uint32 // the tables that apply at the target
	switch {
	case q.project >= 0:
		a, b = t.all, t.inProject(q.project)
	case q.orgScoped:
		a = t.org
	default:
		a = t.all
	}
	if !q.triple {
		return c.meets(t.at(a, q.bit)) || c.meets(t.at(b, q.bit))
	}
	if q.overflow {
		for i, w := range c.set {
			for ; w != 0; w &= w - 1 {
				if q.holds(q.org.group(int32(64*i + bits.TrailingZeros64(w)))) {
					return true
				}
			}
		}
		return false
	}
	for _, bit := range q.matches[:q.nmatch] {
		if c.meets(t.at(a, bit)) || c.meets(t.at(b, bit)) {
			return true
		}
	}
	return false
}

// holds reports whether one holder's grants allow the query. A grant
// answers only for permissions of its own level: at the organization, an
// organization-level permission (or organization-scoped set) is read from
// the organization-scoped grants only, and a project-level one from the
// project-scoped sets granted on the organization (all projects) only.
func (q *query) holds(g *grants) bool { return g != nil && q.holdsPacked(g.m) }

// holdsPacked is holds on the packed masks of a holder's grants.
func (q *query) holdsPacked(p packedMasks) bool {
	if p == "" {
		return false
	}
	var a, b mask // the masks that apply at the target
	switch {
	case q.project >= 0:
		a, b = p.all(), p.inProject(q.project)
	case q.orgScoped:
		a = p.org()
	default:
		a = p.all()
	}
	if !q.triple {
		return a.has(q.bit) || b.has(q.bit)
	}
	if q.overflow {
		cat := q.org.cat
		return cat.grantsTriple(a, q.pats, q.resource, q.action, q.orgScoped) ||
			cat.grantsTriple(b, q.pats, q.resource, q.action, q.orgScoped)
	}
	as, bs := a.bytes(), b.bytes()
	for _, bit := range q.matches[:q.nmatch] {
		if hasBit(as, bit) || hasBit(bs, bit) {
			return true
		}
	}
	return false
}

// conditionalGrants evaluates the conditional rules that would grant the
// query and returns those whose condition holds (the first only, when
// first is set).
func (e *Evaluator) conditionalGrants(q *query, pe *principalEntry, req *Request, first bool) []Grant {
	var out []Grant
	sets := q.grantingSets()
	for _, h := range q.holders(pe, req.Principal) {
		if !h.g.conditional {
			continue
		}
		for _, ref := range q.candidatesHere(h.g, sets) {
			r := h.g.rule(ref)
			rc := r.cond()
			if rc == nil || rc.cond == nil {
				continue
			}
			named, via, ok := q.ruleMatch(&r)
			if !ok {
				continue
			}
			if holds, err := rc.cond.Eval(req); err != nil || !holds {
				continue
			}
			out = append(out, q.grant(h.p, &r, named, via))
			if first {
				return out
			}
		}
	}
	return out
}
