package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/iamkit/iam"
)

// peer is one engine loaded with a world, and a sample of requests turned
// into that engine's own form. check answers request i of the sample; the
// benchmarks time check alone, so the translation of a request (done once,
// in prepare) is never counted. A peer is not safe for concurrent use.
type peer interface {
	// prepare translates the sample. It may extend the engine's data
	// with what the requests name (see the Cedar translation).
	prepare(reqs []iam.Request) error
	check(i int) (bool, error)
	// describe says what the engine holds, for a disagreement report.
	describe(i int) string
}

// Engines, in the order of the benchmark and the report.
const (
	engineIAM    = "iam"
	engineBare   = "bare"
	engineCasbin = "casbin"
	engineCedar  = "cedar"
	engineOPA    = "opa"
)

var engines = []string{engineIAM, engineBare, engineCasbin, engineCedar, engineOPA}

// newPeer loads m into the named engine.
func newPeer(ctx context.Context, name string, m *model) (peer, error) {
	switch name {
	case engineIAM:
		return newIAMPeer(ctx, m)
	case engineBare:
		return newBarePeer(m), nil
	case engineCasbin:
		return newCasbinPeer(m)
	case engineCedar:
		return newCedarPeer(m)
	case engineOPA:
		return newOPAPeer(ctx, m)
	}
	return nil, fmt.Errorf("bench: unknown engine %q", name)
}

// iamPeer is the library itself: the world loaded into a MemoryStore, and
// an Evaluator over it with the world's clock.
type iamPeer struct {
	ev   *iam.Evaluator
	reqs []iam.Request
}

func newIAMPeer(ctx context.Context, m *model) (*iamPeer, error) {
	store := iam.NewMemoryStore()
	if err := m.w.Load(ctx, store); err != nil {
		return nil, err
	}
	now := m.now
	ev, err := iam.NewEvaluator(ctx, store, iam.WithClock(func() time.Time { return now }))
	if err != nil {
		return nil, err
	}
	return &iamPeer{ev: ev}, nil
}

func (p *iamPeer) prepare(reqs []iam.Request) error { p.reqs = reqs; return nil }

func (p *iamPeer) check(i int) (bool, error) {
	d, err := p.ev.Check(context.Background(), p.reqs[i])
	return d.Allowed, err
}

func (p *iamPeer) describe(i int) string {
	exp, err := p.ev.Explain(context.Background(), p.reqs[i])
	if err != nil {
		return "  iam explain: " + err.Error() + "\n"
	}
	return fmt.Sprintf("  iam explain: %+v\n", exp)
}

// barePeer is the floor every engine is measured against: three nested
// string-keyed maps, principal → target → permission → allowed, holding
// every grant the world's policies write (holder, project or organization,
// set name as written), so that its size grows with the world's, and,
// written over them, the exact answer of every request of the sample, as
// the model computes it. It answers nothing else: it is the cost of the
// lookup alone. Organization-level targets have maps of their own, since
// an organization and its default project share their ID.
type barePeer struct {
	m        *model
	proj     map[string]map[string]map[string]bool
	org      map[string]map[string]map[string]bool
	reqs     []iam.Request
	nEntries int
}

func newBarePeer(m *model) *barePeer {
	b := &barePeer{m: m, proj: map[string]map[string]map[string]bool{}, org: map[string]map[string]map[string]bool{}}
	for _, om := range m.orgList {
		for h, rules := range om.rules {
			for _, r := range rules {
				for _, s := range r.PermissionSets {
					if r.Scope.OrganizationID != "" {
						b.put(b.org, h, r.Scope.OrganizationID, s, true)
						continue
					}
					for _, pid := range r.Scope.ProjectIDs {
						b.put(b.proj, h, pid, s, true)
					}
				}
			}
		}
	}
	return b
}

func (b *barePeer) put(top map[string]map[string]map[string]bool, p, t, perm string, v bool) {
	byTarget := top[p]
	if byTarget == nil {
		byTarget = map[string]map[string]bool{}
		top[p] = byTarget
	}
	perms := byTarget[t]
	if perms == nil {
		perms = map[string]bool{}
		byTarget[t] = perms
	}
	if _, ok := perms[perm]; !ok {
		b.nEntries++
	}
	perms[perm] = v
}

func (b *barePeer) prepare(reqs []iam.Request) error {
	for i := range reqs {
		r := &reqs[i]
		if r.ProjectID != "" {
			b.put(b.proj, r.Principal.ID, r.ProjectID, r.Permission, b.m.allowed(r))
		} else {
			b.put(b.org, r.Principal.ID, r.OrganizationID, r.Permission, b.m.allowed(r))
		}
	}
	b.reqs = reqs
	return nil
}

func (b *barePeer) check(i int) (bool, error) {
	r := &b.reqs[i]
	top, t := b.proj, r.ProjectID
	if t == "" {
		top, t = b.org, r.OrganizationID
	}
	return top[r.Principal.ID][t][r.Permission], nil
}

func (b *barePeer) describe(i int) string {
	return fmt.Sprintf("  bare: %d entries; the model's reading:\n%s", b.nEntries, b.m.explain(&b.reqs[i]))
}
