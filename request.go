package iam

import (
	"fmt"
	"net/netip"
	"time"
)

// Request asks whether a principal may use a permission at a target.
type Request struct {
	// Principal is the caller: a user, an application, an API key (answered
	// for its bearer) or a group (answered from the group's own policies).
	Principal Principal
	// Exactly one of ProjectID and OrganizationID names the target. A
	// project-scoped permission asked at the organization asks for it in
	// every project at once (an organization-wide listing).
	ProjectID      string
	OrganizationID string
	// Permission is a permission set name ("InstancesFullAccess") or a
	// permission triple ("instance:server:create").
	Permission string

	// The condition context, read only by rules that have a condition.
	// UserAgent and the Resource's fields have at most MaxRequestField
	// bytes each: a request with a longer one is malformed (ErrInvalid),
	// whether or not a condition would read it.
	IP        netip.Addr
	Time      time.Time // zero: now
	UserAgent string
	Resource  *Resource // nil on list requests
}

// Resource is the resource a request acts on, for conditions.
type Resource struct {
	ID       string
	Name     string
	Locality string
}

// Reason says why a Decision came out as it did.
type Reason uint8

// Reasons.
const (
	ReasonNone              Reason = iota // no decision (the check failed)
	ReasonGranted                         // a policy grants it
	ReasonOwner                           // the caller owns the organization
	ReasonNotGranted                      // nothing grants it
	ReasonOtherOrganization               // caller and target are in different organizations
	ReasonLocked                          // the user is locked
	ReasonExpired                         // the API key has expired
)

var reasonNames = [...]string{"none", "granted", "owner", "not granted", "other organization", "locked", "expired"}

// String returns the reason in words.
func (r Reason) String() string {
	if int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return "unknown"
}

// Decision is the answer to a Request.
type Decision struct {
	Allowed  bool
	Reason   Reason
	Revision uint64 // the store revision the answer reflects
}

// Result is one answer of CheckBatch.
type Result struct {
	Decision Decision
	Err      error
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
