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

// What a request must name, by the kind of question asked.
const (
	needPrincipal = 1 << iota
	needTarget
	needPermission
)

// checkShape rejects a malformed request (ErrInvalid), before anything is
// looked up.
func checkShape(req *Request, need int) error {
	if need&needPrincipal != 0 && (req.Principal.Type == PrincipalNone || req.Principal.Type > PrincipalAPIKey || req.Principal.ID == "") {
		return invalidRequest("principal", req.Principal.String(), "a request names its principal: a user, an application, a group or an API key")
	}
	if need&needTarget != 0 && (req.ProjectID == "") == (req.OrganizationID == "") {
		return invalidRequest("project_id", req.ProjectID, "a request names exactly one of a project and an organization")
	}
	if need&needPermission != 0 {
		if _, ok := scanPermission(req.Permission); !ok {
			if IsPermission(req.Permission) {
				_, _, _, err := parseTriple(req.Permission, false)
				return err
			}
			return invalidRequest("permission", req.Permission, "a request names one permission set or one permission triple, without '*'")
		}
	}
	return nil
}

// scanPermission checks a requested permission in one pass: a set name
// (no ':' and no '*') or a concrete triple of valid segments. colons holds
// the positions of the triple's two colons (zero for a set name).
func scanPermission(p string) (colons [2]int, ok bool) {
	if p == "" {
		return colons, false
	}
	n, start := 0, 0
	for i := 0; i < len(p); i++ {
		switch c := p[i]; {
		case c == ':':
			if n == 2 || i == start {
				return colons, false
			}
			colons[n] = i
			n++
			start = i + 1
		case c == '*':
			return colons, false
		case n > 0:
			// Inside a triple: lower-case ASCII letters, digits, '-', '_', '.'.
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
				return colons, false
			}
		}
	}
	if n == 0 {
		return colons, true
	}
	if n != 2 || start == len(p) {
		return colons, false
	}
	// The first segment was scanned before the first colon was seen.
	for i := 0; i < colons[0]; i++ {
		if c := p[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return colons, false
		}
	}
	return colons, len(p)-colons[1]-1 <= 64 && colons[1]-colons[0]-1 <= 64 && colons[0] <= 64
}

func invalidRequest(field, value, reason string) error {
	return &ValidationError{Entity: "request", Field: field, Value: value, Reason: reason}
}

// target resolves the request's project or organization.
func (q *query) target(s *snapshot, req *Request) error {
	if req.ProjectID != "" {
		pe, ok := s.projects.Ref(req.ProjectID)
		if !ok {
			return fmt.Errorf("iam: project %q: %w", req.ProjectID, ErrNotFound)
		}
		q.org, q.project, q.projectID = pe.org, pe.seq, req.ProjectID
		return nil
	}
	org, ok := s.orgs.Get(req.OrganizationID)
	if !ok {
		return fmt.Errorf("iam: organization %q: %w", req.OrganizationID, ErrNotFound)
	}
	q.org, q.project = org, -1
	return nil
}

// permission resolves the request's permission in q.org's catalogue; the
// shape has been checked.
func (q *query) permission(perm string) error {
	cat := q.org.cat
	if q.triple = q.split(perm); q.triple {
		svc, _ := cat.services.Get(q.service)
		q.pats = svc.pats
		if svc.declared {
			// Only its declared permissions exist, each resolved when the
			// catalogue was built.
			i, ok := svc.known.Get(perm[len(q.service)+1:])
			if !ok {
				return unknownTriple(perm, q.service, q.org.id, cat)
			}
			kp := &cat.perms[i]
			q.orgScoped = kp.org
			q.nmatch = copy(q.matches[:], kp.sets)
			q.overflow = len(kp.sets) > len(q.matches)
		} else if !q.collectMatches(cat) {
			return fmt.Errorf("iam: permission %q: no permission set of organization %q holds it: %w", perm, q.org.id, ErrUnknownPermission)
		}
		if q.project >= 0 && q.orgScoped {
			return fmt.Errorf("iam: permission %q is organization-level: ask for it with OrganizationID, not in project %q: %w", perm, q.projectID, ErrScopeMismatch)
		}
		return nil
	}
	bit, ok := cat.lookup.Get(perm)
	if !ok {
		return unknownSet(perm, cat)
	}
	q.bit = bit
	q.orgScoped = cat.sets[bit].ScopeType == ScopeOrganization
	if q.project >= 0 && q.orgScoped {
		return fmt.Errorf("iam: permission set %q is organization-scoped: ask for it with OrganizationID, not in project %q: %w", perm, q.projectID, ErrScopeMismatch)
	}
	return nil
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

// parse runs the first three steps of a check, in the order of DESIGN
// section 5b: the shape, the target, the permission. The check path
// validates a triple's characters at once but a set name's only on its
// error paths: a name with '*' is in no catalogue, so it always reaches
// one, where checkShape then reports it first, as the order requires.
func (q *query) parse(s *snapshot, req *Request) error {
	const all = needPrincipal | needTarget | needPermission
	perm := req.Permission
	if req.Principal.Type == PrincipalNone || req.Principal.Type > PrincipalAPIKey || req.Principal.ID == "" ||
		(req.ProjectID == "") == (req.OrganizationID == "") || perm == "" {
		return checkShape(req, all)
	}
	if strings.IndexByte(perm, ':') >= 0 {
		if _, ok := scanPermission(perm); !ok {
			return checkShape(req, all)
		}
	}
	if err := q.target(s, req); err != nil {
		return firstErr(checkShape(req, all), err)
	}
	if err := q.permission(perm); err != nil {
		return firstErr(checkShape(req, all), err)
	}
	return nil
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
func unknownTriple(perm, service, org string, cat *catalogue) error {
	msg := fmt.Sprintf("iam: permission %q is not a permission of service %q in the catalogue of organization %q", perm, service, org)
	if hint := didYouMean(perm, slices.Clone(cat.declared[service])); hint != "" {
		msg += "; " + hint
	}
	return fmt.Errorf("%s: %w", msg, ErrUnknownPermission)
}
