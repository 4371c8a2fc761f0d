package bench

import (
	"bytes"
	"fmt"
	"strconv"

	"github.com/cedar-policy/cedar-go"
	"github.com/cedar-policy/cedar-go/types"

	"github.com/iamkit/iam"
)

// cedarStatic are the policies every world has: the owner is allowed
// everything in its organization (directly or with one of its keys), and
// a locked user, a key of a locked user and an expired key are denied
// everything (forbid overrides permit). Key expiry is read at check time,
// against context.now (seconds since the epoch; the world's clock).
const cedarStatic = `
permit (principal is User, action, resource)
when { principal.owner && resource in principal.org };

permit (principal is APIKey, action, resource)
when { principal.bearer.owner && resource in principal.org };

forbid (principal is User, action, resource)
when { principal.locked };

forbid (principal is APIKey, action, resource)
when { principal.bearer.locked || (principal.expires != 0 && context.now >= principal.expires) };
`

// cedarPeer translates a world into a Cedar policy set and entities:
//
//   - entities: Organization; Project (parent: its organization; the
//     default project is Project::"<org>" beside Organization::"<org>");
//     User and Application (attributes org, owner, locked; parents: their
//     groups, the all-users or all-applications groups included, expanded
//     here since Cedar has no implicit membership); Group; APIKey (parent:
//     its bearer, so that it holds what the bearer holds; attributes org,
//     bearer, expires);
//   - actions: one per permission set, Action::"<name>" for Scaleway's and
//     Action::"<org>/<name>" for an organization's own, whose parents are
//     the sets that include it (Cedar follows the hierarchy transitively:
//     includes are not flattened); and one per concrete triple, whose
//     parents are the sets with a pattern matching it. Cedar has no
//     wildcard in an action's UID, so the triples are expanded: prepare
//     declares each triple the sample names, as a host declares its
//     concrete actions in a schema;
//   - one permit per rule: principal in the holder, action in the rule's
//     sets, and resource in the project (a rule listing several projects:
//     when { resource in [...] }), in the organization (project-scoped sets
//     on the organization: every current and future project, and the
//     organization-wide target), or == the organization (organization-
//     scoped sets: the organization-level target only);
//   - the static policies above.
//
// A caller of another organization matches no permit: every rule names the
// holder's organization's resources, and the owner's permit requires the
// resource to be in the caller's organization.
type cedarPeer struct {
	m        *model
	ps       *cedar.PolicySet
	entities types.EntityMap
	src      []byte
	reqs     []cedar.Request
	now      types.Long
}

func cedarUID(typ, id string) types.EntityUID {
	return types.NewEntityUID(types.EntityType(typ), types.String(id))
}

// cedarActionID names a set as the Cedar translation does.
func cedarActionID(om *orgModel, name string) string {
	if om.custom[name] {
		return om.id + "/" + name
	}
	return name
}

func cedarPrincipalType(t iam.PrincipalType) string {
	switch t {
	case iam.PrincipalUser:
		return "User"
	case iam.PrincipalApplication:
		return "Application"
	case iam.PrincipalGroup:
		return "Group"
	case iam.PrincipalAPIKey:
		return "APIKey"
	}
	return "None"
}

func newCedarPeer(m *model) (*cedarPeer, error) {
	c := &cedarPeer{m: m, entities: types.EntityMap{}, now: types.Long(m.now.Unix())}
	add := func(uid types.EntityUID, attrs types.RecordMap, parents ...types.EntityUID) {
		c.entities[uid] = types.Entity{UID: uid, Parents: types.NewEntityUIDSet(parents...), Attributes: types.NewRecord(attrs)}
	}
	var src bytes.Buffer
	src.WriteString(cedarStatic)
	actionParents := map[string][]types.EntityUID{}
	for _, om := range m.orgList {
		orgUID := cedarUID("Organization", om.id)
		add(orgUID, nil)
		for _, pid := range om.projects {
			add(cedarUID("Project", pid), nil, orgUID)
		}
		for _, name := range om.setOrder {
			if !om.custom[name] && om != m.orgList[0] {
				continue // Scaleway sets are declared once
			}
			id := cedarActionID(om, name)
			if _, ok := actionParents[id]; !ok {
				actionParents[id] = nil
			}
			for _, inc := range om.sets[name].Includes {
				child := cedarActionID(om, inc)
				actionParents[child] = append(actionParents[child], cedarUID("Action", id))
			}
		}
		for h, pols := range om.policies {
			hp := m.principals[h]
			if hp == nil {
				continue // a policy naming a principal the world lacks grants nothing
			}
			holder := fmt.Sprintf("%s::%q", cedarPrincipalType(hp.typ), h)
			for _, pol := range pols {
				for i := range pol.Rules {
					r := &pol.Rules[i]
					fmt.Fprintf(&src, "\n@id(%q)\npermit (principal in %s, action in [", pol.ID+"/"+strconv.Itoa(i), holder)
					for j, name := range r.PermissionSets {
						if j > 0 {
							src.WriteString(", ")
						}
						fmt.Fprintf(&src, "Action::%q", cedarActionID(om, name))
					}
					src.WriteString("], ")
					switch {
					case r.Scope.OrganizationID != "" && om.sets[r.PermissionSets[0]].ScopeType == iam.ScopeOrganization:
						fmt.Fprintf(&src, "resource == Organization::%q);\n", om.id)
					case r.Scope.OrganizationID != "":
						fmt.Fprintf(&src, "resource in Organization::%q);\n", om.id)
					case len(r.Scope.ProjectIDs) == 1:
						fmt.Fprintf(&src, "resource in Project::%q);\n", r.Scope.ProjectIDs[0])
					default:
						src.WriteString("resource)\nwhen { resource in [")
						for j, pid := range r.Scope.ProjectIDs {
							if j > 0 {
								src.WriteString(", ")
							}
							fmt.Fprintf(&src, "Project::%q", pid)
						}
						src.WriteString("] };\n")
					}
				}
			}
		}
	}
	for id, parents := range actionParents {
		add(cedarUID("Action", id), nil, parents...)
	}
	groupsOf := func(p *principal) []types.EntityUID {
		var out []types.EntityUID
		for _, g := range m.holders(p)[1:] {
			out = append(out, cedarUID("Group", g))
		}
		return out
	}
	for _, u := range m.w.Users {
		add(cedarUID("User", u.ID), types.RecordMap{
			"org":    cedarUID("Organization", u.OrganizationID),
			"owner":  types.Boolean(u.IsOwner()),
			"locked": types.Boolean(u.Locked),
		}, groupsOf(m.principals[u.ID])...)
	}
	for _, a := range m.w.Applications {
		add(cedarUID("Application", a.ID), types.RecordMap{
			"org":    cedarUID("Organization", a.OrganizationID),
			"owner":  types.False,
			"locked": types.False,
		}, groupsOf(m.principals[a.ID])...)
	}
	for _, g := range m.w.Groups {
		add(cedarUID("Group", g.ID), types.RecordMap{"org": cedarUID("Organization", g.OrganizationID)})
	}
	for _, k := range m.w.APIKeys {
		bearer := cedarUID(cedarPrincipalType(k.Bearer.Type), k.Bearer.ID)
		var exp int64
		if !k.ExpiresAt.IsZero() {
			exp = k.ExpiresAt.Unix()
		}
		add(cedarUID("APIKey", k.AccessKey), types.RecordMap{
			"org":     cedarUID("Organization", k.OrganizationID),
			"bearer":  bearer,
			"expires": types.Long(exp),
		}, bearer)
	}
	ps, err := cedar.NewPolicySetFromBytes("world.cedar", src.Bytes())
	if err != nil {
		return nil, fmt.Errorf("bench: cedar policies: %w", err)
	}
	c.ps, c.src = ps, src.Bytes()
	return c, nil
}

// declareTriple makes the action entity of a concrete triple, whose
// parents are the sets, of every organization, with a matching pattern.
func (c *cedarPeer) declareTriple(triple string) types.EntityUID {
	uid := cedarUID("Action", triple)
	if _, ok := c.entities[uid]; ok {
		return uid
	}
	var parents []types.EntityUID
	for i, om := range c.m.orgList {
		for _, name := range om.matchingSets(triple) {
			if om.custom[name] || i == 0 {
				parents = append(parents, cedarUID("Action", cedarActionID(om, name)))
			}
		}
	}
	c.entities[uid] = types.Entity{UID: uid, Parents: types.NewEntityUIDSet(parents...)}
	return uid
}

func (c *cedarPeer) prepare(reqs []iam.Request) error {
	c.reqs = make([]cedar.Request, len(reqs))
	ctx := types.NewRecord(types.RecordMap{"now": c.now})
	for i := range reqs {
		r := &reqs[i]
		org, inProject := c.m.targetOrg(r)
		resource := cedarUID("Organization", org)
		if inProject {
			resource = cedarUID("Project", r.ProjectID)
		}
		var action types.EntityUID
		if iam.IsPermission(r.Permission) {
			action = c.declareTriple(r.Permission)
		} else {
			action = cedarUID("Action", cedarActionID(c.m.orgs[org], r.Permission))
		}
		c.reqs[i] = cedar.Request{
			Principal: cedarUID(cedarPrincipalType(r.Principal.Type), r.Principal.ID),
			Action:    action,
			Resource:  resource,
			Context:   ctx,
		}
	}
	return nil
}

func (c *cedarPeer) check(i int) (bool, error) {
	d, diag := cedar.Authorize(c.ps, c.entities, c.reqs[i])
	if len(diag.Errors) > 0 {
		return false, fmt.Errorf("bench: cedar: %v", diag.Errors)
	}
	return d == cedar.Allow, nil
}

func (c *cedarPeer) describe(i int) string {
	r := c.reqs[i]
	d, diag := cedar.Authorize(c.ps, c.entities, r)
	var b bytes.Buffer
	fmt.Fprintf(&b, "  cedar %v %v %v: %v; reasons:\n", r.Principal, r.Action, r.Resource, d)
	for _, reason := range diag.Reasons {
		fmt.Fprintf(&b, "    %s: %s\n", reason.PolicyID, c.ps.Get(reason.PolicyID).MarshalCedar())
	}
	for _, e := range diag.Errors {
		fmt.Fprintf(&b, "    error %s: %s\n", e.PolicyID, e.Message)
	}
	if a, ok := c.entities[r.Action]; ok {
		fmt.Fprintf(&b, "    action parents: %v\n", a.Parents)
	}
	if p, ok := c.entities[r.Principal]; ok {
		fmt.Fprintf(&b, "    principal parents: %v\n", p.Parents)
	}
	return b.String()
}
