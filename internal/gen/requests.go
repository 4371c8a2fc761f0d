package gen

import (
	"math/rand/v2"
	"strings"

	"github.com/iamkit/iam"
)

// Requests returns n requests over the world, the same for the same world
// and seed. The mix, roughly:
//
//   - 45% drawn from a policy's rule: its principal (or a member of its
//     group, or the group itself, or a key of the caller) asks for a set
//     the rule names, a set that one includes, or a triple one of their
//     patterns matches, mostly where the rule grants it, sometimes in
//     another project or organization-wide (these are mostly allowed);
//   - 25% a random caller asking for a random set or triple in its own
//     organization (mostly denied);
//   - 6% the owner (or one of its keys);
//   - 6% a caller asking in another organization, when there are several;
//   - 12% errors: unknown set names and triples, unknown projects,
//     organizations and principals, IDs of the wrong kind, and
//     organization-level permissions asked in a project;
//   - 6% malformed requests.
//
// Targets are projects about three times in four, and the organization
// otherwise. Requests reads the world only; the world may come from a
// store's contents (for example after random writes), and may be empty of
// anything but organizations.
func (w *World) Requests(seed int64, n int) []iam.Request {
	ix := newReqIndex(w)
	rng := rand.New(rand.NewPCG(uint64(seed), 0x7265717565737473))
	out := make([]iam.Request, 0, n)
	if len(ix.orgs) == 0 {
		for len(out) < n {
			out = append(out, ix.malformed(rng))
		}
		return out
	}
	for len(out) < n {
		var req iam.Request
		ok := true
		switch x := rng.Float64(); {
		case x < 0.45:
			req, ok = ix.fromPolicy(rng)
		case x < 0.70:
			req, ok = ix.random(rng)
		case x < 0.76:
			req, ok = ix.owner(rng)
		case x < 0.82:
			req, ok = ix.crossOrg(rng)
		case x < 0.94:
			req = ix.unknown(rng)
		default:
			req = ix.malformed(rng)
		}
		if ok {
			out = append(out, req)
		}
	}
	return out
}

type reqIndex struct {
	w     *World
	sw    *scaleway
	orgs  []*orgView
	byID  map[string]*orgView
	vocab *vocab
}

type orgView struct {
	id        string
	projects  []string
	users     []int // into World.Users
	apps      []int
	groups    []int
	groupByID map[string]int
	keys      []int
	policies  []int // with a principal and rules
	owners    []string
	custom    map[string]*iam.PermissionSet
	names     []string // custom set names
	keysOf    map[iam.Principal][]string
}

func newReqIndex(w *World) *reqIndex {
	ix := &reqIndex{w: w, sw: scalewayInfo(), byID: map[string]*orgView{}, vocab: newVocab()}
	for _, ps := range ix.sw.sets {
		ix.vocab.addPatterns(ps.Permissions)
		ix.vocab.addDeclared(ps.Declared)
	}
	for _, o := range w.Organizations {
		v := &orgView{id: o.ID, custom: map[string]*iam.PermissionSet{}, groupByID: map[string]int{}, keysOf: map[iam.Principal][]string{}}
		ix.orgs = append(ix.orgs, v)
		ix.byID[o.ID] = v
	}
	org := func(id string) *orgView { return ix.byID[id] }
	for _, p := range w.Projects {
		if v := org(p.OrganizationID); v != nil {
			v.projects = append(v.projects, p.ID)
		}
	}
	for i := range w.PermissionSets {
		ps := &w.PermissionSets[i]
		ix.vocab.addPatterns(ps.Permissions)
		ix.vocab.addDeclared(ps.Declared)
		if v := org(ps.OrganizationID); v != nil {
			v.custom[ps.Name] = ps
			v.names = append(v.names, ps.Name)
		}
	}
	for i, u := range w.Users {
		if v := org(u.OrganizationID); v != nil {
			v.users = append(v.users, i)
			if u.IsOwner() {
				v.owners = append(v.owners, u.ID)
			}
		}
	}
	for i, a := range w.Applications {
		if v := org(a.OrganizationID); v != nil {
			v.apps = append(v.apps, i)
		}
	}
	for i, g := range w.Groups {
		if v := org(g.OrganizationID); v != nil {
			v.groups = append(v.groups, i)
			v.groupByID[g.ID] = i
		}
	}
	for i, k := range w.APIKeys {
		if v := org(k.OrganizationID); v != nil {
			v.keys = append(v.keys, i)
			v.keysOf[k.Bearer] = append(v.keysOf[k.Bearer], k.AccessKey)
		}
	}
	for i, p := range w.Policies {
		if v := org(p.OrganizationID); v != nil && !p.Principal.IsZero() && len(p.Rules) > 0 {
			v.policies = append(v.policies, i)
		}
	}
	return ix
}

// set returns the definition of a set an organization can use, or nil.
func (ix *reqIndex) set(o *orgView, name string) *iam.PermissionSet {
	if ps := o.custom[name]; ps != nil {
		return ps
	}
	if i, ok := ix.sw.byName[name]; ok {
		return &ix.sw.sets[i]
	}
	return nil
}

// closure lists name and every set it includes, transitively.
func (ix *reqIndex) closure(o *orgView, name string) []string {
	out := []string{name}
	for i := 0; i < len(out); i++ {
		ps := ix.set(o, out[i])
		if ps == nil {
			continue
		}
		for _, inc := range ps.Includes {
			if !contains(out, inc) {
				out = append(out, inc)
			}
		}
	}
	return out
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// fill turns a pattern into a concrete triple, choosing a known segment
// for each "*": a declared permission that the pattern matches when its
// service has some.
func (ix *reqIndex) fill(rng *rand.Rand, pattern string) string {
	seg := strings.Split(pattern, ":")
	if len(seg) != 3 {
		return "nosuch:thing:do"
	}
	v := ix.vocab
	if seg[0] == "*" {
		seg[0] = pick(rng, v.services)
	}
	if ds := v.declared[seg[0]]; len(ds) > 0 {
		var fits []string
		for _, d := range ds {
			if iam.MatchPermission(seg[0]+":"+seg[1]+":"+seg[2], d) {
				fits = append(fits, d)
			}
		}
		if len(fits) > 0 {
			return pick(rng, fits)
		}
	}
	if seg[1] == "*" {
		if rs := v.resources[seg[0]]; len(rs) > 0 {
			seg[1] = pick(rng, rs)
		} else {
			seg[1] = pick(rng, v.allResources)
		}
	}
	if seg[2] == "*" {
		if as := v.actions[seg[0]]; len(as) > 0 {
			seg[2] = pick(rng, as)
		} else {
			seg[2] = pick(rng, v.allActions)
		}
	}
	return seg[0] + ":" + seg[1] + ":" + seg[2]
}

// triple returns a triple that a pattern of name's closure matches.
func (ix *reqIndex) triple(rng *rand.Rand, o *orgView, name string) string {
	cl := ix.closure(o, name)
	for range 8 {
		if ps := ix.set(o, pick(rng, cl)); ps != nil && len(ps.Permissions) > 0 {
			return ix.fill(rng, pick(rng, ps.Permissions))
		}
	}
	return ix.fill(rng, "*:*:*")
}

// permissionFrom asks for set name, a set it includes, or a triple.
func (ix *reqIndex) permissionFrom(rng *rand.Rand, o *orgView, name string) string {
	switch x := rng.Float64(); {
	case x < 0.45:
		return name
	case x < 0.65:
		return pick(rng, ix.closure(o, name))
	default:
		return ix.triple(rng, o, name)
	}
}

// randomSet returns a set name of the organization's catalogue, of the
// given scope type nine times in ten.
func (ix *reqIndex) randomSet(rng *rand.Rand, o *orgView, scope iam.ScopeType) string {
	if len(o.names) > 0 && rng.Float64() < 0.3 {
		for range 4 {
			if n := pick(rng, o.names); o.custom[n].ScopeType == scope {
				return n
			}
		}
	}
	if scope == iam.ScopeOrganization && rng.Float64() < 0.9 {
		return pick(rng, ix.sw.orgSets)
	}
	if scope == iam.ScopeProjects && rng.Float64() < 0.9 {
		return pick(rng, ix.sw.projectSets)
	}
	return ix.sw.sets[rng.IntN(len(ix.sw.sets))].Name
}

// callerFor returns who asks with policy principal p's grants: itself, a
// member of its group, the group itself, or a key of one of these.
func (ix *reqIndex) callerFor(rng *rand.Rand, o *orgView, p iam.Principal) iam.Principal {
	if p.Type == iam.PrincipalGroup && rng.Float64() < 0.7 {
		if m, ok := ix.member(rng, o, p.ID); ok {
			p = m
		}
	}
	return ix.maybeKey(rng, o, p)
}

func (ix *reqIndex) maybeKey(rng *rand.Rand, o *orgView, p iam.Principal) iam.Principal {
	if keys := o.keysOf[p]; len(keys) > 0 && rng.Float64() < 0.15 {
		return iam.APIKeyPrincipal(pick(rng, keys))
	}
	return p
}

// member returns a member of group id: explicit, or implicit for the
// special groups.
func (ix *reqIndex) member(rng *rand.Rand, o *orgView, id string) (iam.Principal, bool) {
	gi, ok := o.groupByID[id]
	if !ok {
		return iam.Principal{}, false
	}
	g := &ix.w.Groups[gi]
	nu, na := len(g.UserIDs), len(g.ApplicationIDs)
	su, sa := 0, 0
	if g.AllUsers && len(o.users) > 0 {
		su = 1
	}
	if g.AllApplications && len(o.apps) > 0 {
		sa = 1
	}
	n := nu + na + su + sa
	if n == 0 {
		return iam.Principal{}, false
	}
	switch i := rng.IntN(n); {
	case i < nu:
		return iam.UserPrincipal(g.UserIDs[i]), true
	case i < nu+na:
		return iam.ApplicationPrincipal(g.ApplicationIDs[i-nu]), true
	case i < nu+na+su:
		return iam.UserPrincipal(ix.w.Users[pick(rng, o.users)].ID), true
	default:
		return iam.ApplicationPrincipal(ix.w.Applications[pick(rng, o.apps)].ID), true
	}
}

// target points req at project pid, or at the organization when pid is "".
func target(req *iam.Request, o *orgView, pid string) {
	if pid == "" {
		req.OrganizationID = o.id
	} else {
		req.ProjectID = pid
	}
}

func (ix *reqIndex) randomProject(rng *rand.Rand, o *orgView) string {
	if len(o.projects) == 0 {
		return ""
	}
	return pick(rng, o.projects)
}

func (ix *reqIndex) fromPolicy(rng *rand.Rand) (iam.Request, bool) {
	o := pick(rng, ix.orgs)
	if len(o.policies) == 0 {
		return iam.Request{}, false
	}
	pol := &ix.w.Policies[pick(rng, o.policies)]
	r := pol.Rules[rng.IntN(len(pol.Rules))]
	if len(r.PermissionSets) == 0 {
		return iam.Request{}, false
	}
	name := pick(rng, r.PermissionSets)
	req := iam.Request{Principal: ix.callerFor(rng, o, pol.Principal)}
	ps := ix.set(o, name)
	x := rng.Float64()
	switch {
	case len(r.Scope.ProjectIDs) > 0:
		switch {
		case x < 0.8:
			target(&req, o, pick(rng, r.Scope.ProjectIDs))
		case x < 0.9:
			target(&req, o, "")
		default:
			target(&req, o, ix.randomProject(rng, o))
		}
	case ps != nil && ps.ScopeType == iam.ScopeOrganization:
		if x < 0.95 {
			target(&req, o, "")
		} else {
			target(&req, o, ix.randomProject(rng, o))
		}
	default:
		if x < 0.75 {
			target(&req, o, ix.randomProject(rng, o))
		} else {
			target(&req, o, "")
		}
	}
	req.Permission = ix.permissionFrom(rng, o, name)
	return req, true
}

// randomCaller returns a user, application, group or key of o.
func (ix *reqIndex) randomCaller(rng *rand.Rand, o *orgView) (iam.Principal, bool) {
	for range 4 {
		switch x := rng.Float64(); {
		case x < 0.5 && len(o.users) > 0:
			return iam.UserPrincipal(ix.w.Users[pick(rng, o.users)].ID), true
		case x < 0.7 && len(o.apps) > 0:
			return iam.ApplicationPrincipal(ix.w.Applications[pick(rng, o.apps)].ID), true
		case x < 0.85 && len(o.groups) > 0:
			return iam.GroupPrincipal(ix.w.Groups[pick(rng, o.groups)].ID), true
		case len(o.keys) > 0:
			return iam.APIKeyPrincipal(ix.w.APIKeys[pick(rng, o.keys)].AccessKey), true
		}
	}
	return iam.Principal{}, false
}

// randomAsk fills a random target of o and a permission for it.
func (ix *reqIndex) randomAsk(rng *rand.Rand, req *iam.Request, o *orgView) {
	scope := iam.ScopeProjects
	if rng.Float64() < 0.75 {
		target(req, o, ix.randomProject(rng, o))
	} else {
		target(req, o, "")
		if rng.Float64() < 0.5 {
			scope = iam.ScopeOrganization
		}
	}
	name := ix.randomSet(rng, o, scope)
	if rng.Float64() < 0.5 {
		req.Permission = name
	} else {
		req.Permission = ix.triple(rng, o, name)
	}
}

func (ix *reqIndex) random(rng *rand.Rand) (iam.Request, bool) {
	o := pick(rng, ix.orgs)
	p, ok := ix.randomCaller(rng, o)
	if !ok {
		return iam.Request{}, false
	}
	req := iam.Request{Principal: p}
	ix.randomAsk(rng, &req, o)
	return req, true
}

func (ix *reqIndex) owner(rng *rand.Rand) (iam.Request, bool) {
	o := pick(rng, ix.orgs)
	if len(o.owners) == 0 {
		return iam.Request{}, false
	}
	req := iam.Request{Principal: ix.maybeKey(rng, o, iam.UserPrincipal(pick(rng, o.owners)))}
	ix.randomAsk(rng, &req, o)
	return req, true
}

func (ix *reqIndex) crossOrg(rng *rand.Rand) (iam.Request, bool) {
	if len(ix.orgs) < 2 {
		return iam.Request{}, false
	}
	a, b := pick(rng, ix.orgs), pick(rng, ix.orgs)
	if a == b {
		return iam.Request{}, false
	}
	var p iam.Principal
	if len(a.owners) > 0 && rng.Float64() < 0.3 {
		p = iam.UserPrincipal(pick(rng, a.owners))
	} else {
		var ok bool
		if p, ok = ix.randomCaller(rng, a); !ok {
			return iam.Request{}, false
		}
	}
	req := iam.Request{Principal: p}
	ix.randomAsk(rng, &req, b)
	return req, true
}

// mangle returns a near miss of a set name.
func mangle(rng *rand.Rand, name string) string {
	switch {
	case len(name) > 3 && rng.IntN(2) == 0:
		i := 1 + rng.IntN(len(name)-2)
		return name[:i] + name[i+1:]
	case rng.IntN(2) == 0:
		return strings.ToLower(name)
	default:
		return name + "X"
	}
}

func (ix *reqIndex) unknown(rng *rand.Rand) iam.Request {
	o := pick(rng, ix.orgs)
	p, ok := ix.randomCaller(rng, o)
	if !ok {
		p = iam.UserPrincipal(o.id + "-u0")
	}
	req := iam.Request{Principal: p}
	ix.randomAsk(rng, &req, o)
	switch rng.IntN(9) {
	case 0: // unknown set name
		req.Permission = mangle(rng, ix.randomSet(rng, o, iam.ScopeProjects))
	case 1: // unknown triple
		switch rng.IntN(3) {
		case 0:
			req.Permission = "nosuch:thing:read"
		case 1:
			req.Permission = pick(rng, ix.vocab.services) + ":" + pick(rng, ix.vocab.allResources) + ":teleport"
		default: // a typo of a declared permission ("instance:servers:create")
			seg := strings.Split(pick(rng, ix.sw.declared[pick(rng, ix.sw.services)]), ":")
			req.Permission = seg[0] + ":" + seg[1] + "s:" + seg[2]
		}
	case 2: // unknown project
		req.ProjectID, req.OrganizationID = o.id+"-p404", ""
	case 3: // unknown organization
		req.ProjectID, req.OrganizationID = "", "org404"
	case 4: // unknown principal
		req.Principal = pick(rng, []iam.Principal{
			iam.UserPrincipal(o.id + "-u404404"), iam.ApplicationPrincipal(o.id + "-a404404"),
			iam.GroupPrincipal(o.id + "-g404404"), iam.APIKeyPrincipal(o.id + "-k404404"),
		})
	case 5: // an ID of the wrong kind
		types := []iam.PrincipalType{iam.PrincipalUser, iam.PrincipalApplication, iam.PrincipalGroup, iam.PrincipalAPIKey}
		req.Principal.Type = pick(rng, types)
		if rng.IntN(4) == 0 && len(o.projects) > 0 {
			req.Principal.ID = pick(rng, o.projects)
		}
	case 6, 7: // an organization-level set or triple in a project
		name := ix.randomSet(rng, o, iam.ScopeOrganization)
		if pid := ix.randomProject(rng, o); pid != "" {
			req.ProjectID, req.OrganizationID = pid, ""
		}
		if rng.IntN(2) == 0 {
			req.Permission = name
		} else {
			req.Permission = ix.triple(rng, o, name)
		}
	default: // a permission of another organization's own sets
		if other := pick(rng, ix.orgs); len(other.names) > 0 {
			req.Permission = pick(rng, other.names)
		}
	}
	return req
}

func (ix *reqIndex) malformed(rng *rand.Rand) iam.Request {
	req := iam.Request{Principal: iam.UserPrincipal("org1-u1"), ProjectID: "org1", Permission: "InstancesReadOnly"}
	if len(ix.orgs) > 0 {
		o := pick(rng, ix.orgs)
		if p, ok := ix.randomCaller(rng, o); ok {
			req.Principal = p
		}
		req.ProjectID = o.id
	}
	switch rng.IntN(10) {
	case 0:
		req.Principal = iam.Principal{}
	case 1:
		req.Principal.ID = ""
	case 2:
		req.OrganizationID = req.ProjectID
	case 3:
		req.ProjectID = ""
	case 4:
		req.Permission = ""
	case 5:
		req.Permission = "instance:*:read"
	case 6:
		req.Permission = "Instances*"
	case 7:
		req.Permission = pick(rng, []string{"instance:server", "instance:server:read:all", "instance::read", ":server:read", "instance:server:"})
	case 8:
		req.Permission = "Instance:Server:Read"
	default:
		req.Permission = "instance:server:read now"
	}
	return req
}
