package iam

import (
	"errors"
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
	if err := checkSize(req); err != nil {
		return err
	}
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

// checkSize rejects a request with a string over its bound: an ID of more
// than MaxIDLength characters or a permission of more than MaxNameLength
// bytes (neither can name anything, so a check only meets them on its
// error paths), or a condition-context string of more than MaxRequestField
// bytes (see oversized).
func checkSize(req *Request) error {
	for _, f := range [...]struct{ name, v string }{
		{"principal", req.Principal.ID}, {"project_id", req.ProjectID}, {"organization_id", req.OrganizationID},
	} {
		if err := checkIDSize(f.name, f.v); err != nil {
			return err
		}
	}
	if len(req.Permission) > MaxNameLength {
		return invalidRequest("permission", clip(req.Permission), fmt.Sprintf("a permission set name or permission has at most %d bytes", MaxNameLength))
	}
	if !oversized(req) {
		return nil
	}
	fields := [...]struct{ name, v string }{{"user_agent", req.UserAgent}, {"resource.id", ""}, {"resource.name", ""}, {"resource.locality", ""}}
	if r := req.Resource; r != nil {
		fields[1].v, fields[2].v, fields[3].v = r.ID, r.Name, r.Locality
	}
	for _, f := range fields {
		if len(f.v) > MaxRequestField {
			return invalidRequest(f.name, clip(f.v), fmt.Sprintf("a condition-context field has at most %d bytes (got %d)", MaxRequestField, len(f.v)))
		}
	}
	return nil
}

// checkIDSize rejects an ID of a request longer than any ID can be.
func checkIDSize(field, id string) error {
	if runesOver(id, MaxIDLength) {
		return invalidRequest(field, clip(id), fmt.Sprintf("an ID has at most %d characters", MaxIDLength))
	}
	return nil
}

// oversized reports whether a string of req's condition context is longer
// than MaxRequestField bytes. Such a request is malformed whether or not a
// condition would read it, so that its validity never depends on the
// policies; the test costs a length comparison per field on every check,
// and no condition ever runs over a string that long.
func oversized(req *Request) bool {
	r := req.Resource
	return len(req.UserAgent) > MaxRequestField ||
		r != nil && (len(r.ID) > MaxRequestField || len(r.Name) > MaxRequestField || len(r.Locality) > MaxRequestField)
}

func invalidRequest(field, value, reason string) error {
	return &ValidationError{Entity: "request", Field: field, Value: value, Reason: reason}
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
		if q.project >= 0 && q.orgScoped {
			return fmt.Errorf("iam: permission %q is organization-level: ask for it with OrganizationID, not in project %q: %w", perm, q.projectID, ErrScopeMismatch)
		}
		return nil
	}
	bit, ok := cat.lookup.Get(perm)
	if !ok {
		return unknownSet(perm, cat, q.org.id)
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

// parse runs the first three steps of a check, in the order of
// docs/semantics.md ("The order of a check"): the shape, the target, the
// permission. The check path validates a triple's characters at once but a
// set name's only on its error paths: a name with '*' is in no catalogue,
// so it always reaches one, where checkShape then reports it first, as the
// order requires.
func (q *query) parse(s *snapshot, req *Request) error {
	const all = needPrincipal | needTarget | needPermission
	perm := req.Permission
	if req.Principal.Type == PrincipalNone || req.Principal.Type > PrincipalAPIKey || req.Principal.ID == "" ||
		(req.ProjectID == "") == (req.OrganizationID == "") || perm == "" || oversized(req) {
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
		return pe.org
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
