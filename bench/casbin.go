package bench

import (
	"fmt"

	"github.com/casbin/casbin/v2"
	casbinmodel "github.com/casbin/casbin/v2/model"

	"github.com/iamkit/iam"
)

// casbinModel is RBAC with domains, the domain being the organization,
// plus two role hierarchies of Casbin's own kind: g2 over objects (a
// project is in its organization's "all projects" object) and g3 over
// actions (a set is in every set that includes it; a permission pattern is
// in its set, g3 matching triples against patterns with tripleMatch), and
// deny-override for locked users and expired keys.
//
// Objects: a project's ID; "org:<id>" for the organization-level target
// (an organization and its default project share their ID); and
// "projects@<id>", which every project and the organization-level target
// reach through g2, for rules on the organization that grant
// project-scoped sets (all current and future projects: a project created
// later is one more g2 line, not a copy of every grant).
//
// Actions: a Scaleway set's name; "<org>/<name>" for an organization's
// own sets (domains do not scope g3); a triple.
const casbinModel = `
[request_definition]
r = sub, dom, obj, act

[policy_definition]
p = sub, dom, obj, act, eft

[role_definition]
g = _, _, _
g2 = _, _
g3 = _, _

[policy_effect]
e = some(where (p.eft == allow)) && !some(where (p.eft == deny))

[matchers]
m = r.dom == p.dom && g(r.sub, p.sub, r.dom) && (p.obj == "*" || r.obj == p.obj || g2(r.obj, p.obj)) && (p.act == "*" || g3(r.act, p.act))
`

// casbinPeer translates a world into Casbin policy lines:
//
//   - p, holder, org, object, set, allow: one line per rule, set and
//     project (Casbin lines are flat: a rule on three projects and two sets
//     is six lines); a rule on the organization has the object
//     "projects@<org>" for project-scoped sets and "org:<org>" for
//     organization-scoped ones;
//   - p, owner, org, *, *, allow: the owner;
//   - p, user, org, *, *, deny: a locked user (its keys inherit it);
//   - p, key, org, *, *, deny: an API key expired at the world's clock.
//     Casbin's RBAC has no clock, so expiry is resolved when the lines are
//     written, as a host would on a timer, not at check time;
//   - g, member, group, org: explicit members, and every user (every
//     non-managed application) in its organization's all-users
//     (all-applications) groups, expanded: Casbin has no implicit
//     membership; g, key, bearer, org: a key acts as its bearer;
//   - g2, project, projects@<org> and g2, org:<org>, projects@<org>;
//   - g3, included, includer for includes (Casbin follows the hierarchy
//     transitively, so includes are not flattened) and g3, pattern, set for
//     each pattern of each set, matched with tripleMatch ("*" is one whole
//     segment).
//
// A group caller matches its own lines through g's reflexivity. A caller of
// another organization has no line in the target's domain.
type casbinPeer struct {
	m    *model
	e    *casbin.Enforcer
	reqs [][4]any
	nP   int
	nG   [3]int
}

// casbinAct names a set as the Casbin translation does.
func casbinAct(om *orgModel, name string) string {
	if om.custom[name] {
		return om.id + "/" + name
	}
	return name
}

// tripleMatch reports whether the triple str matches the pattern pattern,
// segment by segment, "*" matching one whole segment; set names match only
// themselves.
func tripleMatch(str, pattern string) bool {
	if str == pattern {
		return true
	}
	if !iam.IsPermission(str) || !iam.IsPermission(pattern) {
		return false
	}
	return iam.MatchPermission(pattern, str)
}

func newCasbinPeer(m *model) (*casbinPeer, error) {
	cm, err := casbinmodel.NewModelFromString(casbinModel)
	if err != nil {
		return nil, err
	}
	var p, g, g2, g3 [][]string
	seenG3 := map[[2]string]bool{}
	addG3 := func(child, parent string) {
		k := [2]string{child, parent}
		if !seenG3[k] {
			seenG3[k] = true
			g3 = append(g3, []string{child, parent})
		}
	}
	for _, om := range m.orgList {
		org := om.id
		all, orgObj := "projects@"+org, "org:"+org
		for _, pid := range om.projects {
			g2 = append(g2, []string{pid, all})
		}
		g2 = append(g2, []string{orgObj, all})
		for _, name := range om.setOrder {
			if !om.custom[name] && org != m.orgList[0].id {
				continue // Scaleway sets are written once
			}
			s := om.sets[name]
			for _, inc := range s.Includes {
				addG3(casbinAct(om, inc), casbinAct(om, name))
			}
			for _, pat := range s.Permissions {
				addG3(pat, casbinAct(om, name))
			}
		}
		for h, rules := range om.rules {
			for _, r := range rules {
				for _, name := range r.PermissionSets {
					act := casbinAct(om, name)
					switch {
					case r.Scope.OrganizationID != "" && om.sets[name].ScopeType == iam.ScopeOrganization:
						p = append(p, []string{h, org, orgObj, act, "allow"})
					case r.Scope.OrganizationID != "":
						p = append(p, []string{h, org, all, act, "allow"})
					default:
						for _, pid := range r.Scope.ProjectIDs {
							p = append(p, []string{h, org, pid, act, "allow"})
						}
					}
				}
			}
		}
	}
	for _, u := range m.w.Users {
		switch {
		case u.IsOwner():
			p = append(p, []string{u.ID, u.OrganizationID, "*", "*", "allow"})
		case u.Locked:
			p = append(p, []string{u.ID, u.OrganizationID, "*", "*", "deny"})
		}
	}
	for _, k := range m.w.APIKeys {
		g = append(g, []string{k.AccessKey, k.Bearer.ID, k.OrganizationID})
		if !k.ExpiresAt.IsZero() && !m.now.Before(k.ExpiresAt) {
			p = append(p, []string{k.AccessKey, k.OrganizationID, "*", "*", "deny"})
		}
	}
	for _, gr := range m.w.Groups {
		for _, id := range gr.UserIDs {
			g = append(g, []string{id, gr.ID, gr.OrganizationID})
		}
		for _, id := range gr.ApplicationIDs {
			g = append(g, []string{id, gr.ID, gr.OrganizationID})
		}
		if gr.AllUsers {
			for _, u := range m.w.Users {
				if u.OrganizationID == gr.OrganizationID {
					g = append(g, []string{u.ID, gr.ID, gr.OrganizationID})
				}
			}
		}
		if gr.AllApplications {
			for _, a := range m.w.Applications {
				if a.OrganizationID == gr.OrganizationID && !a.Managed {
					g = append(g, []string{a.ID, gr.ID, gr.OrganizationID})
				}
			}
		}
	}

	// Lines go straight into the model (which skips repeats), then the
	// role links are built once, as an adapter's LoadPolicy would.
	if err := cm.AddPolicies("p", "p", p); err != nil {
		return nil, fmt.Errorf("bench: casbin p lines: %w", err)
	}
	for _, x := range []struct {
		ptype string
		lines [][]string
	}{{"g", g}, {"g2", g2}, {"g3", g3}} {
		if err := cm.AddPolicies("g", x.ptype, x.lines); err != nil {
			return nil, fmt.Errorf("bench: casbin %s lines: %w", x.ptype, err)
		}
	}
	e, err := casbin.NewEnforcer(cm)
	if err != nil {
		return nil, err
	}
	e.EnableLog(false)
	e.AddNamedMatchingFunc("g3", "tripleMatch", tripleMatch)
	if err := e.BuildRoleLinks(); err != nil {
		return nil, err
	}
	return &casbinPeer{m: m, e: e, nP: len(p), nG: [3]int{len(g), len(g2), len(g3)}}, nil
}

func (c *casbinPeer) prepare(reqs []iam.Request) error {
	c.reqs = make([][4]any, len(reqs))
	for i := range reqs {
		r := &reqs[i]
		org, inProject := c.m.targetOrg(r)
		obj := "org:" + org
		if inProject {
			obj = r.ProjectID
		}
		act := r.Permission
		if !iam.IsPermission(act) {
			act = casbinAct(c.m.orgs[org], act)
		}
		c.reqs[i] = [4]any{r.Principal.ID, org, obj, act}
	}
	return nil
}

func (c *casbinPeer) check(i int) (bool, error) {
	r := &c.reqs[i]
	return c.e.Enforce(r[0], r[1], r[2], r[3])
}

func (c *casbinPeer) describe(i int) string {
	r := c.reqs[i]
	ok, explain, err := c.e.EnforceEx(r[0], r[1], r[2], r[3])
	roles, _ := c.e.GetImplicitRolesForUser(r[0].(string), r[1].(string))
	return fmt.Sprintf("  casbin %v: %v (err %v), deciding line %v; roles of %v in %v: %v; %d p lines, g/g2/g3 %v\n",
		r, ok, err, explain, r[0], r[1], roles, c.nP, c.nG)
}
