package iam

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// Explanation is a decision with everything behind it.
type Explanation struct {
	Request  Request
	Decision Decision
	// Grants lists every grant that allows the request (all of them, not
	// only the first found): one per rule and permission set, or one
	// Owner grant.
	Grants []Grant
	// Denial says, for a deny, why, in words a person can act on.
	Denial string
	// HeldIn lists, for a deny in a project, the projects where the caller
	// does hold the permission.
	HeldIn []string
	// Related lists, for a deny, the permission sets the caller holds at
	// the target that touch the same services (the outermost ones: not
	// those that another listed set includes).
	Related []string
}

// Grant is one reason a request is allowed.
type Grant struct {
	Owner      bool // the caller owns the organization; the fields below are empty
	PolicyID   string
	PolicyName string
	Rule       int // index of the rule in the policy
	// PermissionSet is the set the rule names; Via is the set inside its
	// includes that matched, when it is another one.
	PermissionSet string
	Via           string
	// Principal is the policy's principal: the caller itself or one of its
	// groups.
	Principal Principal
	Scope     GrantScope
	Condition string // the rule's condition, held true for this request
}

// GrantScope is where a grant applies.
type GrantScope struct {
	ProjectID    string // a rule listing this project
	AllProjects  bool   // a rule on the organization, for project-scoped sets
	Organization bool   // a rule on the organization, for organization-scoped sets
}

// String renders "project P", "all projects" or "the organization".
func (s GrantScope) String() string {
	switch {
	case s.ProjectID != "":
		return "project " + s.ProjectID
	case s.AllProjects:
		return "all projects"
	default:
		return "the organization"
	}
}

// String renders the grant in one line.
func (g Grant) String() string {
	if g.Owner {
		return "owner of the organization"
	}
	var b strings.Builder
	b.WriteString("policy ")
	if g.PolicyName != "" {
		fmt.Fprintf(&b, "%q (%s)", g.PolicyName, g.PolicyID)
	} else {
		b.WriteString(g.PolicyID)
	}
	fmt.Fprintf(&b, " rule %d grants %s", g.Rule, g.PermissionSet)
	if g.Via != "" {
		fmt.Fprintf(&b, " (which includes %s)", g.Via)
	}
	fmt.Fprintf(&b, " to %s in %s", g.Principal, g.Scope)
	if g.Condition != "" {
		fmt.Fprintf(&b, " when %s", g.Condition)
	}
	return b.String()
}

// String renders the explanation: one line for the decision, then one
// indented line per grant or per reason, fit for a log line (the first
// line alone) and for a terminal.
func (x Explanation) String() string {
	var b strings.Builder
	verdict := "DENY"
	if x.Decision.Allowed {
		verdict = "ALLOW"
	}
	target := "project " + x.Request.ProjectID
	if x.Request.ProjectID == "" {
		target = "organization " + x.Request.OrganizationID
	}
	fmt.Fprintf(&b, "%s %s %s in %s", verdict, x.Request.Principal, x.Request.Permission, target)
	for _, g := range x.Grants {
		b.WriteString("\n  because ")
		b.WriteString(g.String())
	}
	if x.Denial != "" {
		b.WriteString("\n  ")
		b.WriteString(x.Denial)
	}
	if len(x.HeldIn) > 0 {
		fmt.Fprintf(&b, "\n  it is held in: %s", strings.Join(x.HeldIn, ", "))
	}
	if len(x.Related) > 0 {
		fmt.Fprintf(&b, "\n  related sets held here: %s", strings.Join(x.Related, ", "))
	}
	return b.String()
}

// grant describes rule r of holder p granting the query through set
// named and, inside its closure, set via (catalogue bits; see ruleMatch).
func (q *query) grant(p Principal, r *crule, named, via int32) Grant {
	cs := &q.org.cat.sets[named]
	g := Grant{PolicyID: r.p.id, PolicyName: r.p.name, Rule: int(r.index), PermissionSet: cs.Name, Principal: p}
	if rc := r.cond(); rc != nil {
		g.Condition = rc.expr
	}
	if via != named {
		g.Via = q.org.cat.sets[via].Name
	}
	st := cs.ScopeType
	switch {
	case st == ScopeOrganization:
		g.Scope.Organization = true
	case r.onOrg:
		g.Scope.AllProjects = true
	default:
		g.Scope.ProjectID = q.projectID
	}
	return g
}

// Explain answers req as Check does and says why. Its errors are Check's.
// It allocates, and costs a few microseconds, more when many rules grant:
// it reads the rules of the caller and of its groups that may grant at
// the target (those of a holder whose grants hold nothing there are
// skipped), and lists every one that does.
func (e *Evaluator) Explain(ctx context.Context, req Request) (Explanation, error) {
	x := Explanation{Request: req}
	s, err := e.current()
	if err != nil {
		return x, err
	}
	e.stamp(&req)
	var q query
	if err := q.parse(s, &req); err != nil {
		return x, err
	}
	pe, reason, err := e.resolve(s, &q, req.Principal)
	if err != nil {
		return x, err
	}
	x.Decision.Revision = s.rev
	switch reason {
	case ReasonOwner:
		x.Grants = []Grant{{Owner: true}}
	case ReasonOtherOrganization:
		// Name neither organization: the request named at most the target's.
		x.Denial = "the caller and the target are in different organizations: nothing crosses an organization's boundary"
	case ReasonExpired:
		x.Denial = fmt.Sprintf("API key %s has expired: create a new key", req.Principal.ID)
	case ReasonLocked:
		x.Denial = "the user is locked: an IAM manager must unlock it"
	default:
		var falseConds []string
		holders := q.holders(pe, e.caller(s, req.Principal))
		cands := make([][]ruleRef, len(holders))
		sets := q.grantingSets()
		n := 0
		for i, h := range holders {
			if !h.g.conditional && !q.holds(h.g) {
				// Its masks are the union of what its rules grant: none of
				// them grants the request here.
				continue
			}
			cands[i] = q.candidatesHere(h.g, sets)
			n += len(cands[i])
		}
		x.Grants = make([]Grant, 0, n) // most candidates here grant
		for i, h := range holders {
			for _, ref := range cands[i] {
				r := h.g.rule(ref)
				named, via, ok := q.ruleMatch(&r)
				if !ok {
					continue
				}
				if rc := r.cond(); rc != nil {
					if rc.cond == nil {
						falseConds = append(falseConds, fmt.Sprintf("policy %s rule %d would grant it, but conditions are not evaluated (no condition engine)", r.p.id, r.index))
						continue
					}
					if holds, err := rc.cond.Eval(&req); err != nil || !holds {
						falseConds = append(falseConds, fmt.Sprintf("policy %s rule %d would grant it, but its condition %s is false for this request", r.p.id, r.index, rc.expr))
						continue
					}
				}
				x.Grants = append(x.Grants, q.grant(h.p, &r, named, via))
			}
		}
		reason = ReasonNotGranted
		if len(x.Grants) == 0 {
			x.Grants = nil
		}
		if len(x.Grants) > 0 {
			reason = ReasonGranted
			break
		}
		x.Denial = "no policy grants it to the caller or to its groups"
		if len(falseConds) > 0 {
			x.Denial = strings.Join(falseConds, "; ")
		}
		x.HeldIn, x.Related = e.denialContext(s, &q, pe)
	}
	x.Decision.Reason = reason
	x.Decision.Allowed = reason == ReasonGranted || reason == ReasonOwner
	return x, nil
}

// caller is the principal that holds the caller's own grants: the bearer
// of an API key, else the caller itself.
func (e *Evaluator) caller(s *snapshot, p Principal) Principal {
	if p.Type == PrincipalAPIKey {
		if k, ok := s.keys.Get(p.ID); ok {
			return k.bearer
		}
	}
	return p
}

// denialContext finds where else the caller holds the permission, and
// which related sets it holds at the target.
func (e *Evaluator) denialContext(s *snapshot, q *query, pe *principalEntry) (heldIn, related []string) {
	if !q.orgScoped {
		heldIn = e.projectsWhere(s, q, pe)
	}
	services := map[string]bool{}
	cat := q.org.cat
	if q.triple {
		services[q.service] = true
	} else {
		for _, p := range cat.sets[q.bit].Permissions {
			if s, _, _, ok := splitTriple(p); ok {
				services[s] = true
			}
		}
		cat.sets[q.bit].closure.each(func(bit int32) {
			for _, p := range cat.sets[bit].Permissions {
				if s, _, _, ok := splitTriple(p); ok {
					services[s] = true
				}
			}
		})
	}
	held := q.heldBits(pe)
	var touching []int32
	held.each(func(bit int32) {
		for _, p := range cat.sets[bit].Permissions {
			if s, _, _, ok := splitTriple(p); ok && services[s] {
				touching = append(touching, bit)
				return
			}
		}
	})
	// Name only the outermost sets: one that another related set includes
	// adds nothing a person can act on.
	for _, bit := range touching {
		inner := false
		for _, other := range touching {
			if other != bit && cat.sets[other].closure.has(bit) {
				inner = true
				break
			}
		}
		if !inner {
			related = append(related, cat.sets[bit].Name)
		}
	}
	slices.Sort(related)
	return heldIn, related
}
