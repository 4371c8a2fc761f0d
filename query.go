package iam

import (
	"fmt"
	"slices"
	"strings"
)

// query is a parsed request: its target and its permission, resolved
// against the target organization's catalogue.
type query struct {
	org       *orgIndex
	project   int32  // -1: the organization
	projectID string // the request's project, if any
	triple    bool
	bit       int32 // a set name's bit
	orgScoped bool  // the permission is organization-level (a set name: organization-scoped)

	service, resource, action string
	pats                      []catPattern // the service's patterns

	// A triple's matching sets, found once per check: the sets of its
	// level with a pattern matching it (overflow: more than fit; then scan
	// patterns).
	matches  [16]int32
	nmatch   int
	overflow bool
}

// target resolves the request's project or organization.
func (q *query) target(s *snapshot, req *Request) error {
	if req.ProjectID != "" {
		pe, ok := s.projects.Ref(req.ProjectID)
		if !ok {
			return fmt.Errorf("iam: project %q: %w", clip(req.ProjectID), ErrNotFound)
		}
		q.org, q.project, q.projectID = pe.org, pe.seq, req.ProjectID
		return nil
	}
	org, ok := s.orgs.Get(req.OrganizationID)
	if !ok {
		return fmt.Errorf("iam: organization %q: %w", clip(req.OrganizationID), ErrNotFound)
	}
	q.org, q.project = org, -1
	return nil
}

// permission resolves the request's permission in q.org's catalogue; the
// shape has been checked.
// where names the request's target as the request did ("of organization
// "acme"", "available in project "A""): a project's organization is not
// the caller's to learn.
func (q *query) where() string {
	if q.projectID != "" {
		return fmt.Sprintf("available in project %q", q.projectID)
	}
	return fmt.Sprintf("of organization %q", q.org.id)
}

func (q *query) permission(perm string) error {
	if q.known(perm) {
		return q.levelErr(perm)
	}
	return q.resolveOther(perm)
}

// known resolves perm in one lookup when q.org's catalogue holds it as a
// set name or a declared permission (both well-formed), and reports
// whether it did.
func (q *query) known(perm string) bool {
	cat := q.org.cat
	v, ok := cat.requested.Get(perm)
	switch {
	case !ok:
		return false
	case v >= 0:
		q.triple, q.bit, q.orgScoped = false, v&^requestedOrg, v&requestedOrg != 0
		return true
	}
	t := &cat.triples[^v]
	q.triple = q.split(perm)
	q.pats, q.orgScoped = t.pats, t.org
	q.nmatch = copy(q.matches[:], t.sets)
	q.overflow = len(t.sets) > len(q.matches)
	return true
}

// levelErr reports an organization-level permission asked in a project.
func (q *query) levelErr(perm string) error {
	switch {
	case q.project < 0 || !q.orgScoped:
		return nil
	case q.triple:
		return fmt.Errorf("iam: permission %q is organization-level: ask for it with OrganizationID, not in project %q: %w", perm, q.projectID, ErrScopeMismatch)
	}
	return fmt.Errorf("iam: permission set %q is organization-scoped: ask for it with OrganizationID, not in project %q: %w", perm, q.projectID, ErrScopeMismatch)
}

// resolveOther resolves a permission that known does not: a triple of a
// service without declared permissions, by its patterns, or an error.
func (q *query) resolveOther(perm string) error {
	cat := q.org.cat
	if q.triple = q.split(perm); q.triple {
		svc, _ := cat.services.Get(q.service)
		q.pats = svc.pats
		if svc.declared {
			// Only its declared permissions exist, each resolved when the
			// catalogue was built.
			i, ok := svc.known.Get(perm[len(q.service)+1:])
			if !ok {
				return unknownTriple(perm, q.service, q.where(), cat)
			}
			kp := &cat.perms[i]
			q.orgScoped = kp.org
			q.nmatch = copy(q.matches[:], kp.sets)
			q.overflow = len(kp.sets) > len(q.matches)
		} else if !q.collectMatches(cat) {
			return fmt.Errorf("iam: permission %q: no permission set %s holds it: %w", perm, q.where(), ErrUnknownPermission)
		}
		return q.levelErr(perm)
	}
	bit, ok := cat.lookup.Get(perm)
	if !ok {
		return unknownSet(perm, cat, q.org.id)
	}
	q.bit = bit
	q.orgScoped = cat.sets[bit].ScopeType == ScopeOrganization
	return q.levelErr(perm)
}

// split records whether perm is a triple, and its segments. The shape
// has been checked.
func (q *query) split(perm string) bool {
	i := strings.IndexByte(perm, ':')
	if i < 0 {
		return false
	}
	j := i + 1 + strings.IndexByte(perm[i+1:], ':')
	q.service, q.resource, q.action = perm[:i], perm[i+1:j], perm[j+1:]
	return true
}

// unknownSet reports a set name that cat does not hold. Its suggestion is
// taken from the built-in sets and from the own sets of organization org
// only: another organization's sets are never shown.
func unknownSet(name string, cat *catalogue, org string) error {
	names := make([]string, 0, len(cat.sets))
	for _, s := range cat.sets {
		if s.OrganizationID == "" || s.OrganizationID == org {
			names = append(names, s.Name)
		}
	}
	msg := fmt.Sprintf("iam: permission set %q is not in the catalogue", clip(name))
	if hint := didYouMean(name, names); hint != "" {
		msg += "; " + hint
	}
	return fmt.Errorf("%s: %w", msg, ErrUnknownPermission)
}

// collectMatches finds the level of the query's triple, a permission of a
// service without declared permissions, and the sets of that level with a
// pattern matching it. known reports whether any set has one. A triple
// that an organization-scoped set matches is organization-level (the store
// never lets sets of both scope types match one permission).
func (q *query) collectMatches(cat *catalogue) (known bool) {
	q.nmatch, q.overflow, q.orgScoped = 0, false, false
	for _, list := range [2][]catPattern{q.pats, cat.wild} {
		for _, p := range list {
			if !segMatch(p.resource, q.resource) || !segMatch(p.action, q.action) {
				continue
			}
			known = true
			if p.org && !q.orgScoped {
				// The level is the organization: start again with its sets.
				q.orgScoped, q.nmatch, q.overflow = true, 0, false
			}
			if p.org != q.orgScoped || q.overflow || slices.Contains(q.matches[:q.nmatch], p.bit) {
				continue
			}
			if q.nmatch == len(q.matches) {
				q.overflow = true
				continue
			}
			q.matches[q.nmatch] = p.bit
			q.nmatch++
		}
	}
	return known
}

// unknownTriple is the error for a triple of a service with declared
// permissions that none of them equals, with the nearest declared one.
func unknownTriple(perm, service, where string, cat *catalogue) error {
	msg := fmt.Sprintf("iam: permission %q is not a permission of service %q %s", perm, service, where)
	if hint := didYouMean(perm, slices.Clone(cat.declared[service])); hint != "" {
		msg += "; " + hint
	}
	return fmt.Errorf("%s: %w", msg, ErrUnknownPermission)
}
