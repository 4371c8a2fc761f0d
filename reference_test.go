package iam_test

// The reference evaluator: the simplest code that could be right, written
// straight from DESIGN sections 2 and 5b and sharing nothing with the
// Evaluator's index. For each request it reads what it needs through the
// Store's public Get and List methods and scans every group, policy and
// rule of the organization. It is slow on purpose; the differential tests
// compare the Evaluator with it.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iamkit/iam"
)

// refEvaluator answers requests from a Store, naively.
type refEvaluator struct {
	store iam.Store
	now   func() time.Time // the clock for API key expiry

	// cond decides a rule's condition for a request. Nil: a rule with a
	// non-empty condition grants nothing, which is right for stores without
	// a condition engine (they reject such rules at write time).
	// TODO(conditions): give the reference a CEL evaluation of its own
	// (DESIGN section 2, rule 7) rather than a hook.
	cond func(expr string, req iam.Request) bool

	// The store's built-in catalogue, read once: it cannot be written
	// (PermissionSetStore), and copying its 202 sets on every request
	// would make the reference too slow to compare many requests.
	builtinOnce     sync.Once
	builtin         map[string]iam.PermissionSet
	builtinDeclared map[string]map[string]bool // service → the permissions the built-in sets declare
	builtinErr      error

	// memo keeps an organization's lists (own sets, groups, policies) for
	// as long as the store's revision does not move. Off, every request
	// reads them anew; the random-write tests leave it off.
	memo   bool
	memoMu sync.Mutex
	memoed map[string]refOrgLists
}

// refOrgLists is what the reference lists of one organization.
type refOrgLists struct {
	rev      uint64
	sets     []iam.PermissionSet
	groups   []iam.Group
	policies []iam.Policy
}

// lists reads an organization's own sets, groups and policies.
func (r *refEvaluator) lists(ctx context.Context, org string) (refOrgLists, error) {
	var rev uint64
	if r.memo {
		var err error
		if rev, err = r.store.Revision(ctx); err != nil {
			return refOrgLists{}, err
		}
		r.memoMu.Lock()
		l, ok := r.memoed[org]
		r.memoMu.Unlock()
		if ok && l.rev == rev {
			return l, nil
		}
	}
	var l refOrgLists
	var err error
	l.rev = rev
	if l.sets, err = r.store.ListPermissionSets(ctx, org); err != nil {
		return l, err
	}
	if l.groups, err = r.store.ListGroups(ctx, org); err != nil {
		return l, err
	}
	if l.policies, err = r.store.ListPolicies(ctx, org); err != nil {
		return l, err
	}
	if r.memo {
		r.memoMu.Lock()
		if r.memoed == nil {
			r.memoed = map[string]refOrgLists{}
		}
		r.memoed[org] = l
		r.memoMu.Unlock()
	}
	return l, nil
}

func (r *refEvaluator) builtinSets(ctx context.Context) (map[string]iam.PermissionSet, error) {
	r.builtinOnce.Do(func() {
		sets, err := r.store.ListPermissionSets(ctx, "")
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

// refCatalogue is the catalogue of one organization: its own sets beside
// the built-in ones (their names never collide).
type refCatalogue struct {
	builtin, own map[string]iam.PermissionSet
}

func (c refCatalogue) get(name string) (iam.PermissionSet, bool) {
	if ps, ok := c.own[name]; ok {
		return ps, true
	}
	ps, ok := c.builtin[name]
	return ps, ok
}

func (c refCatalogue) all(yield func(iam.PermissionSet) bool) {
	for _, m := range []map[string]iam.PermissionSet{c.builtin, c.own} {
		for _, ps := range m {
			if !yield(ps) {
				return
			}
		}
	}
}

// refError is the reference's error: one sentinel, and what it is about.
func refError(sentinel error, format string, args ...any) error {
	return fmt.Errorf("reference: %s: %w", fmt.Sprintf(format, args...), sentinel)
}

// refSegment reports whether seg is a concrete permission segment: 1 to 64
// lower-case ASCII letters, digits, '-', '_' or '.' (the charset that
// permission triples are documented to use; "*" is for patterns only).
func refSegment(seg string) bool {
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

// refMatch reports whether a permission pattern matches a concrete triple,
// segment by segment; "*" matches one whole segment.
func refMatch(pattern, permission string) bool {
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

// refMalformed reports a malformed request (DESIGN 5b, first check).
func refMalformed(req iam.Request) error {
	switch req.Principal.Type {
	case iam.PrincipalUser, iam.PrincipalApplication, iam.PrincipalGroup, iam.PrincipalAPIKey:
	default:
		return refError(iam.ErrInvalid, "principal %v is not a user, application, group or API key", req.Principal)
	}
	if req.Principal.ID == "" {
		return refError(iam.ErrInvalid, "principal without an ID")
	}
	if (req.ProjectID == "") == (req.OrganizationID == "") {
		return refError(iam.ErrInvalid, "a request names exactly one of a project and an organization")
	}
	perm := req.Permission
	if strings.Contains(perm, ":") {
		segs := strings.Split(perm, ":")
		if len(segs) != 3 || !refSegment(segs[0]) || !refSegment(segs[1]) || !refSegment(segs[2]) {
			return refError(iam.ErrInvalid, "malformed permission %q", perm)
		}
		return nil
	}
	if perm == "" || strings.Contains(perm, "*") {
		return refError(iam.ErrInvalid, "malformed permission set name %q", perm)
	}
	return nil
}

// notFoundOr turns a store's ErrNotFound into the reference's own, and
// passes any other error through.
func notFoundOr(err error, what string) error {
	if errors.Is(err, iam.ErrNotFound) {
		return refError(iam.ErrNotFound, "%s", what)
	}
	return fmt.Errorf("reference: reading %s: %w", what, err)
}

// Check answers req: allowed, or an error whose sentinel is what the
// Evaluator must return too.
func (r *refEvaluator) Check(ctx context.Context, req iam.Request) (bool, error) {
	// 1. A malformed request.
	if err := refMalformed(req); err != nil {
		return false, err
	}

	// 2. The target: an unknown project or organization.
	var org string
	if req.ProjectID != "" {
		p, err := r.store.GetProject(ctx, req.ProjectID)
		if err != nil {
			return false, notFoundOr(err, "project "+req.ProjectID)
		}
		org = p.OrganizationID
	} else {
		o, err := r.store.GetOrganization(ctx, req.OrganizationID)
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
	sets := refCatalogue{builtin: builtin, own: map[string]iam.PermissionSet{}}
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
				if refMatch(pat, req.Permission) {
					levels[ps.ScopeType] = true
				}
			}
		}
		switch {
		case declaredService && !declared:
			return false, refError(iam.ErrUnknownPermission, "service %s of %s does not declare %s", service, org, req.Permission)
		case !declaredService && len(levels) == 0:
			return false, refError(iam.ErrUnknownPermission, "no set of %s has a pattern matching %s", org, req.Permission)
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
			return false, refError(iam.ErrScopeMismatch, "%s is organization-level", req.Permission)
		}
	} else {
		ps, ok := sets.get(req.Permission)
		if !ok {
			return false, refError(iam.ErrUnknownPermission, "%s has no set %s", org, req.Permission)
		}
		// A set name's level is its scope type.
		level = ps.ScopeType
		if atProject && level == iam.ScopeOrganization {
			return false, refError(iam.ErrScopeMismatch, "%s is organization-scoped", req.Permission)
		}
	}

	// 5. The caller: an unknown principal, or an ID of the wrong kind. An
	// API key resolves to its bearer.
	caller := req.Principal
	expired := false
	if caller.Type == iam.PrincipalAPIKey {
		k, err := r.store.GetAPIKey(ctx, caller.ID)
		if err != nil {
			return false, notFoundOr(err, "API key "+caller.ID)
		}
		expired = !k.ExpiresAt.IsZero() && !r.now().Before(k.ExpiresAt)
		caller = k.Bearer
	}
	var callerOrg string
	locked, owner, managed := false, false, false
	switch caller.Type {
	case iam.PrincipalUser:
		u, err := r.store.GetUser(ctx, caller.ID)
		if err != nil {
			return false, notFoundOr(err, "user "+caller.ID)
		}
		callerOrg, locked, owner = u.OrganizationID, u.Locked, u.Type == iam.UserOwner
	case iam.PrincipalApplication:
		a, err := r.store.GetApplication(ctx, caller.ID)
		if err != nil {
			return false, notFoundOr(err, "application "+caller.ID)
		}
		callerOrg, managed = a.OrganizationID, a.Managed
	case iam.PrincipalGroup:
		g, err := r.store.GetGroup(ctx, caller.ID)
		if err != nil {
			return false, notFoundOr(err, "group "+caller.ID)
		}
		callerOrg = g.OrganizationID
	default:
		return false, refError(iam.ErrNotFound, "bearer %v", caller)
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
	for _, pol := range lists.policies {
		if pol.OrganizationID != org || pol.Principal.IsZero() || !slices.Contains(holders, pol.Principal) {
			continue
		}
		for _, rule := range pol.Rules {
			if rule.Condition != "" && (r.cond == nil || !r.cond(rule.Condition, req)) {
				continue
			}
			for _, name := range rule.PermissionSets {
				ps, ok := sets.get(name)
				if !ok || !refCovers(rule.Scope, ps.ScopeType, level, org, req) {
					continue
				}
				if refSetGrants(sets, name, req.Permission, triple, level) {
					return true, nil
				}
			}
		}
	}
	return false, nil
}

// refCovers reports whether a rule's scope grants a set of scope type st
// at the request's target, for a permission of the given level.
func refCovers(scope iam.Scope, st, level iam.ScopeType, org string, req iam.Request) bool {
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

// refSetGrants reports whether granting set name grants the permission: a
// set name when it is name or a set name includes (transitively); a
// triple when a pattern of one of these sets matches it, only sets of the
// triple's level counting.
func refSetGrants(sets refCatalogue, name, permission string, triple bool, level iam.ScopeType) bool {
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
			if refMatch(pat, permission) {
				return true
			}
		}
	}
	return false
}

// errClass names the sentinels err matches, for comparing errors by class
// ("" for nil).
func errClass(err error) string {
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

func TestReferenceMatch(t *testing.T) {
	for _, c := range []struct {
		pattern, permission string
		want                bool
	}{
		{"instance:server:create", "instance:server:create", true},
		{"instance:*:*", "instance:server:create", true},
		{"instance:*:read", "instance:volume:read", true},
		{"*:*:read", "iam:user:read", true},
		{"instance:*:read", "instance:volume:create", false},
		{"instance:*", "instance:server:create", false},
		{"instance:server:create", "instance:server", false},
		{"instance:server:create:now", "instance:server:create", false},
		{"instance:serv*:create", "instance:server:create", false}, // a star is a whole segment
		{"*", "instance:server:create", false},                     // never across ':'
	} {
		if got := refMatch(c.pattern, c.permission); got != c.want {
			t.Errorf("refMatch(%q, %q) = %v, want %v", c.pattern, c.permission, got, c.want)
		}
	}
}

// TestReferenceKnownAnswers checks the reference itself against answers
// read off DESIGN sections 2 and 5b, so that it cannot drift together with
// the Evaluator.
func TestReferenceKnownAnswers(t *testing.T) {
	ctx := context.Background()
	store := iam.NewMemoryStore()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	err := store.Atomic(ctx, func(tx iam.Tx) error {
		steps := []func() error{
			func() error {
				_, err := tx.CreateOrganization(ctx, iam.Organization{ID: "acme", Name: "Acme"})
				return err
			},
			func() error {
				_, err := tx.CreateOrganization(ctx, iam.Organization{ID: "other", Name: "Other"})
				return err
			},
			func() error {
				_, err := tx.CreateProject(ctx, iam.Project{ID: "A", OrganizationID: "acme", Name: "A"})
				return err
			},
			func() error {
				_, err := tx.CreateProject(ctx, iam.Project{ID: "F", OrganizationID: "acme", Name: "F"})
				return err
			},
			func() error {
				_, err := tx.CreateUser(ctx, iam.User{ID: "boss", OrganizationID: "acme", Email: "boss@acme.test", Type: iam.UserOwner})
				return err
			},
			func() error {
				_, err := tx.CreateUser(ctx, iam.User{ID: "ana", OrganizationID: "acme", Email: "ana@acme.test"})
				return err
			},
			func() error {
				_, err := tx.CreateUser(ctx, iam.User{ID: "lou", OrganizationID: "acme", Email: "lou@acme.test", Locked: true})
				return err
			},
			func() error {
				_, err := tx.CreateApplication(ctx, iam.Application{ID: "prod-c", OrganizationID: "acme", Name: "production-c"})
				return err
			},
			func() error {
				_, err := tx.CreateApplication(ctx, iam.Application{ID: "managed", OrganizationID: "acme", Name: "managed", Managed: true})
				return err
			},
			func() error {
				_, err := tx.CreateGroup(ctx, iam.Group{ID: "billing", OrganizationID: "acme", Name: "Billing", UserIDs: []string{"ana"}})
				return err
			},
			func() error {
				_, err := tx.CreateGroup(ctx, iam.Group{ID: "apps", OrganizationID: "acme", Name: "apps", AllApplications: true})
				return err
			},
			func() error {
				_, err := tx.CreatePolicy(ctx, iam.Policy{ID: "pol-prod-c", OrganizationID: "acme", Principal: iam.ApplicationPrincipal("prod-c"), Rules: []iam.Rule{
					{Scope: iam.ProjectsScope("A"), PermissionSets: []string{"InstancesFullAccess"}},
				}})
				return err
			},
			func() error {
				_, err := tx.CreatePolicy(ctx, iam.Policy{ID: "pol-billing", OrganizationID: "acme", Principal: iam.GroupPrincipal("billing"), Rules: []iam.Rule{
					{Scope: iam.OrganizationScope("acme"), PermissionSets: []string{"BillingReadOnly"}},
					{Scope: iam.OrganizationScope("acme"), PermissionSets: []string{"ObjectStorageReadOnly"}},
				}})
				return err
			},
			func() error {
				_, err := tx.CreatePolicy(ctx, iam.Policy{ID: "pol-apps", OrganizationID: "acme", Principal: iam.GroupPrincipal("apps"), Rules: []iam.Rule{
					{Scope: iam.ProjectsScope("F"), PermissionSets: []string{"ContainersReadOnly"}},
				}})
				return err
			},
			func() error {
				_, err := tx.CreateAPIKey(ctx, iam.APIKey{AccessKey: "old-key", OrganizationID: "acme", Bearer: iam.ApplicationPrincipal("prod-c"), Secret: "s", ExpiresAt: now})
				return err
			},
			func() error {
				_, err := tx.CreateAPIKey(ctx, iam.APIKey{AccessKey: "key", OrganizationID: "acme", Bearer: iam.ApplicationPrincipal("prod-c"), Secret: "s"})
				return err
			},
		}
		for _, step := range steps {
			if err := step(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ref := &refEvaluator{store: store, now: func() time.Time { return now }}
	ev, err := iam.NewEvaluator(ctx, store, iam.WithClock(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	defer ev.Close()
	app, user, key := iam.ApplicationPrincipal, iam.UserPrincipal, iam.APIKeyPrincipal
	inProject := func(p iam.Principal, project, perm string) iam.Request {
		return iam.Request{Principal: p, ProjectID: project, Permission: perm}
	}
	atOrg := func(p iam.Principal, org, perm string) iam.Request {
		return iam.Request{Principal: p, OrganizationID: org, Permission: perm}
	}
	for _, c := range []struct {
		name string
		req  iam.Request
		want bool
		err  error
	}{
		{"a set granted in its project", inProject(app("prod-c"), "A", "InstancesFullAccess"), true, nil},
		{"a set it includes", inProject(app("prod-c"), "A", "InstancesServerCreate"), true, nil},
		{"a triple its patterns match", inProject(app("prod-c"), "A", "instance:server:create"), true, nil},
		{"not in another project", inProject(app("prod-c"), "F", "InstancesFullAccess"), false, nil},
		{"not organization-wide through a rule on projects", atOrg(app("prod-c"), "acme", "InstancesFullAccess"), false, nil},
		{"a valid key inherits its bearer's", inProject(key("key"), "A", "InstancesFullAccess"), true, nil},
		{"an expired key (now >= ExpiresAt)", inProject(key("old-key"), "A", "InstancesFullAccess"), false, nil},
		{"the owner, anything known", inProject(user("boss"), "F", "instance:server:delete"), true, nil},
		{"the owner, organization-wide", atOrg(user("boss"), "acme", "InstancesFullAccess"), true, nil},
		{"the owner, nothing elsewhere", atOrg(user("boss"), "other", "IAMManager"), false, nil},
		{"a group's organization-scoped set", atOrg(user("ana"), "acme", "BillingReadOnly"), true, nil},
		{"a group's all-projects set, in a project created before", inProject(user("ana"), "F", "ObjectStorageReadOnly"), true, nil},
		{"a group's all-projects set, organization-wide", atOrg(user("ana"), "acme", "ObjectStorageReadOnly"), true, nil},
		{"a group caller answers from its own policies", atOrg(iam.GroupPrincipal("billing"), "acme", "BillingReadOnly"), true, nil},
		{"all applications", inProject(app("prod-c"), "F", "ContainersReadOnly"), true, nil},
		{"all applications leaves managed ones out", inProject(app("managed"), "F", "ContainersReadOnly"), false, nil},
		{"a locked user", inProject(user("lou"), "A", "InstancesReadOnly"), false, nil},
		{"default deny", inProject(user("ana"), "A", "InstancesReadOnly"), false, nil},
		{"an organization-scoped set in a project", inProject(user("ana"), "A", "BillingReadOnly"), false, iam.ErrScopeMismatch},
		{"an organization-level triple in a project", inProject(user("boss"), "A", "iam:user:read"), false, iam.ErrScopeMismatch},
		{"an unknown set", inProject(user("ana"), "A", "InstanceFullAccess"), false, iam.ErrUnknownPermission},
		{"an unknown triple", inProject(user("ana"), "A", "nosuch:thing:read"), false, iam.ErrUnknownPermission},
		{"an unknown project before an unknown permission", inProject(user("ana"), "Z", "nosuch:thing:read"), false, iam.ErrNotFound},
		{"an unknown principal", inProject(user("nobody"), "A", "InstancesReadOnly"), false, iam.ErrNotFound},
		{"an ID of the wrong kind", inProject(app("ana"), "A", "InstancesReadOnly"), false, iam.ErrNotFound},
		{"an unknown permission before an unknown principal", inProject(user("nobody"), "A", "NoSuchSet"), false, iam.ErrUnknownPermission},
		{"a star in a request", inProject(user("ana"), "A", "instance:*:read"), false, iam.ErrInvalid},
		{"both targets", iam.Request{Principal: user("ana"), ProjectID: "A", OrganizationID: "acme", Permission: "InstancesReadOnly"}, false, iam.ErrInvalid},
		{"the zero principal", inProject(iam.Principal{}, "A", "InstancesReadOnly"), false, iam.ErrInvalid},
		{"a malformed request before an unknown project", inProject(iam.Principal{}, "Z", "InstancesReadOnly"), false, iam.ErrInvalid},
	} {
		got, err := ref.Check(ctx, c.req)
		if got != c.want || (c.err == nil) != (err == nil) || c.err != nil && errClass(err) != errClass(c.err) {
			t.Errorf("%s: reference answers %v, %v; want %v, %v", c.name, got, err, c.want, c.err)
		}
		if dec, err := ev.Check(ctx, c.req); dec.Allowed != c.want || errClass(err) != errClass(c.err) {
			t.Errorf("%s: the Evaluator answers %v, %v; want %v, %v", c.name, dec.Allowed, err, c.want, c.err)
		}
	}
}
