package iam

import "strings"

// ScopeType is where a permission set can be granted.
type ScopeType string

// Scope types.
const (
	// ScopeProjects: the set is granted in projects (listed ones, or all
	// current and future ones through a rule on the organization).
	ScopeProjects ScopeType = "projects"
	// ScopeOrganization: the set is granted for organization-level features
	// (IAM, billing, projects, tickets, audit trail), only by a rule on the
	// organization.
	ScopeOrganization ScopeType = "organization"
)

// PermissionSet is a named bundle of permission patterns. Each pattern is a
// triple service:resource:action in which any whole segment may be "*"
// ("instance:*:read"); a star never spans a ':' and never matches part of a
// segment. A set also holds every set it includes, transitively.
// Permissions and Includes list each entry once (a repeat is ErrInvalid).
//
// Sets with an empty OrganizationID form the store's built-in catalogue
// (by default ScalewayCatalogue), available to every organization. An
// organization's own sets sit beside it and may not reuse its names. A set
// holds at most MaxPermissionsPerSet patterns and includes at most
// MaxIncludes sets directly.
//
// # Levels
//
// Every permission has one level, the scope type of the sets whose
// patterns match it: "projects" (a project's resources) or "organization"
// (IAM, billing, projects and the like). The levels partition the
// permissions of an organization's catalogue (the built-in sets and its
// own): a pattern that overlaps a pattern of a set of the other scope type
// is invalid (ErrInvalid with ErrScopeMismatch). Two patterns overlap when,
// segment by segment, they are equal or one of the two is "*", so
// "*:*:*" in a project-scoped set overlaps "iam:*:*" and is refused: name
// the services. A grant only ever answers for permissions of its set's
// level: a project-scoped set granted on the organization never grants an
// organization-level permission, and an organization-scoped set never
// grants anything inside a project.
//
// # Known permissions
//
// Declared lists concrete permissions (no "*") that the set's own patterns
// match, and makes them the known permissions of their service: once any
// set of a catalogue declares a permission of a service, a request for a
// triple of that service that no set declares is ErrUnknownPermission,
// even when a pattern such as "instance:*:*" matches it, so that a typo
// ("instance:servers:create") fails loudly instead of being allowed. For a
// service that no set declares, a triple is known when some pattern
// matches it. Every pattern whose service has declared permissions must
// match at least one of them (a pattern that can match nothing is a typo
// too). A set declares at most MaxDeclaredPerSet permissions; in files the
// field is "declared".
type PermissionSet struct {
	Name           string
	OrganizationID string
	ScopeType      ScopeType
	Permissions    []string
	Includes       []string
	Declared       []string
	Description    string
	Categories     []string
}

// MaxDeclaredPerSet bounds PermissionSet.Declared.
const MaxDeclaredPerSet = 1000

// IsPermission reports whether s is shaped as a permission triple (it
// contains a ':'), as opposed to a permission set name.
func IsPermission(s string) bool { return strings.IndexByte(s, ':') >= 0 }

// splitTriple splits "a:b:c" into its three segments without allocating.
// ok is false unless there are exactly three non-empty segments.
func splitTriple(s string) (service, resource, action string, ok bool) {
	i := strings.IndexByte(s, ':')
	if i <= 0 {
		return "", "", "", false
	}
	rest := s[i+1:]
	j := strings.IndexByte(rest, ':')
	if j <= 0 || j == len(rest)-1 || strings.IndexByte(rest[j+1:], ':') >= 0 {
		return "", "", "", false
	}
	return s[:i], rest[:j], rest[j+1:], true
}

// validSegment reports whether seg is a usable triple segment: lower-case
// ASCII letters, digits, '-', '_' and '.', or (in a pattern) exactly "*".
func validSegment(seg string, pattern bool) bool {
	if seg == "*" {
		return pattern
	}
	if seg == "" || len(seg) > 64 {
		return false
	}
	for i := 0; i < len(seg); i++ {
		c := seg[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '_', c == '.':
		default:
			return false
		}
	}
	return true
}

// ParsePermission checks that p is a concrete permission triple (no "*")
// and returns its segments. It returns a *ValidationError otherwise.
func ParsePermission(p string) (service, resource, action string, err error) {
	return parseTriple(p, false)
}

func parseTriple(p string, pattern bool) (service, resource, action string, err error) {
	s, r, a, ok := splitTriple(p)
	if !ok || !validSegment(s, pattern) || !validSegment(r, pattern) || !validSegment(a, pattern) {
		what := "permission"
		hint := `write service:resource:action in lower case, for example "instance:server:create"`
		if pattern {
			what = "permission pattern"
			hint += `; a whole segment may be "*"`
		} else if strings.Contains(p, "*") {
			hint = `a request names one concrete permission; "*" belongs in permission set patterns`
		}
		return "", "", "", &ValidationError{Reason: "malformed " + what, Value: p, Hint: hint}
	}
	return s, r, a, nil
}

// MatchPermission reports whether the concrete triple permission matches
// pattern, segment by segment, "*" matching any one whole segment.
func MatchPermission(pattern, permission string) bool {
	ps, pr, pa, ok := splitTriple(pattern)
	if !ok {
		return false
	}
	s, r, a, ok := splitTriple(permission)
	if !ok {
		return false
	}
	return segMatch(ps, s) && segMatch(pr, r) && segMatch(pa, a)
}

func segMatch(pattern, seg string) bool { return pattern == "*" || pattern == seg }

// patternsOverlap reports whether some concrete permission matches both
// patterns: segment by segment, the two are equal or one of them is "*".
func patternsOverlap(a, b string) bool {
	as, ar, aa, ok := splitTriple(a)
	if !ok {
		return false
	}
	bs, br, ba, ok := splitTriple(b)
	if !ok {
		return false
	}
	return segOverlap(as, bs) && segOverlap(ar, br) && segOverlap(aa, ba)
}

func segOverlap(a, b string) bool { return a == "*" || b == "*" || a == b }
