package postgres

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
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
	rwSets     = []string{"InstancesFullAccess", "ObjectStorageReadOnly", "BillingReadOnly", "IAMManager",
		"ProjectManager", "HostShopRead", "HostLedgerAll", "NoSuchSet"}
	rwTags = [][]string{nil, {}, {"a"}, {"a", "b"}}
)

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

func (g *rwGen) principal() iam.Principal {
	switch g.rng.IntN(5) {
	case 0:
		return iam.UserPrincipal(pickFrom(g, rwUsers))
	case 1:
		return iam.ApplicationPrincipal(pickFrom(g, rwApps))
	case 2, 3:
		return iam.GroupPrincipal(pickFrom(g, rwGroups))
	}
	return iam.Principal{}
}

func (g *rwGen) rule(org string) iam.Rule {
	r := iam.Rule{PermissionSets: g.some(rwSets, 2)}
	if g.rng.IntN(3) == 0 {
		r.Scope = iam.OrganizationScope(org)
	} else {
		r.Scope = iam.ProjectsScope(g.some(rwProjects, 2)...)
	}
	return r
}

func (g *rwGen) policy(id string) iam.Policy {
	org := pickFrom(g, rwOrgs)
	p := iam.Policy{ID: id, OrganizationID: org, Name: pickFrom(g, rwNames), Principal: g.principal(), Tags: pickFrom(g, rwTags)}
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
	u := iam.User{ID: id, OrganizationID: pickFrom(g, rwOrgs), Email: pickFrom(g, rwEmails), Type: iam.UserMember, Tags: pickFrom(g, rwTags)}
	switch g.rng.IntN(8) {
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
	gr := iam.Group{ID: id, OrganizationID: pickFrom(g, rwOrgs), Name: pickFrom(g, rwNames), Tags: pickFrom(g, rwTags)}
	switch g.rng.IntN(4) {
	case 0:
		gr.AllUsers = true
	case 1:
		gr.AllApplications = true
	default:
		gr.UserIDs = g.some(rwUsers, 3)
		gr.ApplicationIDs = g.some(rwApps, 2)
	}
	return gr
}

func (g *rwGen) set() iam.PermissionSet {
	org := pickFrom(g, rwOrgs)
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
	k := iam.APIKey{AccessKey: id, OrganizationID: pickFrom(g, rwOrgs), Description: pickFrom(g, rwNames)}
	if g.rng.IntN(2) == 0 {
		k.Bearer = iam.UserPrincipal(pickFrom(g, rwUsers))
	} else {
		k.Bearer = iam.ApplicationPrincipal(pickFrom(g, rwApps))
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
		k.DefaultProjectID = pickFrom(g, rwProjects)
	}
	return k
}

type call = func(ctx context.Context, e iam.Entities) (any, error)

// one draws a single store call.
func (g *rwGen) one() (string, call) {
	switch g.rng.IntN(24) {
	case 0:
		o := iam.Organization{ID: pickFrom(g, rwOrgs), Name: pickFrom(g, rwNames)}
		return fmt.Sprintf("CreateOrganization(%+v)", o), func(ctx context.Context, e iam.Entities) (any, error) { return e.CreateOrganization(ctx, o) }
	case 1:
		o := iam.Organization{ID: pickFrom(g, rwOrgs), Name: pickFrom(g, rwNames)}
		return fmt.Sprintf("UpdateOrganization(%+v)", o), func(ctx context.Context, e iam.Entities) (any, error) { return e.UpdateOrganization(ctx, o) }
	case 2:
		id := pickFrom(g, rwOrgs)
		if g.rng.IntN(3) != 0 {
			break // rarely: it empties an organization
		}
		return fmt.Sprintf("DeleteOrganization(%q)", id), func(ctx context.Context, e iam.Entities) (any, error) { return nil, e.DeleteOrganization(ctx, id) }
	case 3, 4:
		p := iam.Project{ID: pickFrom(g, rwProjects), OrganizationID: pickFrom(g, rwOrgs), Name: pickFrom(g, rwNames), Description: pickFrom(g, rwNames)}
		if g.rng.IntN(2) == 0 {
			return fmt.Sprintf("CreateProject(%+v)", p), func(ctx context.Context, e iam.Entities) (any, error) { return e.CreateProject(ctx, p) }
		}
		return fmt.Sprintf("UpdateProject(%+v)", p), func(ctx context.Context, e iam.Entities) (any, error) { return e.UpdateProject(ctx, p) }
	case 5:
		id := pickFrom(g, rwProjects)
		return fmt.Sprintf("DeleteProject(%q)", id), func(ctx context.Context, e iam.Entities) (any, error) { return nil, e.DeleteProject(ctx, id) }
	case 6, 7:
		u := g.user(pickFrom(g, rwUsers))
		return fmt.Sprintf("CreateUser(%+v)", u), func(ctx context.Context, e iam.Entities) (any, error) { return e.CreateUser(ctx, u) }
	case 8:
		u := g.user(pickFrom(g, rwUsers))
		return fmt.Sprintf("UpdateUser(%+v)", u), func(ctx context.Context, e iam.Entities) (any, error) { return e.UpdateUser(ctx, u) }
	case 9:
		id := pickFrom(g, rwUsers)
		return fmt.Sprintf("DeleteUser(%q)", id), func(ctx context.Context, e iam.Entities) (any, error) { return nil, e.DeleteUser(ctx, id) }
	case 10:
		a := iam.Application{ID: pickFrom(g, rwApps), OrganizationID: pickFrom(g, rwOrgs), Name: pickFrom(g, rwNames[:4]), Managed: g.rng.IntN(4) == 0, Tags: pickFrom(g, rwTags)}
		if g.rng.IntN(2) == 0 {
			return fmt.Sprintf("CreateApplication(%+v)", a), func(ctx context.Context, e iam.Entities) (any, error) { return e.CreateApplication(ctx, a) }
		}
		return fmt.Sprintf("UpdateApplication(%+v)", a), func(ctx context.Context, e iam.Entities) (any, error) { return e.UpdateApplication(ctx, a) }
	case 11:
		id := pickFrom(g, rwApps)
		return fmt.Sprintf("DeleteApplication(%q)", id), func(ctx context.Context, e iam.Entities) (any, error) { return nil, e.DeleteApplication(ctx, id) }
	case 12, 13:
		gr := g.group(pickFrom(g, rwGroups))
		if g.rng.IntN(2) == 0 {
			return fmt.Sprintf("CreateGroup(%+v)", gr), func(ctx context.Context, e iam.Entities) (any, error) { return e.CreateGroup(ctx, gr) }
		}
		return fmt.Sprintf("UpdateGroup(%+v)", gr), func(ctx context.Context, e iam.Entities) (any, error) { return e.UpdateGroup(ctx, gr) }
	case 14:
		id := pickFrom(g, rwGroups)
		return fmt.Sprintf("DeleteGroup(%q)", id), func(ctx context.Context, e iam.Entities) (any, error) { return nil, e.DeleteGroup(ctx, id) }
	case 15, 16, 17:
		p := g.policy(pickFrom(g, rwPolicies))
		if g.rng.IntN(2) == 0 {
			return fmt.Sprintf("CreatePolicy(%+v)", p), func(ctx context.Context, e iam.Entities) (any, error) { return e.CreatePolicy(ctx, p) }
		}
		return fmt.Sprintf("UpdatePolicy(%+v)", p), func(ctx context.Context, e iam.Entities) (any, error) { return e.UpdatePolicy(ctx, p) }
	case 18:
		id := pickFrom(g, rwPolicies)
		return fmt.Sprintf("DeletePolicy(%q)", id), func(ctx context.Context, e iam.Entities) (any, error) { return nil, e.DeletePolicy(ctx, id) }
	case 19:
		s := g.set()
		if g.rng.IntN(2) == 0 {
			return fmt.Sprintf("CreatePermissionSet(%+v)", s), func(ctx context.Context, e iam.Entities) (any, error) { return e.CreatePermissionSet(ctx, s) }
		}
		return fmt.Sprintf("UpdatePermissionSet(%+v)", s), func(ctx context.Context, e iam.Entities) (any, error) { return e.UpdatePermissionSet(ctx, s) }
	case 20:
		org, name := pickFrom(g, rwOrgs), pickFrom(g, []string{"HostShopRead", "HostLedgerAll"})
		return fmt.Sprintf("DeletePermissionSet(%q, %q)", org, name), func(ctx context.Context, e iam.Entities) (any, error) {
			return nil, e.DeletePermissionSet(ctx, org, name)
		}
	case 21:
		k := g.key(pickFrom(g, rwKeys))
		if g.rng.IntN(2) == 0 {
			return fmt.Sprintf("CreateAPIKey(%+v)", k), func(ctx context.Context, e iam.Entities) (any, error) { return e.CreateAPIKey(ctx, k) }
		}
		k.Secret = ""
		return fmt.Sprintf("UpdateAPIKey(%+v)", k), func(ctx context.Context, e iam.Entities) (any, error) { return e.UpdateAPIKey(ctx, k) }
	case 22:
		id := pickFrom(g, rwKeys)
		return fmt.Sprintf("DeleteAPIKey(%q)", id), func(ctx context.Context, e iam.Entities) (any, error) { return nil, e.DeleteAPIKey(ctx, id) }
	case 23:
		// Reads, inside transactions too.
		id := pickFrom(g, rwUsers)
		org := pickFrom(g, rwOrgs)
		return fmt.Sprintf("GetUser(%q); ListGroups(%q)", id, org), func(ctx context.Context, e iam.Entities) (any, error) {
			u, err := e.GetUser(ctx, id)
			if err != nil {
				return nil, err
			}
			gs, err := e.ListGroups(ctx, org)
			return []any{u, gs}, err
		}
	}
	o := iam.Organization{ID: pickFrom(g, rwOrgs), Name: "Org"}
	return fmt.Sprintf("CreateOrganization(%+v)", o), func(ctx context.Context, e iam.Entities) (any, error) { return e.CreateOrganization(ctx, o) }
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
