// Package reference is the naive reference evaluator: the simplest code
// that could be right, written straight from the evaluation rules and the
// order of a check in docs/semantics.md, and sharing no code with the
// Evaluator's index. For each request it reads what it needs through the
// Store's public Get and List methods and scans every group, policy and
// rule of the organization. It is slow on purpose; the differential tests
// (internal/differential) compare the Evaluator with it.
package reference

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/iamkit/iam"
)

// Evaluator answers requests from a Store, naively. Set Store and Now;
// Cond and Memo are optional. It is safe for concurrent use once made.
type Evaluator struct {
	Store iam.Store
	Now   func() time.Time // the clock for API key expiry

	// Cond decides a rule's condition for a request. Nil: a rule with a
	// non-empty condition grants nothing, which is right for stores without
	// a condition engine (they reject such rules at write time).
	// TODO(conditions): give the reference a CEL evaluation of its own
	// (rule 7 of docs/semantics.md) rather than a hook.
	Cond func(expr string, req iam.Request) bool

	// The store's built-in catalogue, read once: it cannot be written
	// (PermissionSetStore), and copying its 202 sets on every request
	// would make the reference too slow to compare many requests.
	builtinOnce     sync.Once
	builtin         map[string]iam.PermissionSet
	builtinDeclared map[string]map[string]bool // service → the permissions the built-in sets declare
	builtinErr      error

	// Memo keeps an organization's lists (own sets, groups, policies) for
	// as long as the store's revision does not move. Off, every request
	// reads them anew; the random-write tests leave it off.
	Memo   bool
	memoMu sync.Mutex
	memoed map[string]orgLists
}

// orgLists is what the reference lists of one organization.
type orgLists struct {
	rev      uint64
	sets     []iam.PermissionSet
	groups   []iam.Group
	policies []iam.Policy
}

// lists reads an organization's own sets, groups and policies.
func (r *Evaluator) lists(ctx context.Context, org string) (orgLists, error) {
	var rev uint64
	if r.Memo {
		var err error
		if rev, err = r.Store.Revision(ctx); err != nil {
			return orgLists{}, err
		}
		r.memoMu.Lock()
		l, ok := r.memoed[org]
		r.memoMu.Unlock()
		if ok && l.rev == rev {
			return l, nil
		}
	}
	var l orgLists
	var err error
	l.rev = rev
	if l.sets, err = r.Store.ListPermissionSets(ctx, org); err != nil {
		return l, err
	}
	if l.groups, err = r.Store.ListGroups(ctx, org); err != nil {
		return l, err
	}
	if l.policies, err = r.Store.ListPolicies(ctx, org); err != nil {
		return l, err
	}
	if r.Memo {
		r.memoMu.Lock()
		if r.memoed == nil {
			r.memoed = map[string]orgLists{}
		}
		r.memoed[org] = l
		r.memoMu.Unlock()
	}
	return l, nil
}

func (r *Evaluator) builtinSets(ctx context.Context) (map[string]iam.PermissionSet, error) {
	r.builtinOnce.Do(func() {
		sets, err := r.Store.ListPermissionSets(ctx, "")
		r.builtin, r.builtinErr = map[string]iam.PermissionSet{}, err
		r.builtinDeclared = map[string]map[string]bool{}
		for _, ps := range sets {
			r.builtin[ps.Name] = ps
			for _, d := range ps.Declared {
				service, _, _ := strings.Cut(d, ":")
				if r.builtinDeclared[service] == nil {
					r.builtinDeclared[service] = map[string]bool{}
				}
				r.builtinDeclared[service][d] = true
			}
		}
	})
	return r.builtin, r.builtinErr
}

// catalogue is the catalogue of one organization: its own sets beside
// the built-in ones (their names never collide).
type catalogue struct {
	builtin, own map[string]iam.PermissionSet
}

func (c catalogue) get(name string) (iam.PermissionSet, bool) {
	if ps, ok := c.own[name]; ok {
		return ps, true
	}
	ps, ok := c.builtin[name]
	return ps, ok
}

func (c catalogue) all(yield func(iam.PermissionSet) bool) {
	for _, m := range []map[string]iam.PermissionSet{c.builtin, c.own} {
		for _, ps := range m {
			if !yield(ps) {
				return
			}
		}
	}
}

// errorf is the reference's error: one sentinel, and what it is about.
func errorf(sentinel error, format string, args ...any) error {
	return fmt.Errorf("reference: %s: %w", fmt.Sprintf(format, args...), sentinel)
}

// segment reports whether seg is a concrete permission segment: 1 to 64
// lower-case ASCII letters, digits, '-', '_' or '.' (the charset that
// permission triples are documented to use; "*" is for patterns only).
func segment(seg string) bool {
	if len(seg) == 0 || len(seg) > 64 {
		return false
	}
	for _, c := range []byte(seg) {
		ok := c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.'
		if !ok {
			return false
		}
	}
	return true
}

// match reports whether a permission pattern matches a concrete triple,
// segment by segment; "*" matches one whole segment.
func match(pattern, permission string) bool {
	for i := 0; i < 3; i++ {
		p, prest, pok := strings.Cut(pattern, ":")
		q, qrest, qok := strings.Cut(permission, ":")
		if pok != qok || pok != (i < 2) || p != "*" && p != q {
			return false
		}
		pattern, permission = prest, qrest
	}
	return true
}

// malformed reports a malformed request (the first step of a check).
func malformed(req iam.Request) error {
	switch req.Principal.Type {
	case iam.PrincipalUser, iam.PrincipalApplication, iam.PrincipalGroup, iam.PrincipalAPIKey:
	default:
		return errorf(iam.ErrInvalid, "principal %v is not a user, application, group or API key", req.Principal)
	}
	if req.Principal.ID == "" {
		return errorf(iam.ErrInvalid, "principal without an ID")
	}
	if (req.ProjectID == "") == (req.OrganizationID == "") {
		return errorf(iam.ErrInvalid, "a request names exactly one of a project and an organization")
	}
	perm := req.Permission
	if strings.Contains(perm, ":") {
		segs := strings.Split(perm, ":")
		if len(segs) != 3 || !segment(segs[0]) || !segment(segs[1]) || !segment(segs[2]) {
			return errorf(iam.ErrInvalid, "malformed permission %q", perm)
		}
		return nil
	}
	if perm == "" || strings.Contains(perm, "*") {
		return errorf(iam.ErrInvalid, "malformed permission set name %q", perm)
	}
	return nil
}

// notFoundOr turns a store's ErrNotFound into the reference's own, and
// passes any other error through.
func notFoundOr(err error, what string) error {
	if errors.Is(err, iam.ErrNotFound) {
		return errorf(iam.ErrNotFound, "%s", what)
	}
	return fmt.Errorf("reference: reading %s: %w", what, err)
}

// Check answers req: allowed, or an error whose sentinel is what the
// Evaluator must return too.
func (r *Evaluator) Check(ctx context.Context, req iam.Request) (bool, error) {
	return r.check(ctx, req, nil)
}

// RuleRef names one rule of a policy that grants a request, with the
// principal the policy names (the caller's bearer or one of its groups).
type RuleRef struct {
	Holder   iam.Principal
	PolicyID string
	Rule     int
}

// Grants answers req as Check does and lists every rule that grants it
// (none for the owner, who needs none, and for a denial before the
// grants): what an explanation of the request must list.
func (r *Evaluator) Grants(ctx context.Context, req iam.Request) (bool, []RuleRef, error) {
	var refs []RuleRef
	ok, err := r.check(ctx, req, &refs)
	return ok, refs, err
}

// check is Check; with every set, it reads every rule and appends the
// rules that grant to *every.
func (r *Evaluator) check(ctx context.Context, req iam.Request, every *[]RuleRef) (bool, error) {
	// 1. A malformed request.
	if err := malformed(req); err != nil {
		return false, err
	}

	// 2. The target: an unknown project or organization.
	var org string
	if req.ProjectID != "" {
		p, err := r.Store.GetProject(ctx, req.ProjectID)
		if err != nil {
			return false, notFoundOr(err, "project "+req.ProjectID)
		}
		org = p.OrganizationID
	} else {
		o, err := r.Store.GetOrganization(ctx, req.OrganizationID)
		if err != nil {
			return false, notFoundOr(err, "organization "+req.OrganizationID)
		}
		org = o.ID
	}
	atProject := req.ProjectID != ""

	// 3. The permission, in the target organization's catalogue: the
	// built-in sets and the organization's own.
	builtin, err := r.builtinSets(ctx)
	if err != nil {
		return false, err
	}
	lists, err := r.lists(ctx, org)
	if err != nil {
		return false, err
	}
	sets := catalogue{builtin: builtin, own: map[string]iam.PermissionSet{}}
	for _, ps := range lists.sets {
		sets.own[ps.Name] = ps
	}
	triple := strings.Contains(req.Permission, ":")
	var level iam.ScopeType // the permission's level
	if triple {
		// Known permissions: a service that some set declares permissions
		// of has those permissions only; any other service's triple is
		// known when a pattern matches it.
		service, _, _ := strings.Cut(req.Permission, ":")
		builtinDeclared := r.builtinDeclared[service]
		declaredService, declared := len(builtinDeclared) > 0, builtinDeclared[req.Permission]
		for _, ps := range sets.own {
			for _, d := range ps.Declared {
				if s, _, _ := strings.Cut(d, ":"); s == service {
					declaredService = true
					declared = declared || d == req.Permission
				}
			}
		}
		// The level: the scope type of the sets whose patterns match it.
		levels := map[iam.ScopeType]bool{}
		for ps := range sets.all {
			for _, pat := range ps.Permissions {
				if match(pat, req.Permission) {
					levels[ps.ScopeType] = true
				}
			}
		}
		switch {
		case declaredService && !declared:
			return false, errorf(iam.ErrUnknownPermission, "service %s of %s does not declare %s", service, org, req.Permission)
		case !declaredService && len(levels) == 0:
			return false, errorf(iam.ErrUnknownPermission, "no set of %s has a pattern matching %s", org, req.Permission)
		case len(levels) != 1:
			// The store keeps the levels apart: a permission with no level
			// or two is a broken catalogue, which no answer may hide.
			return false, fmt.Errorf("reference: %s has %d levels in the catalogue of %s", req.Permission, len(levels), org)
		}
		for st := range levels {
			level = st
		}
		// 4. An organization-level permission in a project.
		if atProject && level == iam.ScopeOrganization {
			return false, errorf(iam.ErrScopeMismatch, "%s is organization-level", req.Permission)
		}
	} else {
		ps, ok := sets.get(req.Permission)
		if !ok {
			return false, errorf(iam.ErrUnknownPermission, "%s has no set %s", org, req.Permission)
		}
		// A set name's level is its scope type.
		level = ps.ScopeType
		if atProject && level == iam.ScopeOrganization {
			return false, errorf(iam.ErrScopeMismatch, "%s is organization-scoped", req.Permission)
		}
	}

	// 5. The caller: an unknown principal, or an ID of the wrong kind. An
	// API key resolves to its bearer.
	caller := req.Principal
	expired := false
	if caller.Type == iam.PrincipalAPIKey {
		k, err := r.Store.GetAPIKey(ctx, caller.ID)
		if err != nil {
			return false, notFoundOr(err, "API key "+caller.ID)
		}
		expired = !k.ExpiresAt.IsZero() && !r.Now().Before(k.ExpiresAt)
		caller = k.Bearer
	}
	var callerOrg string
	locked, owner, managed := false, false, false
	switch caller.Type {
	case iam.PrincipalUser:
		u, err := r.Store.GetUser(ctx, caller.ID)
		if err != nil {
			return false, notFoundOr(err, "user "+caller.ID)
		}
		callerOrg, locked, owner = u.OrganizationID, u.Locked, u.Type == iam.UserOwner
	case iam.PrincipalApplication:
		a, err := r.Store.GetApplication(ctx, caller.ID)
		if err != nil {
			return false, notFoundOr(err, "application "+caller.ID)
		}
		callerOrg, managed = a.OrganizationID, a.Managed
	case iam.PrincipalGroup:
		g, err := r.Store.GetGroup(ctx, caller.ID)
		if err != nil {
			return false, notFoundOr(err, "group "+caller.ID)
		}
		callerOrg = g.OrganizationID
	default:
		return false, errorf(iam.ErrNotFound, "bearer %v", caller)
	}

	// 6. Denials and the owner, in this order.
	switch {
	case callerOrg != org:
		return false, nil // nothing crosses the organization boundary
	case expired:
		return false, nil
	case locked:
		return false, nil
	case owner:
		return true, nil
	}

	// 7. The grants: the union of every rule of every policy whose
	// principal is the caller, or (unless the caller is a group, answered
	// from its own policies) a group the caller belongs to.
	holders := []iam.Principal{caller}
	if caller.Type != iam.PrincipalGroup {
		for _, g := range lists.groups {
			var member bool
			if caller.Type == iam.PrincipalUser {
				member = g.AllUsers || slices.Contains(g.UserIDs, caller.ID)
			} else {
				member = g.AllApplications && !managed || slices.Contains(g.ApplicationIDs, caller.ID)
			}
			if member {
				holders = append(holders, iam.GroupPrincipal(g.ID))
			}
		}
	}
	granted := false
	for _, pol := range lists.policies {
		if pol.OrganizationID != org || pol.Principal.IsZero() || !slices.Contains(holders, pol.Principal) {
			continue
		}
		for i, rule := range pol.Rules {
			if rule.Condition != "" && (r.Cond == nil || !r.Cond(rule.Condition, req)) {
				continue
			}
			for _, name := range rule.PermissionSets {
				ps, ok := sets.get(name)
				if !ok || !covers(rule.Scope, ps.ScopeType, level, org, req) {
					continue
				}
				if setGrants(sets, name, req.Permission, triple, level) {
					if every == nil {
						return true, nil
					}
					granted = true
					*every = append(*every, RuleRef{Holder: pol.Principal, PolicyID: pol.ID, Rule: i})
					break
				}
			}
		}
	}
	return granted, nil
}

// covers reports whether a rule's scope grants a set of scope type st
// at the request's target, for a permission of the given level.
func covers(scope iam.Scope, st, level iam.ScopeType, org string, req iam.Request) bool {
	onOrg := scope.OrganizationID != ""
	if onOrg && scope.OrganizationID != org {
		return false
	}
	if req.ProjectID != "" {
		// In a project: project-scoped sets, from a rule on the whole
		// organization (all current and future projects) or on a list of
		// projects naming this one.
		return st == iam.ScopeProjects && (onOrg || slices.Contains(scope.ProjectIDs, req.ProjectID))
	}
	// At the organization: organization-scoped sets for an
	// organization-level permission, and project-scoped sets across all
	// projects for a project-level one (an organization-wide request), both
	// from rules on the organization only, never from rules listing
	// projects. A grant never answers for the other level.
	return onOrg && st == level
}

// setGrants reports whether granting set name grants the permission: a
// set name when it is name or a set name includes (transitively); a
// triple when a pattern of one of these sets matches it, only sets of the
// triple's level counting.
func setGrants(sets catalogue, name, permission string, triple bool, level iam.ScopeType) bool {
	closure := []string{name}
	seen := map[string]bool{name: true}
	for i := 0; i < len(closure); i++ {
		ps, _ := sets.get(closure[i])
		for _, inc := range ps.Includes {
			if !seen[inc] {
				seen[inc] = true
				closure = append(closure, inc)
			}
		}
	}
	if !triple {
		return seen[permission]
	}
	for _, n := range closure {
		ps, ok := sets.get(n)
		if !ok || ps.ScopeType != level {
			continue
		}
		for _, pat := range ps.Permissions {
			if match(pat, permission) {
				return true
			}
		}
	}
	return false
}

// ErrClass names the sentinels err matches, for comparing errors by class
// ("" for nil): the Evaluator's and the reference's errors agree when
// their classes do.
func ErrClass(err error) string {
	if err == nil {
		return ""
	}
	var out []string
	for _, s := range []struct {
		name string
		err  error
	}{
		{"invalid", iam.ErrInvalid},
		{"not-found", iam.ErrNotFound},
		{"unknown-permission", iam.ErrUnknownPermission},
		{"scope-mismatch", iam.ErrScopeMismatch},
		{"conflict", iam.ErrConflict},
		{"forbidden", iam.ErrForbidden},
		{"expired", iam.ErrExpired},
	} {
		if errors.Is(err, s.err) {
			out = append(out, s.name)
		}
	}
	if len(out) == 0 {
		return "other"
	}
	return strings.Join(out, "+")
}
