package iam

import (
	"fmt"
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
	orgScoped bool  // the permission is organization-level only

	service, resource, action string
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
	if need&needPrincipal != 0 && (req.Principal.Type == PrincipalNone || req.Principal.ID == "") {
		return invalidRequest("principal", "", "a request names its principal")
	}
	if need&needTarget != 0 && (req.ProjectID == "") == (req.OrganizationID == "") {
		return invalidRequest("project_id", req.ProjectID, "a request names exactly one of a project and an organization")
	}
	if need&needPermission == 0 {
		return nil
	}
	perm := req.Permission
	if IsPermission(perm) {
		s, r, a, ok := splitTriple(perm)
		if !ok || !validSegment(s, false) || !validSegment(r, false) || !validSegment(a, false) {
			_, _, _, err := parseTriple(perm, false)
			return err
		}
		return nil
	}
	if perm == "" || strings.IndexByte(perm, '*') >= 0 {
		return invalidRequest("permission", perm, "a request names one permission set or one permission triple, without '*'")
	}
	return nil
}

func invalidRequest(field, value, reason string) error {
	return &ValidationError{Entity: "request", Field: field, Value: value, Reason: reason}
}

// target resolves the request's project or organization.
func (q *query) target(s *snapshot, req *Request) error {
	if req.ProjectID != "" {
		pe, ok := s.projects.Get(req.ProjectID)
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
	if q.triple = IsPermission(perm); q.triple {
		q.service, q.resource, q.action, _ = splitTriple(perm)
		known, inProjects := cat.lookupTriple(q.service, q.resource, q.action)
		if !known {
			return fmt.Errorf("iam: permission %q: no permission set of organization %q holds it: %w", perm, q.org.id, ErrUnknownPermission)
		}
		q.orgScoped = !inProjects
		if q.project >= 0 && q.orgScoped {
			return fmt.Errorf("iam: permission %q is organization-level: ask for it with OrganizationID, not in project %q: %w", perm, q.projectID, ErrScopeMismatch)
		}
		return nil
	}
	bit, ok := cat.bits[perm]
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

// parse runs checkShape, target and permission: the first three steps of
// a check, in the order of DESIGN section 5b.
func (q *query) parse(s *snapshot, req *Request) error {
	if err := checkShape(req, needPrincipal|needTarget|needPermission); err != nil {
		return err
	}
	if err := q.target(s, req); err != nil {
		return err
	}
	return q.permission(req.Permission)
}
