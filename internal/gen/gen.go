// Package gen generates deterministic IAM worlds and request mixes: the
// shared input of the reliability tests, the benchmarks of the root package
// and the benchmark module that runs the same world through other engines.
//
// A World is plain data (slices of iam entity values) that any engine can
// consume; Load writes it into an iam.Store. The same Config always gives
// the same World, and the same World and seed the same requests.
//
// Every ID is derived from the organization's: organization "org3" holds
// the default project "org3", projects "org3-p1"..., users "org3-u0" (the
// owner) ..., applications "org3-a0"..., groups "org3-g0"... and the
// special groups "org3-all-users" and "org3-all-apps", policies
// "org3-pol0"... and API keys "org3-k0"... (whose secrets Secret returns).
// Custom permission sets are named "Host<Service><Word><n>". Each host
// service has one level (shop, crm, wiki, ci, chat and ml are project-level,
// ledger and hr organization-level), as the store requires; the first
// custom set of an organization, one time in two, declares the permissions
// of its service (every resource and action of the host vocabulary).
package gen

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/iamkit/iam"
)

// Config describes a world. Counts are taken as given (0 is none) unless
// said otherwise. Shares (the fields ending in Share) are fractions in
// [0, 1]: 0 selects the default share given in the field's comment, and a
// negative value selects none at all.
type Config struct {
	Seed int64

	Organizations        int     // at least 1 (0 counts as 1)
	Principals           int     // users and applications in all, split about 80/20, spread evenly over the organizations; every organization has at least its owner
	ProjectsPerOrg       int     // besides the default project
	Groups               int     // explicit-member groups per organization, sizes log-uniform from 10 to 10,000 members, capped by the organization's size
	PoliciesPerPrincipal float64 // policies per principal, on users, applications and groups (0: none)
	MaxRulesPerPolicy    int     // 1-20; 0 means 3. Rule counts lean towards 1
	CustomSets           int     // host-defined permission sets per organization, with patterns and includes

	MaxSetsPerRule     int // 0 means 3
	MaxProjectsPerRule int // for rules listing projects; 0 means 3

	OrganizationShare     float64 // rules granting organization-scoped sets on the organization; default 0.10
	AllProjectsShare      float64 // rules granting project-scoped sets on the organization (all current and future projects); default 0.15
	GroupPolicyShare      float64 // policies given to a group (the special groups included); default 0.20
	UnattachedPolicyShare float64 // policies with no principal (they grant nothing); default 0.01
	CustomSetShare        float64 // granted sets drawn from the organization's custom sets, when it has some; default 0.25
	LockedShare           float64 // locked users (never the owner); default 0.02
	ManagedShare          float64 // managed applications; default 0.05
	APIKeyShare           float64 // principals holding one API key; default 0.25
	ExpiredKeyShare       float64 // keys expired at Now (some exactly at Now); default 0.10
	WildServiceShare      float64 // ignored: a custom-set pattern with "*" as the service would overlap both levels of the Scaleway catalogue, which a store refuses

	// NoSpecialGroups leaves out the two special groups per organization
	// (all users, all non-managed applications).
	NoSpecialGroups bool

	// Now is the instant key expiry is generated around; zero means
	// DefaultNow. Evaluate with the same clock (iam.WithClock).
	Now time.Time
}

// DefaultNow is the Now of a Config that sets none.
var DefaultNow = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

// World is a generated IAM model: every entity, grouped by organization in
// the order of Organizations, each organization's entities in ID order of
// generation. Projects includes each default project (ID = the
// organization's ID, Name "default"). PermissionSets holds the
// organizations' own sets only, in an order in which every set comes after
// the sets it includes; the Scaleway catalogue (iam.ScalewayCatalogue)
// completes them, see Catalogue. APIKeys carry SecretSHA256, never Secret.
type World struct {
	Organizations  []iam.Organization
	Projects       []iam.Project
	Users          []iam.User
	Applications   []iam.Application
	Groups         []iam.Group
	PermissionSets []iam.PermissionSet
	Policies       []iam.Policy
	APIKeys        []iam.APIKey
}

// Secret returns the secret of the API key with the given access key, as
// Generate makes it ("secret-" and the access key).
func Secret(accessKey string) string { return "secret-" + accessKey }

// params is a Config with its defaults resolved.
type params struct {
	Config
	orgShare, allShare, groupPol, unattached, customShare float64
	locked, managed, keys, expired                        float64
}

func share(v, def float64) float64 {
	switch {
	case v == 0:
		return def
	case v < 0:
		return 0
	case v > 1:
		return 1
	}
	return v
}

func resolve(c Config) params {
	p := params{Config: c}
	p.Organizations = max(1, c.Organizations)
	p.Principals = max(0, c.Principals)
	p.ProjectsPerOrg = max(0, c.ProjectsPerOrg)
	p.Groups = max(0, c.Groups)
	p.CustomSets = max(0, c.CustomSets)
	p.PoliciesPerPrincipal = max(0, c.PoliciesPerPrincipal)
	if p.MaxRulesPerPolicy <= 0 {
		p.MaxRulesPerPolicy = 3
	}
	p.MaxRulesPerPolicy = min(p.MaxRulesPerPolicy, 20)
	if p.MaxSetsPerRule <= 0 {
		p.MaxSetsPerRule = 3
	}
	if p.MaxProjectsPerRule <= 0 {
		p.MaxProjectsPerRule = 3
	}
	if p.Now.IsZero() {
		p.Now = DefaultNow
	}
	p.orgShare = share(c.OrganizationShare, 0.10)
	p.allShare = share(c.AllProjectsShare, 0.15)
	p.groupPol = share(c.GroupPolicyShare, 0.20)
	p.unattached = share(c.UnattachedPolicyShare, 0.01)
	p.customShare = share(c.CustomSetShare, 0.25)
	p.locked = share(c.LockedShare, 0.02)
	p.managed = share(c.ManagedShare, 0.05)
	p.keys = share(c.APIKeyShare, 0.25)
	p.expired = share(c.ExpiredKeyShare, 0.10)
	return p
}

// scaleway is what the generator needs of the Scaleway catalogue.
type scaleway struct {
	sets                    []iam.PermissionSet
	byName                  map[string]int
	projectSets, orgSets    []string
	services                []string // Scaleway's services, as patterns name them
	resources, actions      map[string][]string
	allResources, allAction []string
	byLevel                 [2][]string         // Scaleway's services: project-level, organization-level
	declared                map[string][]string // the declared permissions of each service
}

var scalewayInfo = sync.OnceValue(func() *scaleway {
	s := &scaleway{sets: iam.ScalewayCatalogue(), byName: map[string]int{}}
	for i, ps := range s.sets {
		s.byName[ps.Name] = i
		if ps.ScopeType == iam.ScopeOrganization {
			s.orgSets = append(s.orgSets, ps.Name)
		} else {
			s.projectSets = append(s.projectSets, ps.Name)
		}
	}
	v := newVocab()
	level := map[string]int{}
	for _, ps := range s.sets {
		v.addPatterns(ps.Permissions)
		v.addDeclared(ps.Declared)
		for _, p := range ps.Permissions {
			service := strings.Split(p, ":")[0]
			if _, ok := level[service]; !ok {
				level[service] = 0
				if ps.ScopeType == iam.ScopeOrganization {
					level[service] = 1
				}
				s.byLevel[level[service]] = append(s.byLevel[level[service]], service)
			}
		}
	}
	s.services, s.resources, s.actions = v.services, v.resources, v.actions
	s.allResources, s.allAction = v.allResources, v.allActions
	s.declared = v.declared
	return s
})

// The host's own services, for custom sets, by level: project-level, then
// organization-level.
var (
	hostServices  = [2][]string{{"shop", "crm", "wiki", "ci", "chat", "ml"}, {"ledger", "hr"}}
	hostResources = []string{"order", "invoice", "customer", "page", "pipeline", "artifact", "message", "employee", "model", "dataset"}
	hostActions   = []string{"read", "list", "create", "update", "delete", "approve", "run", "export"}
	hostWords     = []string{"Reader", "Editor", "Operator", "Auditor", "Admin", "Approver"}
)

// Generate returns the world cfg describes. It is deterministic: the same
// Config gives the same World, with math/rand/v2's PCG seeded from Seed.
func Generate(cfg Config) *World {
	p := resolve(cfg)
	g := &generator{
		p:    p,
		rng:  rand.New(rand.NewPCG(uint64(cfg.Seed), 0x1a2b3c4d5e6f7788)),
		sw:   scalewayInfo(),
		seen: map[int]struct{}{},
	}
	users := int(math.Round(float64(p.Principals) * 0.8))
	w := &World{
		Organizations: make([]iam.Organization, 0, p.Organizations),
		Projects:      make([]iam.Project, 0, p.Organizations*(1+p.ProjectsPerOrg)),
		Users:         make([]iam.User, 0, max(users, p.Organizations)),
		Applications:  make([]iam.Application, 0, p.Principals-users),
		Policies:      make([]iam.Policy, 0, int(float64(p.Principals)*p.PoliciesPerPrincipal)+p.Organizations),
	}
	g.w = w
	for o := range p.Organizations {
		n := p.Principals / p.Organizations
		if o < p.Principals%p.Organizations {
			n++
		}
		nu := max(1, int(math.Round(float64(n)*0.8)))
		na := max(0, n-nu)
		g.org(o+1, nu, na)
	}
	return w
}

type generator struct {
	p    params
	rng  *rand.Rand
	sw   *scaleway
	w    *World
	seen map[int]struct{}

	strs  []string   // arena for rule sets and projects
	rules []iam.Rule // arena for policy rules
}

func (g *generator) take(n int) []string {
	if len(g.strs) < n {
		g.strs = make([]string, max(n, 8192))
	}
	s := g.strs[:n:n]
	g.strs = g.strs[n:]
	return s
}

func (g *generator) takeRules(n int) []iam.Rule {
	if len(g.rules) < n {
		g.rules = make([]iam.Rule, max(n, 4096))
	}
	s := g.rules[:n:n]
	g.rules = g.rules[n:]
	return s
}

func (g *generator) chance(p float64) bool { return p > 0 && g.rng.Float64() < p }

// orgState is what the generation of one organization's policies draws on.
type orgState struct {
	id                   string
	projects             []string
	users, apps          []string
	groups               []string
	customProj, customOr []string
}

func (g *generator) org(n, nUsers, nApps int) {
	p, rng, w := g.p, g.rng, g.w
	id := "org" + strconv.Itoa(n)
	st := &orgState{id: id}
	w.Organizations = append(w.Organizations, iam.Organization{ID: id, Name: "Organization " + strconv.Itoa(n)})

	w.Projects = append(w.Projects, iam.Project{ID: id, OrganizationID: id, Name: "default"})
	st.projects = append(st.projects, id)
	for j := range p.ProjectsPerOrg {
		pid := id + "-p" + strconv.Itoa(j+1)
		w.Projects = append(w.Projects, iam.Project{ID: pid, OrganizationID: id, Name: "project-" + strconv.Itoa(j+1)})
		st.projects = append(st.projects, pid)
	}

	g.customSets(st)

	st.users = make([]string, nUsers)
	for j := range nUsers {
		uid := id + "-u" + strconv.Itoa(j)
		st.users[j] = uid
		u := iam.User{ID: uid, OrganizationID: id, Email: uid + "@example.test", Type: iam.UserMember}
		if j == 0 {
			u.Type = iam.UserOwner
		} else {
			u.Locked = g.chance(p.locked)
		}
		w.Users = append(w.Users, u)
	}
	st.apps = make([]string, nApps)
	for j := range nApps {
		aid := id + "-a" + strconv.Itoa(j)
		st.apps[j] = aid
		w.Applications = append(w.Applications, iam.Application{ID: aid, OrganizationID: id, Name: "app-" + strconv.Itoa(j), Managed: g.chance(p.managed)})
	}

	size := nUsers + nApps
	idx := make([]int, 0, 64)
	for j := range p.Groups {
		gid := id + "-g" + strconv.Itoa(j)
		st.groups = append(st.groups, gid)
		k := min(size, int(math.Round(math.Exp(math.Log(10)+rng.Float64()*(math.Log(10000)-math.Log(10))))))
		idx = g.sample(size, k, idx[:0])
		grp := iam.Group{ID: gid, OrganizationID: id, Name: "group-" + strconv.Itoa(j)}
		for _, m := range idx {
			if m < nUsers {
				grp.UserIDs = append(grp.UserIDs, st.users[m])
			} else {
				grp.ApplicationIDs = append(grp.ApplicationIDs, st.apps[m-nUsers])
			}
		}
		w.Groups = append(w.Groups, grp)
	}
	if !p.NoSpecialGroups {
		w.Groups = append(w.Groups,
			iam.Group{ID: id + "-all-users", OrganizationID: id, Name: "all users", AllUsers: true},
			iam.Group{ID: id + "-all-apps", OrganizationID: id, Name: "all applications", AllApplications: true})
		st.groups = append(st.groups, id+"-all-users", id+"-all-apps")
	}

	g.policies(st, size)
	g.apiKeys(st)
}

// sample appends k distinct integers of [0, n) to out (Floyd's algorithm).
func (g *generator) sample(n, k int, out []int) []int {
	clear(g.seen)
	for j := n - k; j < n; j++ {
		t := g.rng.IntN(j + 1)
		if _, ok := g.seen[t]; ok {
			t = j
		}
		g.seen[t] = struct{}{}
		out = append(out, t)
	}
	return out
}

func pick[T any](rng *rand.Rand, s []T) T { return s[rng.IntN(len(s))] }

func camel(s string) string {
	var b strings.Builder
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == '-' || r == '_' || r == '.' }) {
		b.WriteString(strings.ToUpper(part[:1]))
		b.WriteString(part[1:])
	}
	return b.String()
}

// customSets makes the organization's own sets: host patterns of services
// of the set's level (a few naming Scaleway's own declared permissions of
// that level), includes of earlier custom sets and of Scaleway sets of the
// same scope type, and sometimes a set declaring its service's
// permissions.
func (g *generator) customSets(st *orgState) {
	p, rng, sw := g.p, g.rng, g.sw
	var byScope [2][]string // projects, organization
	for k := range p.CustomSets {
		scope, si := iam.ScopeProjects, 0
		if g.chance(0.2) {
			scope, si = iam.ScopeOrganization, 1
		}
		service := pick(rng, hostServices[si])
		ps := iam.PermissionSet{
			Name:           "Host" + camel(service) + pick(rng, hostWords) + strconv.Itoa(k+1),
			OrganizationID: st.id,
			ScopeType:      scope,
			Description:    "A host-defined set of " + service + " permissions.",
		}
		if k == 0 && g.chance(0.5) {
			ps.Permissions = []string{service + ":*:*"}
			for _, r := range hostResources {
				for _, a := range hostActions {
					ps.Declared = append(ps.Declared, service+":"+r+":"+a)
				}
			}
		}
		for range 1 + rng.IntN(3) {
			s, r, a := service, pick(rng, hostResources), pick(rng, hostActions)
			if g.chance(0.05) {
				s = pick(rng, sw.byLevel[si])
				d := strings.Split(pick(rng, sw.declared[s]), ":")
				r, a = d[1], d[2]
			}
			if g.chance(0.25) {
				r = "*"
			}
			if g.chance(0.25) {
				a = "*"
			}
			pat := s + ":" + r + ":" + a
			if !slices.Contains(ps.Permissions, pat) {
				ps.Permissions = append(ps.Permissions, pat)
			}
		}
		if prev := byScope[si]; len(prev) > 0 && g.chance(0.35) {
			for range 1 + rng.IntN(2) {
				if inc := pick(rng, prev); !slices.Contains(ps.Includes, inc) {
					ps.Includes = append(ps.Includes, inc)
				}
			}
		}
		if g.chance(0.2) {
			pool := sw.projectSets
			if scope == iam.ScopeOrganization {
				pool = sw.orgSets
			}
			ps.Includes = append(ps.Includes, pick(rng, pool))
		}
		byScope[si] = append(byScope[si], ps.Name)
		g.w.PermissionSets = append(g.w.PermissionSets, ps)
	}
	st.customProj, st.customOr = byScope[0], byScope[1]
}

func (g *generator) policies(st *orgState, size int) {
	p, rng, w := g.p, g.rng, g.w
	f := p.PoliciesPerPrincipal * float64(size)
	n := int(f)
	if g.chance(f - float64(n)) {
		n++
	}
	for j := range n {
		pol := iam.Policy{ID: st.id + "-pol" + strconv.Itoa(j), OrganizationID: st.id}
		switch x := rng.Float64(); {
		case x < p.unattached:
		case x < p.unattached+p.groupPol && len(st.groups) > 0:
			pol.Principal = iam.GroupPrincipal(pick(rng, st.groups))
		default:
			if m := rng.IntN(size); m < len(st.users) {
				pol.Principal = iam.UserPrincipal(st.users[m])
			} else {
				pol.Principal = iam.ApplicationPrincipal(st.apps[m-len(st.users)])
			}
		}
		u := rng.Float64()
		nr := min(p.MaxRulesPerPolicy, 1+int(float64(p.MaxRulesPerPolicy)*u*u))
		pol.Rules = g.takeRules(nr)
		for r := range pol.Rules {
			pol.Rules[r] = g.rule(st)
		}
		w.Policies = append(w.Policies, pol)
	}
}

func (g *generator) rule(st *orgState) iam.Rule {
	p, rng, sw := g.p, g.rng, g.sw
	var r iam.Rule
	pool, custom := sw.projectSets, st.customProj
	switch x := rng.Float64(); {
	case x < p.orgShare:
		r.Scope.OrganizationID = st.id
		pool, custom = sw.orgSets, st.customOr
	case x < p.orgShare+p.allShare:
		r.Scope.OrganizationID = st.id
	default:
		k := 1 + rng.IntN(min(p.MaxProjectsPerRule, len(st.projects)))
		r.Scope.ProjectIDs = g.take(k)
		for i := range k {
			for {
				pid := pick(rng, st.projects)
				if !slices.Contains(r.Scope.ProjectIDs[:i], pid) {
					r.Scope.ProjectIDs[i] = pid
					break
				}
			}
		}
	}
	k := 1 + rng.IntN(p.MaxSetsPerRule)
	if rng.IntN(2) == 0 {
		k = 1 // lean towards one set
	}
	k = min(k, len(pool)+len(custom))
	r.PermissionSets = g.take(k)
	for i := range k {
		for {
			var name string
			if len(custom) > 0 && g.chance(p.customShare) {
				name = pick(rng, custom)
			} else {
				name = pick(rng, pool)
			}
			if !slices.Contains(r.PermissionSets[:i], name) {
				r.PermissionSets[i] = name
				break
			}
		}
	}
	return r
}

func (g *generator) apiKeys(st *orgState) {
	p, rng, w := g.p, g.rng, g.w
	n := 0
	add := func(bearer iam.Principal) {
		ak := st.id + "-k" + strconv.Itoa(n)
		n++
		k := iam.APIKey{
			AccessKey:        ak,
			OrganizationID:   st.id,
			Bearer:           bearer,
			SecretSHA256:     hashHex(Secret(ak)),
			DefaultProjectID: st.id,
		}
		if g.chance(0.3) {
			k.DefaultProjectID = pick(rng, st.projects)
		}
		switch x := rng.Float64(); {
		case x < p.expired*0.1:
			k.ExpiresAt = p.Now
		case x < p.expired:
			k.ExpiresAt = p.Now.Add(-time.Duration(1+rng.IntN(24*365)) * time.Hour)
		case x < 0.5:
			k.ExpiresAt = p.Now.Add(time.Duration(1+rng.IntN(24*365)) * time.Hour)
		}
		w.APIKeys = append(w.APIKeys, k)
	}
	for _, a := range st.apps {
		if g.chance(p.keys) {
			add(iam.ApplicationPrincipal(a))
		}
	}
	for _, u := range st.users {
		if g.chance(p.keys) {
			add(iam.UserPrincipal(u))
		}
	}
}

func hashHex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// Catalogue returns the permission sets organization org can use: the
// Scaleway catalogue, then the organization's own sets.
func (w *World) Catalogue(org string) []iam.PermissionSet {
	out := iam.ScalewayCatalogue()
	for _, ps := range w.PermissionSets {
		if ps.OrganizationID == org {
			out = append(out, ps)
		}
	}
	return out
}

// Grants counts the (holder, target, set) grants the policies express:
// for every rule of every policy that has a principal, each set it names
// counts once per listed project, or once for a rule on the organization
// (all projects, or the organization itself). Repeats across rules are
// counted as written; conditions are never generated.
func (w *World) Grants() int {
	n := 0
	for i := range w.Policies {
		pol := &w.Policies[i]
		if pol.Principal.IsZero() {
			continue
		}
		for _, r := range pol.Rules {
			targets := len(r.Scope.ProjectIDs)
			if r.Scope.OrganizationID != "" {
				targets = 1
			}
			n += targets * len(r.PermissionSets)
		}
	}
	return n
}

// Load writes the world into s: one s.Atomic per organization, creating in
// dependency order its organization (and so its default project), projects,
// permission sets (each after the sets of its own that it includes),
// users, applications, groups, policies and API keys. An organization that
// fails stops the load with an error naming it; those loaded before it
// stay.
func (w *World) Load(ctx context.Context, s iam.Store) error {
	type bucket struct {
		projects []*iam.Project
		sets     []*iam.PermissionSet
		users    []*iam.User
		apps     []*iam.Application
		groups   []*iam.Group
		policies []*iam.Policy
		keys     []*iam.APIKey
	}
	byOrg := make(map[string]*bucket, len(w.Organizations))
	for _, o := range w.Organizations {
		byOrg[o.ID] = &bucket{}
	}
	get := func(kind, id, org string) (*bucket, error) {
		b := byOrg[org]
		if b == nil {
			return nil, fmt.Errorf("gen: %s %q names organization %q, which the world does not hold: %w", kind, id, org, iam.ErrInvalid)
		}
		return b, nil
	}
	for i := range w.Projects {
		v := &w.Projects[i]
		b, err := get("project", v.ID, v.OrganizationID)
		if err != nil {
			return err
		}
		b.projects = append(b.projects, v)
	}
	for i := range w.PermissionSets {
		v := &w.PermissionSets[i]
		b, err := get("permission set", v.Name, v.OrganizationID)
		if err != nil {
			return err
		}
		b.sets = append(b.sets, v)
	}
	for i := range w.Users {
		v := &w.Users[i]
		b, err := get("user", v.ID, v.OrganizationID)
		if err != nil {
			return err
		}
		b.users = append(b.users, v)
	}
	for i := range w.Applications {
		v := &w.Applications[i]
		b, err := get("application", v.ID, v.OrganizationID)
		if err != nil {
			return err
		}
		b.apps = append(b.apps, v)
	}
	for i := range w.Groups {
		v := &w.Groups[i]
		b, err := get("group", v.ID, v.OrganizationID)
		if err != nil {
			return err
		}
		b.groups = append(b.groups, v)
	}
	for i := range w.Policies {
		v := &w.Policies[i]
		b, err := get("policy", v.ID, v.OrganizationID)
		if err != nil {
			return err
		}
		b.policies = append(b.policies, v)
	}
	for i := range w.APIKeys {
		v := &w.APIKeys[i]
		b, err := get("API key", v.AccessKey, v.OrganizationID)
		if err != nil {
			return err
		}
		b.keys = append(b.keys, v)
	}
	for _, o := range w.Organizations {
		b := byOrg[o.ID]
		err := s.Atomic(ctx, func(tx iam.Tx) error {
			if _, err := tx.CreateOrganization(ctx, o); err != nil {
				return err
			}
			for _, v := range b.projects {
				var err error
				if v.ID == o.ID {
					if v.Name == "default" && v.Description == "" {
						continue // as CreateOrganization made it
					}
					_, err = tx.UpdateProject(ctx, *v)
				} else {
					_, err = tx.CreateProject(ctx, *v)
				}
				if err != nil {
					return err
				}
			}
			for _, v := range includesFirst(b.sets) {
				if _, err := tx.CreatePermissionSet(ctx, *v); err != nil {
					return err
				}
			}
			for _, v := range b.users {
				if _, err := tx.CreateUser(ctx, *v); err != nil {
					return err
				}
			}
			for _, v := range b.apps {
				if _, err := tx.CreateApplication(ctx, *v); err != nil {
					return err
				}
			}
			for _, v := range b.groups {
				if _, err := tx.CreateGroup(ctx, *v); err != nil {
					return err
				}
			}
			for _, v := range b.policies {
				if _, err := tx.CreatePolicy(ctx, *v); err != nil {
					return err
				}
			}
			for _, v := range b.keys {
				if _, err := tx.CreateAPIKey(ctx, *v); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("gen: loading organization %q: %w", o.ID, err)
		}
	}
	return nil
}

// includesFirst orders an organization's own sets so that each comes after
// the sets of the same list it includes (a cycle, which the store rejects,
// keeps its given order).
func includesFirst(sets []*iam.PermissionSet) []*iam.PermissionSet {
	byName := make(map[string]*iam.PermissionSet, len(sets))
	for _, ps := range sets {
		byName[ps.Name] = ps
	}
	out := make([]*iam.PermissionSet, 0, len(sets))
	state := make(map[string]int8, len(sets)) // 1: visiting, 2: placed
	var visit func(ps *iam.PermissionSet)
	visit = func(ps *iam.PermissionSet) {
		if state[ps.Name] != 0 {
			return
		}
		state[ps.Name] = 1
		for _, inc := range ps.Includes {
			if dep := byName[inc]; dep != nil {
				visit(dep)
			}
		}
		state[ps.Name] = 2
		out = append(out, ps)
	}
	for _, ps := range sets {
		visit(ps)
	}
	return out
}

// vocab collects the segments that permission patterns name.
type vocab struct {
	services                 []string
	resources, actions       map[string][]string
	allResources, allActions []string
	declared                 map[string][]string // declared permissions by service
	seen                     map[string]bool
}

func newVocab() *vocab {
	return &vocab{resources: map[string][]string{}, actions: map[string][]string{}, declared: map[string][]string{}, seen: map[string]bool{}}
}

// addDeclared records declared permissions by service.
func (v *vocab) addDeclared(perms []string) {
	for _, d := range perms {
		s := strings.Split(d, ":")[0]
		ds := v.declared[s]
		v.add(&ds, "d\x00"+d, d)
		v.declared[s] = ds
	}
}

func (v *vocab) add(list *[]string, key, seg string) {
	if seg == "*" || v.seen[key] {
		return
	}
	v.seen[key] = true
	*list = append(*list, seg)
}

func (v *vocab) addPatterns(patterns []string) {
	for _, pat := range patterns {
		seg := strings.Split(pat, ":")
		if len(seg) != 3 {
			continue
		}
		s, r, a := seg[0], seg[1], seg[2]
		v.add(&v.services, "s\x00"+s, s)
		v.add(&v.allResources, "r\x00"+r, r)
		v.add(&v.allActions, "a\x00"+a, a)
		if s != "*" {
			rs, as := v.resources[s], v.actions[s]
			v.add(&rs, "rs\x00"+s+"\x00"+r, r)
			v.add(&as, "as\x00"+s+"\x00"+a, a)
			v.resources[s], v.actions[s] = rs, as
		}
	}
}
