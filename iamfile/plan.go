package iamfile

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/iamkit/iam"
)

// Plan is what changes between two states of one organization: the
// entities created, updated and deleted, and, principal by principal, the
// grants gained and lost. It is the review a pull request that edits IAM
// files needs, before the files are applied.
type Plan struct {
	OrganizationID string
	// Entities lists the entities that differ, by kind (organization,
	// permission sets, projects, users, applications, groups, API keys,
	// policies), then ID.
	Entities []EntityChange
	// Principals lists the users, applications and groups whose grants
	// differ, users first, then applications, then groups, each by ID.
	Principals []PrincipalChange
}

// PrincipalChange is what one principal gains and loses. A user's or an
// application's grants are all it holds, through its own policies and
// its groups' (the special groups included); a group's are its own
// policies'.
type PrincipalChange struct {
	Principal    iam.Principal
	Gained, Lost []Grant
}

// Grant is one permission set held at one scope, possibly only under a
// condition, or the ownership of the organization (which holds every
// permission). A set's includes are held with it, so a plan names the
// outermost set of what changed: a principal that loses InstancesFullAccess
// but keeps InstancesReadOnly (from another rule) loses InstancesFullAccess
// and the sets it includes that it does not hold otherwise, and the plan
// says "InstancesFullAccess".
type Grant struct {
	Owner         bool
	PermissionSet string
	Scope         iam.GrantScope
	// Condition is the condition the grant depends on; empty for a grant
	// that holds whatever the request's context.
	Condition string
}

// String renders "InstancesFullAccess in project A", "BillingReadOnly in
// the organization when request.ip == '10.0.0.1'" or "owner of the
// organization".
func (g Grant) String() string {
	if g.Owner {
		return "owner of the organization (every permission)"
	}
	s := g.PermissionSet + " in " + g.Scope.String()
	if g.Condition != "" {
		s += " when " + g.Condition
	}
	return s
}

// Empty reports whether nothing changes.
func (p *Plan) Empty() bool { return len(p.Entities) == 0 && len(p.Principals) == 0 }

// String renders the plan for a terminal or a pull request comment: the
// entities, one per line ("+" created, "~" updated, "-" deleted), then
// each principal's grants gained ("+") and lost ("-").
func (p *Plan) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "organization %s: ", p.OrganizationID)
	if p.Empty() {
		b.WriteString("no changes\n")
		return b.String()
	}
	fmt.Fprintf(&b, "%d %s changed, %d %s\n", len(p.Entities), plural(len(p.Entities), "entity", "entities"),
		len(p.Principals), plural(len(p.Principals), "principal gains or loses grants", "principals gain or lose grants"))
	if len(p.Entities) > 0 {
		b.WriteString("\nentities:\n")
		for _, c := range p.Entities {
			fmt.Fprintf(&b, "  %s %s %s", opSign(c.Op), c.Kind, c.ID)
			if len(c.Fields) > 0 {
				fmt.Fprintf(&b, " (%s)", strings.Join(c.Fields, ", "))
			}
			b.WriteByte('\n')
		}
	}
	if len(p.Principals) > 0 {
		b.WriteString("\ngrants:\n")
		for _, pc := range p.Principals {
			fmt.Fprintf(&b, "  %s\n", pc.Principal)
			for _, g := range pc.Gained {
				fmt.Fprintf(&b, "    + %s\n", g)
			}
			for _, g := range pc.Lost {
				fmt.Fprintf(&b, "    - %s\n", g)
			}
		}
	}
	return b.String()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func opSign(o Op) string {
	switch o {
	case OpCreate:
		return "+"
	case OpDelete:
		return "-"
	}
	return "~"
}

// Diff compares organization org in two stores: before, as it is, and
// after, as it would be (either may lack the organization: everything is
// then created, or deleted). It reads each store in one consistent read.
//
// The grants are computed from Evaluators over the two stores, not from
// the files' text: for every user, application and group, what the
// Evaluator's WhatCan answers at the organization and in each project,
// and, for the rules with a condition, what Explain says they grant when
// their condition holds. So a change that moves a member between groups,
// renames nothing but edits a permission set's includes, or turns a
// group into an all-users group shows as the grants it really moves.
func Diff(ctx context.Context, before, after iam.Store, org string) (*Plan, error) {
	old, err := snapshotOf(ctx, before, org)
	if err != nil {
		return nil, fmt.Errorf("iam: diff: the state before: %w", err)
	}
	defer old.close()
	next, err := snapshotOf(ctx, after, org)
	if err != nil {
		return nil, fmt.Errorf("iam: diff: the state after: %w", err)
	}
	defer next.close()

	p := &Plan{OrganizationID: org, Entities: entityChanges(old.st, next.st)}
	for _, pr := range principalsOf(old.st, next.st) {
		g0, err := old.grants(ctx, pr)
		if err != nil {
			return nil, fmt.Errorf("iam: diff: %w", err)
		}
		g1, err := next.grants(ctx, pr)
		if err != nil {
			return nil, fmt.Errorf("iam: diff: %w", err)
		}
		pc := PrincipalChange{Principal: pr}
		switch o0, o1 := g0[Grant{Owner: true}], g1[Grant{Owner: true}]; {
		case o0 && o1:
		case o1:
			pc.Gained = []Grant{{Owner: true}}
		case o0:
			pc.Lost = []Grant{{Owner: true}}
		default:
			pc.Gained = next.outermost(minus(g1, g0))
			pc.Lost = old.outermost(minus(g0, g1))
		}
		if len(pc.Gained)+len(pc.Lost) > 0 {
			p.Principals = append(p.Principals, pc)
		}
	}
	return p, nil
}

// side is one state of the organization, with what Diff asks it.
type side struct {
	org    string
	st     *state
	never  *iam.Evaluator // conditions never hold: the unconditional grants
	always *iam.Evaluator // conditions always hold: every grant
	scope  map[string]iam.ScopeType
	incl   map[string][]string // a set's direct includes
}

func snapshotOf(ctx context.Context, store iam.Store, org string) (*side, error) {
	s := &side{org: org, scope: map[string]iam.ScopeType{}, incl: map[string][]string{}}
	err := store.Atomic(ctx, func(tx iam.Tx) error {
		var err error
		if s.st, err = readState(ctx, tx, org); err != nil {
			return err
		}
		builtin, err := tx.ListPermissionSets(ctx, "")
		if err != nil {
			return err
		}
		for _, ps := range builtin {
			s.scope[ps.Name], s.incl[ps.Name] = ps.ScopeType, ps.Includes
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, ps := range s.st.sets {
		s.scope[ps.Name], s.incl[ps.Name] = ps.ScopeType, ps.Includes
	}
	if s.never, err = iam.NewEvaluator(ctx, store, iam.WithConditions(fixedEngine(false))); err != nil {
		return nil, err
	}
	if s.always, err = iam.NewEvaluator(ctx, store, iam.WithConditions(fixedEngine(true))); err != nil {
		s.never.Close()
		return nil, err
	}
	return s, nil
}

func (s *side) close() {
	s.never.Close()
	s.always.Close()
}

// fixedEngine compiles every condition to one that always, or never,
// holds, so that the reverse queries tell the grants that need a
// condition from those that do not.
type fixedEngine bool

func (e fixedEngine) Compile(string) (iam.Condition, error) { return e, nil }
func (e fixedEngine) Eval(*iam.Request) (bool, error)       { return bool(e), nil }

// grants lists everything principal p holds in the organization.
func (s *side) grants(ctx context.Context, p iam.Principal) (map[Grant]bool, error) {
	out := map[Grant]bool{}
	if !s.st.exists || !s.has(p) {
		return out, nil
	}
	if u, ok := s.st.users[p.ID]; ok && p.Type == iam.PrincipalUser && u.IsOwner() {
		out[Grant{Owner: true}] = true
		return out, nil
	}
	whatCan := func(ev *iam.Evaluator, project string) (map[string]bool, error) {
		req := iam.Request{Principal: p, ProjectID: project}
		if project == "" {
			req.OrganizationID = s.org
		}
		sets, err := ev.WhatCan(ctx, req)
		if err != nil {
			return nil, err
		}
		m := make(map[string]bool, len(sets))
		for _, name := range sets {
			m[name] = true
		}
		return m, nil
	}
	// At the organization: its own sets, and the project sets held in
	// all projects.
	unconditional, err := whatCan(s.never, "")
	if err != nil {
		return nil, err
	}
	every, err := whatCan(s.always, "")
	if err != nil {
		return nil, err
	}
	for name := range every {
		scope := iam.GrantScope{Organization: true}
		if s.scope[name] == iam.ScopeProjects {
			scope = iam.GrantScope{AllProjects: true}
		}
		if unconditional[name] {
			out[Grant{PermissionSet: name, Scope: scope}] = true
			continue
		}
		if err := s.conditional(ctx, out, p, "", name, scope); err != nil {
			return nil, err
		}
	}
	for _, project := range sortedKeys(s.st.projects) {
		unconditional, err := whatCan(s.never, project)
		if err != nil {
			return nil, err
		}
		every, err := whatCan(s.always, project)
		if err != nil {
			return nil, err
		}
		scope := iam.GrantScope{ProjectID: project}
		for name := range every {
			if unconditional[name] {
				if !out[Grant{PermissionSet: name, Scope: iam.GrantScope{AllProjects: true}}] {
					out[Grant{PermissionSet: name, Scope: scope}] = true
				}
				continue
			}
			// Held here under a condition: by a rule that lists this
			// project (a rule on the organization was counted above).
			if err := s.conditional(ctx, out, p, project, name, scope); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// conditional adds the grants of set name at a scope that hold under a
// condition, one per condition, as Explain finds them.
func (s *side) conditional(ctx context.Context, out map[Grant]bool, p iam.Principal, project, name string, scope iam.GrantScope) error {
	req := iam.Request{Principal: p, ProjectID: project, Permission: name}
	if project == "" {
		req.OrganizationID = s.org
	}
	x, err := s.always.Explain(ctx, req)
	if err != nil {
		return err
	}
	for _, g := range x.Grants {
		if g.Condition != "" && g.Scope == scope {
			out[Grant{PermissionSet: name, Scope: scope, Condition: g.Condition}] = true
		}
	}
	return nil
}

// has reports whether the state holds principal p.
func (s *side) has(p iam.Principal) bool {
	var ok bool
	switch p.Type {
	case iam.PrincipalUser:
		_, ok = s.st.users[p.ID]
	case iam.PrincipalApplication:
		_, ok = s.st.apps[p.ID]
	case iam.PrincipalGroup:
		_, ok = s.st.groups[p.ID]
	}
	return ok
}

// outermost sorts grants, leaving out those that another grant of the
// list, at the same scope and under the same condition, includes.
func (s *side) outermost(gs map[Grant]bool) []Grant {
	var out []Grant
	for g := range gs {
		covered := false
		for h := range gs {
			if h != g && h.Scope == g.Scope && h.Condition == g.Condition && s.includes(h.PermissionSet, g.PermissionSet) {
				covered = true
				break
			}
		}
		if !covered {
			out = append(out, g)
		}
	}
	slices.SortFunc(out, func(a, b Grant) int {
		return cmp.Or(cmp.Compare(scopeRank(a.Scope), scopeRank(b.Scope)), cmp.Compare(a.Scope.ProjectID, b.Scope.ProjectID),
			cmp.Compare(a.PermissionSet, b.PermissionSet), cmp.Compare(a.Condition, b.Condition))
	})
	return out
}

func scopeRank(s iam.GrantScope) int {
	switch {
	case s.Organization:
		return 0
	case s.AllProjects:
		return 1
	}
	return 2
}

// includes reports whether set a includes set b, transitively.
func (s *side) includes(a, b string) bool {
	seen := map[string]bool{a: true}
	stack := []string{a}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, inc := range s.incl[n] {
			if inc == b {
				return true
			}
			if !seen[inc] {
				seen[inc] = true
				stack = append(stack, inc)
			}
		}
	}
	return false
}

func minus(a, b map[Grant]bool) map[Grant]bool {
	out := map[Grant]bool{}
	for g := range a {
		if !b[g] {
			out[g] = true
		}
	}
	return out
}

// principalsOf lists the users, applications and groups of either state.
func principalsOf(a, b *state) []iam.Principal {
	var out []iam.Principal
	add := func(t iam.PrincipalType, ids ...[]string) {
		var all []string
		for _, l := range ids {
			all = append(all, l...)
		}
		slices.Sort(all)
		for _, id := range slices.Compact(all) {
			out = append(out, iam.Principal{Type: t, ID: id})
		}
	}
	add(iam.PrincipalUser, sortedKeys(a.users), sortedKeys(b.users))
	add(iam.PrincipalApplication, sortedKeys(a.apps), sortedKeys(b.apps))
	add(iam.PrincipalGroup, sortedKeys(a.groups), sortedKeys(b.groups))
	return out
}

// entityChanges lists the entities that differ between two states.
func entityChanges(a, b *state) []EntityChange {
	var out []EntityChange
	switch {
	case !a.exists && b.exists:
		out = append(out, EntityChange{Op: OpCreate, Kind: iam.KindOrganization, ID: b.org.ID})
	case a.exists && !b.exists:
		out = append(out, EntityChange{Op: OpDelete, Kind: iam.KindOrganization, ID: a.org.ID})
	case a.org.Name != b.org.Name:
		out = append(out, EntityChange{Op: OpUpdate, Kind: iam.KindOrganization, ID: a.org.ID, Fields: []string{"name"}})
	}
	out = appendChanges(out, iam.KindPermissionSet, a.sets, b.sets, setFields)
	out = appendChanges(out, iam.KindProject, a.projects, b.projects, projectFields)
	out = appendChanges(out, iam.KindUser, a.users, b.users, userFields)
	out = appendChanges(out, iam.KindApplication, a.apps, b.apps, appFields)
	out = appendChanges(out, iam.KindGroup, a.groups, b.groups, groupFields)
	out = appendChanges(out, iam.KindAPIKey, a.keys, b.keys, keyFields)
	out = appendChanges(out, iam.KindPolicy, a.policies, b.policies, policyFields)
	return out
}

func appendChanges[T any](out []EntityChange, k iam.Kind, a, b map[string]T, diff func(x, y T) []string) []EntityChange {
	ids := append(sortedKeys(a), sortedKeys(b)...)
	slices.Sort(ids)
	for _, id := range slices.Compact(ids) {
		x, inA := a[id]
		y, inB := b[id]
		switch {
		case !inA:
			out = append(out, EntityChange{Op: OpCreate, Kind: k, ID: id})
		case !inB:
			out = append(out, EntityChange{Op: OpDelete, Kind: k, ID: id})
		default:
			if fields := diff(x, y); len(fields) > 0 {
				out = append(out, EntityChange{Op: OpUpdate, Kind: k, ID: id, Fields: fields})
			}
		}
	}
	return out
}
