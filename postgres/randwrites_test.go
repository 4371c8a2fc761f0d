package postgres

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/iamkit/iam"
)

// The random writes of the differential tests: a small, fixed space of
// IDs, emails and names, so that writes collide, refer across
// organizations, break the owner rules and cascade, and most are valid.
// Every value is given its ID and secret, so that two stores given the
// same write store the same thing.

var (
	rwOrgs     = []string{"o1", "o2", "o3"}
	rwProjects = []string{"p1", "p2", "p3", "p4", "o1", "o2"}
	rwUsers    = []string{"u1", "u2", "u3", "u4", "u5", "u6"}
	rwApps     = []string{"a1", "a2", "a3"}
	rwGroups   = []string{"g1", "g2", "g3"}
	rwPolicies = []string{"pol1", "pol2", "pol3", "pol4", "pol5"}
	rwKeys     = []string{"k1", "k2", "k3"}
	rwEmails   = []string{"ana@x.test", "ANA@x.test", "bo@x.test", "cy@x.test", "dé@x.test", "DÉ@x.test", "not-an-email"}
	rwNames    = []string{"Ops", "ops", "Billing", "Dev", ""}
	rwSets     = []string{"InstancesFullAccess", "ObjectStorageReadOnly", "InstancesFullAccess", "ObjectStorageReadOnly",
		"HostShopRead", "HostShopRead", "BillingReadOnly", "IAMManager", "ProjectManager", "HostLedgerAll", "NoSuchSet"}
	rwTags = [][]string{nil, {}, {"a"}, {"a", "b"}}

	// rwHome is the organization each ID belongs to most of the time.
	rwHome = map[string]string{
		"p1": "o1", "p2": "o1", "u1": "o1", "u2": "o1", "u3": "o1", "a1": "o1", "g1": "o1", "g2": "o1",
		"pol1": "o1", "pol2": "o1", "pol3": "o1", "k1": "o1", "k2": "o1",
		"p3": "o2", "p4": "o2", "u4": "o2", "u5": "o2", "u6": "o2", "a2": "o2", "a3": "o2", "g3": "o2",
		"pol4": "o2", "pol5": "o2", "k3": "o2",
	}
)

// rwSetup is what every sequence starts from: two organizations with
// their owners.
func rwSetup() []rwOp {
	var ops []rwOp
	for _, o := range []struct{ org, owner, email string }{{"o1", "u1", "owner@o1.test"}, {"o2", "u4", "owner@o2.test"}} {
		org := iam.Organization{ID: o.org, Name: o.org}
		owner := iam.User{ID: o.owner, OrganizationID: o.org, Email: o.email, Type: iam.UserOwner}
		ops = append(ops,
			rwOp{desc: "CreateOrganization " + o.org, calls: []call{func(ctx context.Context, e iam.Entities) (any, error) { return e.CreateOrganization(ctx, org) }}},
			rwOp{desc: "CreateUser " + o.owner, calls: []call{func(ctx context.Context, e iam.Entities) (any, error) { return e.CreateUser(ctx, owner) }}})
	}
	return ops
}

// orgOf returns the organization of id most of the time, another one
// sometimes (a write across organizations, refused).
func (g *rwGen) orgOf(id string) string {
	if home, ok := rwHome[id]; ok && g.rng.IntN(10) != 0 {
		return home
	}
	return pickFrom(g, rwOrgs)
}

// of picks an ID of s that belongs to org, most of the time.
func (g *rwGen) of(org string, s []string) string {
	if g.rng.IntN(10) != 0 {
		var mine []string
		for _, id := range s {
			if rwHome[id] == org || id == org {
				mine = append(mine, id)
			}
		}
		if len(mine) > 0 {
			return pickFrom(g, mine)
		}
	}
	return pickFrom(g, s)
}

// rwOp is one write: a store call, or several in one Atomic.
type rwOp struct {
	desc  string
	calls []func(ctx context.Context, e iam.Entities) (any, error)
}

// run applies op to store and returns what it returned: the value of a
// single call, and the error rendered (with its sentinels).
func (op rwOp) run(ctx context.Context, store iam.Store) string {
	if len(op.calls) == 1 {
		v, err := op.calls[0](ctx, store)
		return outcome(v, err)
	}
	var vals []any
	err := store.Atomic(ctx, func(tx iam.Tx) error {
		vals = vals[:0]
		for _, c := range op.calls {
			v, err := c(ctx, tx)
			if err != nil {
				return err
			}
			vals = append(vals, v)
		}
		return nil
	})
	return outcome(vals, err)
}

func outcome(v any, err error) string {
	if err != nil {
		return "error: " + err.Error() + sentinels(err)
	}
	return fmt.Sprintf("%#v", v)
}

func sentinels(err error) string {
	var b strings.Builder
	for _, s := range []error{iam.ErrInvalid, iam.ErrNotFound, iam.ErrConflict, iam.ErrForbidden,
		iam.ErrUnknownPermission, iam.ErrScopeMismatch, iam.ErrDelivery} {
		if errors.Is(err, s) {
			b.WriteString(" [" + s.Error() + "]")
		}
	}
	return b.String()
}

// rwGen draws random writes.
type rwGen struct {
	rng *rand.Rand
	now time.Time
	// exists tells whether the oracle store holds an entity, so that most
	// creations are of new IDs and most updates of existing ones.
	exists func(k iam.Kind, id string) bool
}

// existsIn answers rwGen.exists from store.
func existsIn(store iam.Store) func(k iam.Kind, id string) bool {
	return func(k iam.Kind, id string) bool {
		ctx := context.Background()
		var err error
		switch k {
		case iam.KindOrganization:
			_, err = store.GetOrganization(ctx, id)
		case iam.KindProject:
			_, err = store.GetProject(ctx, id)
		case iam.KindUser:
			_, err = store.GetUser(ctx, id)
		case iam.KindApplication:
			_, err = store.GetApplication(ctx, id)
		case iam.KindGroup:
			_, err = store.GetGroup(ctx, id)
		case iam.KindPolicy:
			_, err = store.GetPolicy(ctx, id)
		case iam.KindAPIKey:
			_, err = store.GetAPIKey(ctx, id)
		}
		return err == nil
	}
}

func newRWGen(seed uint64) *rwGen {
	return &rwGen{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), now: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)}
}

func pickFrom[T any](g *rwGen, s []T) T { return s[g.rng.IntN(len(s))] }

func (g *rwGen) some(s []string, max int) []string {
	n := g.rng.IntN(max + 1)
	if n == 0 && g.rng.IntN(2) == 0 {
		return nil
	}
	out := []string{}
	for range n {
		v := pickFrom(g, s)
		dup := false
		for _, x := range out {
			dup = dup || x == v
		}
		if !dup {
			out = append(out, v)
		}
	}
	return out
}

// members picks up to max distinct IDs of s, mostly of org; nil or empty
// when it picks none.
func (g *rwGen) members(org string, s []string, max int) []string {
	n := g.rng.IntN(max + 1)
	if n == 0 && g.rng.IntN(2) == 0 {
		return nil
	}
	out := []string{}
	for range n {
		if v := g.of(org, s); !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

func (g *rwGen) principal(org string) iam.Principal {
	switch g.rng.IntN(5) {
	case 0:
		return iam.UserPrincipal(g.of(org, rwUsers))
	case 1:
		return iam.ApplicationPrincipal(g.of(org, rwApps))
	case 2, 3:
		return iam.GroupPrincipal(g.of(org, rwGroups))
	}
	return iam.Principal{}
}

func (g *rwGen) rule(org string) iam.Rule {
	r := iam.Rule{PermissionSets: g.some(rwSets, 2)}
	if g.rng.IntN(3) == 0 {
		r.Scope = iam.OrganizationScope(org)
		return r
	}
	r.Scope = iam.ProjectsScope(g.of(org, rwProjects))
	if g.rng.IntN(3) == 0 {
		if p := g.of(org, rwProjects); p != r.Scope.ProjectIDs[0] {
			r.Scope.ProjectIDs = append(r.Scope.ProjectIDs, p)
		}
	}
	return r
}

func (g *rwGen) policy(id string) iam.Policy {
	org := g.orgOf(id)
	p := iam.Policy{ID: id, OrganizationID: org, Name: pickFrom(g, rwNames), Principal: g.principal(org), Tags: pickFrom(g, rwTags)}
	n := g.rng.IntN(4)
	if n > 0 || g.rng.IntN(2) == 0 {
		p.Rules = []iam.Rule{}
	}
	for range n {
		p.Rules = append(p.Rules, g.rule(org))
	}
	return p
}

func (g *rwGen) user(id string) iam.User {
	u := iam.User{ID: id, OrganizationID: g.orgOf(id), Email: pickFrom(g, rwEmails), Type: iam.UserMember, Tags: pickFrom(g, rwTags)}
	switch g.rng.IntN(12) {
	case 0:
		u.Type = iam.UserOwner
	case 1:
		u.Locked = true
	case 2:
		u.Type = ""
	}
	if g.rng.IntN(3) == 0 {
		u.Username = pickFrom(g, rwNames)
	}
	return u
}

func (g *rwGen) group(id string) iam.Group {
	org := g.orgOf(id)
	gr := iam.Group{ID: id, OrganizationID: org, Name: pickFrom(g, rwNames), Tags: pickFrom(g, rwTags)}
	switch g.rng.IntN(5) {
	case 0:
		gr.AllUsers = true
	case 1:
		gr.AllApplications = true
	default:
		gr.UserIDs = g.members(org, rwUsers, 3)
		gr.ApplicationIDs = g.members(org, rwApps, 2)
	}
	return gr
}

func (g *rwGen) set() iam.PermissionSet {
	org := g.of("", []string{"o1", "o2", "o1", "o2", "o3"})
	if g.rng.IntN(2) == 0 {
		return iam.PermissionSet{Name: "HostShopRead", OrganizationID: org, ScopeType: iam.ScopeProjects,
			Permissions: []string{"shop:*:read"}, Description: pickFrom(g, rwNames), Categories: pickFrom(g, rwTags)}
	}
	s := iam.PermissionSet{Name: "HostLedgerAll", OrganizationID: org, ScopeType: iam.ScopeOrganization,
		Permissions: []string{"ledger:*:*"}, Includes: []string{}}
	if g.rng.IntN(3) == 0 {
		s.Declared = []string{"ledger:entry:write", "ledger:entry:read"}
	}
	if g.rng.IntN(4) == 0 {
		s.Includes = []string{"HostShopRead"} // a set of the other level: refused
	}
	return s
}

func (g *rwGen) key(id string) iam.APIKey {
	org := g.orgOf(id)
	k := iam.APIKey{AccessKey: id, OrganizationID: org, Description: pickFrom(g, rwNames)}
	if g.rng.IntN(2) == 0 {
		k.Bearer = iam.UserPrincipal(g.of(org, rwUsers))
	} else {
		k.Bearer = iam.ApplicationPrincipal(g.of(org, rwApps))
	}
	if g.rng.IntN(2) == 0 {
		k.SecretSHA256 = fmt.Sprintf("%064x", g.rng.Uint64())
	} else {
		k.Secret = fmt.Sprintf("secret-%d", g.rng.Uint64())
	}
	if g.rng.IntN(3) == 0 {
		k.ExpiresAt = g.now.Add(time.Duration(g.rng.IntN(3)-1) * time.Hour)
	}
	if g.rng.IntN(3) == 0 {
		k.DefaultProjectID = g.of(org, rwProjects)
	}
	return k
}

type call = func(ctx context.Context, e iam.Entities) (any, error)

// id picks an ID of ids: one that exists (or not, for a creation) most of
// the time, as the oracle store says.
func (g *rwGen) id(k iam.Kind, ids []string, existing bool) string {
	if g.exists != nil && g.rng.IntN(5) != 0 {
		var fit []string
		for _, id := range ids {
			if g.exists(k, id) == existing {
				fit = append(fit, id)
			}
		}
		if len(fit) > 0 {
			return pickFrom(g, fit)
		}
	}
	return pickFrom(g, ids)
}

// one draws a single store call.
func (g *rwGen) one() (string, call) {
	op := g.rng.IntN(8) // 0-2 create, 3-5 update, 6 delete, 7 read
	create, del := op < 3, op == 6
	if op == 7 {
		id, org := g.id(iam.KindUser, rwUsers, true), pickFrom(g, rwOrgs)
		return fmt.Sprintf("GetUser(%q); ListGroups(%q)", id, org), func(ctx context.Context, e iam.Entities) (any, error) {
			u, err := e.GetUser(ctx, id)
			if err != nil {
				return nil, err
			}
			gs, err := e.ListGroups(ctx, org)
			return []any{u, gs}, err
		}
	}
	switch g.rng.IntN(16) {
	case 0:
		id := g.id(iam.KindOrganization, rwOrgs, !create)
		o := iam.Organization{ID: id, Name: pickFrom(g, rwNames)}
		switch {
		case create:
			return fmt.Sprintf("CreateOrganization(%+v)", o), func(ctx context.Context, e iam.Entities) (any, error) { return e.CreateOrganization(ctx, o) }
		case del && (id == "o3" || g.rng.IntN(4) == 0): // rarely: it empties an organization
			return fmt.Sprintf("DeleteOrganization(%q)", id), func(ctx context.Context, e iam.Entities) (any, error) { return nil, e.DeleteOrganization(ctx, id) }
		}
		return fmt.Sprintf("UpdateOrganization(%+v)", o), func(ctx context.Context, e iam.Entities) (any, error) { return e.UpdateOrganization(ctx, o) }
	case 1, 2:
		id := g.id(iam.KindProject, rwProjects, !create)
		p := iam.Project{ID: id, OrganizationID: g.orgOf(id), Name: pickFrom(g, rwNames), Description: pickFrom(g, rwNames)}
		switch {
		case create:
			return fmt.Sprintf("CreateProject(%+v)", p), func(ctx context.Context, e iam.Entities) (any, error) { return e.CreateProject(ctx, p) }
		case del:
			return fmt.Sprintf("DeleteProject(%q)", id), func(ctx context.Context, e iam.Entities) (any, error) { return nil, e.DeleteProject(ctx, id) }
		}
		return fmt.Sprintf("UpdateProject(%+v)", p), func(ctx context.Context, e iam.Entities) (any, error) { return e.UpdateProject(ctx, p) }
	case 3, 4, 5:
		id := g.id(iam.KindUser, rwUsers, !create)
		u := g.user(id)
		switch {
		case create:
			return fmt.Sprintf("CreateUser(%+v)", u), func(ctx context.Context, e iam.Entities) (any, error) { return e.CreateUser(ctx, u) }
		case del:
			return fmt.Sprintf("DeleteUser(%q)", id), func(ctx context.Context, e iam.Entities) (any, error) { return nil, e.DeleteUser(ctx, id) }
		}
		return fmt.Sprintf("UpdateUser(%+v)", u), func(ctx context.Context, e iam.Entities) (any, error) { return e.UpdateUser(ctx, u) }
	case 6:
		id := g.id(iam.KindApplication, rwApps, !create)
		a := iam.Application{ID: id, OrganizationID: g.orgOf(id), Name: pickFrom(g, rwNames[:4]), Managed: g.rng.IntN(4) == 0, Tags: pickFrom(g, rwTags)}
		switch {
		case create:
			return fmt.Sprintf("CreateApplication(%+v)", a), func(ctx context.Context, e iam.Entities) (any, error) { return e.CreateApplication(ctx, a) }
		case del:
			return fmt.Sprintf("DeleteApplication(%q)", id), func(ctx context.Context, e iam.Entities) (any, error) { return nil, e.DeleteApplication(ctx, id) }
		}
		return fmt.Sprintf("UpdateApplication(%+v)", a), func(ctx context.Context, e iam.Entities) (any, error) { return e.UpdateApplication(ctx, a) }
	case 7, 8:
		id := g.id(iam.KindGroup, rwGroups, !create)
		gr := g.group(id)
		switch {
		case create:
			return fmt.Sprintf("CreateGroup(%+v)", gr), func(ctx context.Context, e iam.Entities) (any, error) { return e.CreateGroup(ctx, gr) }
		case del:
			return fmt.Sprintf("DeleteGroup(%q)", id), func(ctx context.Context, e iam.Entities) (any, error) { return nil, e.DeleteGroup(ctx, id) }
		}
		return fmt.Sprintf("UpdateGroup(%+v)", gr), func(ctx context.Context, e iam.Entities) (any, error) { return e.UpdateGroup(ctx, gr) }
	case 9, 10, 11, 12:
		id := g.id(iam.KindPolicy, rwPolicies, !create)
		p := g.policy(id)
		switch {
		case create:
			return fmt.Sprintf("CreatePolicy(%+v)", p), func(ctx context.Context, e iam.Entities) (any, error) { return e.CreatePolicy(ctx, p) }
		case del:
			return fmt.Sprintf("DeletePolicy(%q)", id), func(ctx context.Context, e iam.Entities) (any, error) { return nil, e.DeletePolicy(ctx, id) }
		}
		return fmt.Sprintf("UpdatePolicy(%+v)", p), func(ctx context.Context, e iam.Entities) (any, error) { return e.UpdatePolicy(ctx, p) }
	case 13:
		ps := g.set()
		switch {
		case create:
			return fmt.Sprintf("CreatePermissionSet(%+v)", ps), func(ctx context.Context, e iam.Entities) (any, error) { return e.CreatePermissionSet(ctx, ps) }
		case del:
			return fmt.Sprintf("DeletePermissionSet(%q, %q)", ps.OrganizationID, ps.Name), func(ctx context.Context, e iam.Entities) (any, error) {
				return nil, e.DeletePermissionSet(ctx, ps.OrganizationID, ps.Name)
			}
		}
		return fmt.Sprintf("UpdatePermissionSet(%+v)", ps), func(ctx context.Context, e iam.Entities) (any, error) { return e.UpdatePermissionSet(ctx, ps) }
	}
	id := g.id(iam.KindAPIKey, rwKeys, !create)
	k := g.key(id)
	switch {
	case create:
		return fmt.Sprintf("CreateAPIKey(%+v)", k), func(ctx context.Context, e iam.Entities) (any, error) { return e.CreateAPIKey(ctx, k) }
	case del:
		return fmt.Sprintf("DeleteAPIKey(%q)", id), func(ctx context.Context, e iam.Entities) (any, error) { return nil, e.DeleteAPIKey(ctx, id) }
	}
	k.Secret = ""
	if g.rng.IntN(2) == 0 {
		k.SecretSHA256 = ""
	}
	return fmt.Sprintf("UpdateAPIKey(%+v)", k), func(ctx context.Context, e iam.Entities) (any, error) { return e.UpdateAPIKey(ctx, k) }
}

// next draws a write: mostly one call, sometimes a transaction of a few
// (an ownership transfer among them).
func (g *rwGen) next() rwOp {
	switch g.rng.IntN(10) {
	case 0:
		org, from, to := pickFrom(g, rwOrgs), pickFrom(g, rwUsers), pickFrom(g, rwUsers)
		set := func(id string, t iam.UserType) call {
			return func(ctx context.Context, e iam.Entities) (any, error) {
				u, err := e.GetUser(ctx, id)
				if err != nil {
					return nil, err
				}
				u.Type = t
				return e.UpdateUser(ctx, u)
			}
		}
		return rwOp{desc: fmt.Sprintf("Atomic(transfer the ownership of %s from %s to %s)", org, from, to),
			calls: []call{set(from, iam.UserMember), set(to, iam.UserOwner)}}
	case 1:
		n := 2 + g.rng.IntN(3)
		op := rwOp{desc: "Atomic("}
		for i := range n {
			d, c := g.one()
			if i > 0 {
				op.desc += "; "
			}
			op.desc += d
			op.calls = append(op.calls, c)
		}
		op.desc += ")"
		return op
	}
	d, c := g.one()
	return rwOp{desc: d, calls: []call{c}}
}

// rwRequests are the checks the differential tests compare: every
// principal of the ID space, as itself and through its keys, for a few
// permissions at every target.
func rwRequests() []iam.Request {
	var callers []iam.Principal
	for _, id := range rwUsers {
		callers = append(callers, iam.UserPrincipal(id))
	}
	for _, id := range rwApps {
		callers = append(callers, iam.ApplicationPrincipal(id))
	}
	for _, id := range rwGroups {
		callers = append(callers, iam.GroupPrincipal(id))
	}
	for _, id := range rwKeys {
		callers = append(callers, iam.APIKeyPrincipal(id))
	}
	perms := []string{"InstancesFullAccess", "instance:server:create", "ObjectStorageReadOnly", "BillingReadOnly",
		"iam:user:create", "shop:item:read", "ledger:entry:write", "HostShopRead", "HostLedgerAll"}
	var out []iam.Request
	for _, c := range callers {
		for _, p := range perms {
			for _, pr := range rwProjects {
				out = append(out, iam.Request{Principal: c, ProjectID: pr, Permission: p})
			}
			for _, o := range rwOrgs {
				out = append(out, iam.Request{Principal: c, OrganizationID: o, Permission: p})
			}
		}
	}
	return out
}
