package bench

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/iamkit/iam"
	"github.com/iamkit/iam/internal/gen"
)

// model is a generated world read into the shapes every translation needs:
// each organization's catalogue with its closures, who belongs to which
// group, and whose policies say what. It is the bench module's own reading
// of the evaluation rules of docs/semantics.md, written apart from the
// root package's index: the translators build on it, and its answer
// (allowed) fills the bare baseline, so the agreement test checks it
// against the Evaluator too.
//
// A model is read-only once built, and so safe for concurrent use.
type model struct {
	w   *gen.World
	now time.Time // the clock of API key expiry (the world's, gen.DefaultNow)

	orgs       map[string]*orgModel
	orgList    []*orgModel // in the world's order
	projectOrg map[string]string
	principals map[string]*principal // users, applications and groups, by ID
	keys       map[string]*iam.APIKey
}

type orgModel struct {
	id       string
	projects []string // the default project (ID = the organization's) first

	sets     map[string]*setInfo // the Scaleway catalogue, then the organization's own sets
	setOrder []string            // names in catalogue order
	custom   map[string]bool     // the organization's own sets

	allUsers, allApps []string // IDs of the special groups

	// rules by holder: every rule of every policy naming that user,
	// application or group.
	rules map[string][]*iam.Rule
	// policies by holder, for reporting disagreements.
	policies map[string][]*iam.Policy
}

type setInfo struct {
	*iam.PermissionSet
	closure []string // the set and every set it includes, transitively; the set first
}

type principal struct {
	typ     iam.PrincipalType
	id, org string
	owner   bool
	locked  bool
	managed bool
	groups  []string // explicit groups (users and applications)
}

// newModel reads w. It fails on what the translations do not handle (a
// rule condition, a set that includes one of another scope type), so that
// a change of the generator cannot silently make them unfaithful.
func newModel(w *gen.World, now time.Time) (*model, error) {
	m := &model{
		w:          w,
		now:        now,
		orgs:       map[string]*orgModel{},
		projectOrg: map[string]string{},
		principals: map[string]*principal{},
		keys:       map[string]*iam.APIKey{},
	}
	for _, o := range w.Organizations {
		om := &orgModel{
			id:       o.ID,
			sets:     map[string]*setInfo{},
			custom:   map[string]bool{},
			rules:    map[string][]*iam.Rule{},
			policies: map[string][]*iam.Policy{},
		}
		m.orgs[o.ID] = om
		m.orgList = append(m.orgList, om)
	}
	org := func(kind, id, orgID string) (*orgModel, error) {
		if om := m.orgs[orgID]; om != nil {
			return om, nil
		}
		return nil, fmt.Errorf("bench: %s %q names unknown organization %q", kind, id, orgID)
	}
	for _, p := range w.Projects {
		om, err := org("project", p.ID, p.OrganizationID)
		if err != nil {
			return nil, err
		}
		if p.ID == om.id {
			om.projects = slices.Insert(om.projects, 0, p.ID)
		} else {
			om.projects = append(om.projects, p.ID)
		}
		m.projectOrg[p.ID] = om.id
	}
	for _, om := range m.orgList {
		cat := w.Catalogue(om.id)
		for i := range cat {
			ps := &cat[i]
			om.sets[ps.Name] = &setInfo{PermissionSet: ps}
			om.setOrder = append(om.setOrder, ps.Name)
			if ps.OrganizationID != "" {
				om.custom[ps.Name] = true
			}
		}
		for _, name := range om.setOrder {
			s := om.sets[name]
			s.closure = []string{name}
			for i := 0; i < len(s.closure); i++ {
				for _, inc := range om.sets[s.closure[i]].Includes {
					t := om.sets[inc]
					if t == nil {
						return nil, fmt.Errorf("bench: set %q of organization %q includes unknown set %q", s.closure[i], om.id, inc)
					}
					if t.ScopeType != s.ScopeType {
						// The generated catalogues never mix scope types
						// in a closure; the translations rely on it
						// (see the package doc).
						return nil, fmt.Errorf("bench: set %q (%s) includes %q (%s): mixed scope types are not translated", name, s.ScopeType, inc, t.ScopeType)
					}
					if !slices.Contains(s.closure, inc) {
						s.closure = append(s.closure, inc)
					}
				}
			}
		}
	}
	for i := range w.Users {
		u := &w.Users[i]
		if _, err := org("user", u.ID, u.OrganizationID); err != nil {
			return nil, err
		}
		m.principals[u.ID] = &principal{typ: iam.PrincipalUser, id: u.ID, org: u.OrganizationID, owner: u.IsOwner(), locked: u.Locked}
	}
	for i := range w.Applications {
		a := &w.Applications[i]
		if _, err := org("application", a.ID, a.OrganizationID); err != nil {
			return nil, err
		}
		m.principals[a.ID] = &principal{typ: iam.PrincipalApplication, id: a.ID, org: a.OrganizationID, managed: a.Managed}
	}
	for i := range w.Groups {
		g := &w.Groups[i]
		om, err := org("group", g.ID, g.OrganizationID)
		if err != nil {
			return nil, err
		}
		m.principals[g.ID] = &principal{typ: iam.PrincipalGroup, id: g.ID, org: g.OrganizationID}
		if g.AllUsers {
			om.allUsers = append(om.allUsers, g.ID)
		}
		if g.AllApplications {
			om.allApps = append(om.allApps, g.ID)
		}
		for _, id := range g.UserIDs {
			if p := m.principals[id]; p != nil && p.typ == iam.PrincipalUser {
				p.groups = append(p.groups, g.ID)
			}
		}
		for _, id := range g.ApplicationIDs {
			if p := m.principals[id]; p != nil && p.typ == iam.PrincipalApplication {
				p.groups = append(p.groups, g.ID)
			}
		}
	}
	for i := range w.APIKeys {
		k := &w.APIKeys[i]
		if _, err := org("API key", k.AccessKey, k.OrganizationID); err != nil {
			return nil, err
		}
		m.keys[k.AccessKey] = k
	}
	for i := range w.Policies {
		pol := &w.Policies[i]
		om, err := org("policy", pol.ID, pol.OrganizationID)
		if err != nil {
			return nil, err
		}
		if pol.Principal.IsZero() {
			continue // grants nothing
		}
		h := pol.Principal.ID
		om.policies[h] = append(om.policies[h], pol)
		for j := range pol.Rules {
			r := &pol.Rules[j]
			if r.Condition != "" {
				return nil, fmt.Errorf("bench: policy %q rule %d has a condition: conditions are not translated", pol.ID, j)
			}
			for _, s := range r.PermissionSets {
				if om.sets[s] == nil {
					return nil, fmt.Errorf("bench: policy %q rule %d names unknown set %q", pol.ID, j, s)
				}
			}
			om.rules[h] = append(om.rules[h], r)
		}
	}
	return m, nil
}

// targetOrg returns the organization a request's target is in, and
// whether the target is a project.
func (m *model) targetOrg(req *iam.Request) (org string, inProject bool) {
	if req.ProjectID != "" {
		return m.projectOrg[req.ProjectID], true
	}
	return req.OrganizationID, false
}

// caller resolves a request's principal: an API key to its bearer. expired
// reports an API key expired at m.now.
func (m *model) caller(p iam.Principal) (c *principal, expired bool) {
	if p.Type == iam.PrincipalAPIKey {
		k := m.keys[p.ID]
		if k == nil {
			return nil, false
		}
		expired = !k.ExpiresAt.IsZero() && !m.now.Before(k.ExpiresAt)
		p = k.Bearer
	}
	c = m.principals[p.ID]
	if c == nil || c.typ != p.Type {
		return nil, false
	}
	return c, expired
}

// holders lists the IDs whose policies count for caller c: a group's own,
// or the caller's, its explicit groups' and its special groups'.
func (m *model) holders(c *principal) []string {
	if c.typ == iam.PrincipalGroup {
		return []string{c.id}
	}
	om := m.orgs[c.org]
	out := append([]string{c.id}, c.groups...)
	switch {
	case c.typ == iam.PrincipalUser:
		out = append(out, om.allUsers...)
	case c.typ == iam.PrincipalApplication && !c.managed:
		out = append(out, om.allApps...)
	}
	return out
}

// allowed answers a request that the Evaluator answers without error
// (docs/semantics.md): a caller of another organization, an expired key and
// a locked user are denied, the owner is allowed, and otherwise a rule of
// one of the caller's holders must grant, at the target, a set whose
// closure holds the requested set, or a pattern matching the triple.
func (m *model) allowed(req *iam.Request) bool {
	c, expired := m.caller(req.Principal)
	org, inProject := m.targetOrg(req)
	if c == nil || c.org != org || expired || c.locked {
		return false
	}
	if c.owner {
		return true
	}
	om := m.orgs[org]
	triple := iam.IsPermission(req.Permission)
	var want iam.ScopeType
	if !triple {
		want = om.sets[req.Permission].ScopeType
	}
	for _, h := range m.holders(c) {
		for _, r := range om.rules[h] {
			onOrg := r.Scope.OrganizationID != ""
			for _, name := range r.PermissionSets {
				s := om.sets[name]
				switch {
				case inProject && s.ScopeType != iam.ScopeProjects:
					continue // organization-level sets never count in a project
				case inProject && !onOrg && !slices.Contains(r.Scope.ProjectIDs, req.ProjectID):
					continue
				case !inProject && !onOrg:
					continue // projects listed one by one never grant organization-wide
				case !inProject && !triple && s.ScopeType != want:
					continue
				}
				if m.grants(om, s, req.Permission, triple) {
					return true
				}
			}
		}
	}
	return false
}

// grants reports whether set s, with its closure, holds the set named perm
// or has a pattern matching the triple perm.
func (m *model) grants(om *orgModel, s *setInfo, perm string, triple bool) bool {
	if !triple {
		return slices.Contains(s.closure, perm)
	}
	for _, name := range s.closure {
		for _, pat := range om.sets[name].Permissions {
			if iam.MatchPermission(pat, perm) {
				return true
			}
		}
	}
	return false
}

// matchingSets lists the sets of om with a pattern matching triple.
func (om *orgModel) matchingSets(triple string) []string {
	var out []string
	for _, name := range om.setOrder {
		for _, pat := range om.sets[name].Permissions {
			if iam.MatchPermission(pat, triple) {
				out = append(out, name)
				break
			}
		}
	}
	return out
}

// explain renders what the model knows of a request's caller, for a
// disagreement report: the caller, its holders and their policies.
func (m *model) explain(req *iam.Request) string {
	var b strings.Builder
	c, expired := m.caller(req.Principal)
	if c == nil {
		return "caller unknown to the model\n"
	}
	org, inProject := m.targetOrg(req)
	fmt.Fprintf(&b, "  caller %s %s of %s (owner %v, locked %v, managed %v, key expired %v); target organization %s (project %v)\n",
		c.typ, c.id, c.org, c.owner, c.locked, c.managed, expired, org, inProject)
	om := m.orgs[c.org]
	for _, h := range m.holders(c) {
		for _, pol := range om.policies[h] {
			fmt.Fprintf(&b, "  holder %s: policy %s\n", h, pol.ID)
			for i, r := range pol.Rules {
				scope := "projects " + strings.Join(r.Scope.ProjectIDs, ",")
				if r.Scope.OrganizationID != "" {
					scope = "organization " + r.Scope.OrganizationID
				}
				fmt.Fprintf(&b, "    rule %d on %s:", i, scope)
				for _, name := range r.PermissionSets {
					s := om.sets[name]
					fmt.Fprintf(&b, " %s(%s, closure %d)", name, s.ScopeType, len(s.closure))
				}
				b.WriteByte('\n')
			}
		}
	}
	if iam.IsPermission(req.Permission) && om != nil {
		fmt.Fprintf(&b, "  sets matching %s: %v\n", req.Permission, om.matchingSets(req.Permission))
	}
	return b.String()
}
