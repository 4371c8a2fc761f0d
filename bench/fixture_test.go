package bench

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iamkit/iam"
	"github.com/iamkit/iam/internal/gen"
)

// worldConfig is the world of the comparison at a number of principals:
// organizations of up to 10,000 principals (at least two, so that
// cross-organization requests occur), 50 projects each (the default one
// included), 10 explicit groups each beside the two special ones, 0.7
// policies per principal (about 3,000 grants at 1,000 principals, as in the
// issue's measurements) and 20 custom sets per organization.
func worldConfig(principals int) gen.Config {
	return gen.Config{
		Seed:                 1,
		Organizations:        max(2, principals/10_000),
		Principals:           principals,
		ProjectsPerOrg:       49,
		Groups:               10,
		PoliciesPerPrincipal: 0.7,
		CustomSets:           20,
	}
}

// A fixture is one generated world, its model, its iam Evaluator and a
// sample of its requests that iam answers without error (allow or deny;
// requests iam rejects with an error are left out of every comparison),
// built once per test binary, whatever asks for it first.
type fixture struct {
	principals int
	nRequests  int // asked of World.Requests before the errors are dropped

	once sync.Once
	err  error

	w       *gen.World
	m       *model
	iam     *iamPeer
	reqs    []iam.Request
	want    []bool        // iam's answers
	dropped int           // requests iam answered with an error
	setup   time.Duration // building all of the above

	mu    sync.Mutex
	peers map[string]*peerEntry
}

type peerEntry struct {
	once  sync.Once
	p     peer
	err   error
	setup time.Duration

	// For the benchmark, which runs once per -count on the same entry:
	// whether the spot check was made, and where in the sample the last
	// run stopped, so that slow engines (a few checks a run) do not time
	// the first requests of the sample over and over.
	verified bool
	cursor   int
}

var (
	fixturesMu sync.Mutex
	fixtures   = map[string]*fixture{}
)

// getFixture returns the fixture of a world of n principals with a sample
// drawn from nRequests generated requests; the same arguments give the same
// (cached) fixture.
func getFixture(tb testing.TB, n, nRequests int) *fixture {
	tb.Helper()
	key := fmt.Sprintf("%d/%d", n, nRequests)
	fixturesMu.Lock()
	f := fixtures[key]
	if f == nil {
		f = &fixture{principals: n, nRequests: nRequests, peers: map[string]*peerEntry{}}
		fixtures[key] = f
	}
	fixturesMu.Unlock()
	f.once.Do(f.build)
	if f.err != nil {
		tb.Fatalf("world of %d principals: %v", n, f.err)
	}
	return f
}

func (f *fixture) build() {
	ctx := context.Background()
	start := time.Now()
	f.w = gen.Generate(worldConfig(f.principals))
	f.m, f.err = newModel(f.w, gen.DefaultNow)
	if f.err != nil {
		return
	}
	iamStart := time.Now()
	f.iam, f.err = newIAMPeer(ctx, f.m)
	if f.err != nil {
		return
	}
	iamSetup := time.Since(iamStart)
	all := f.w.Requests(2, f.nRequests)
	_ = f.iam.prepare(all)
	for i := range all {
		allowed, err := f.iam.check(i)
		if err != nil {
			f.dropped++
			continue
		}
		f.reqs = append(f.reqs, all[i])
		f.want = append(f.want, allowed)
	}
	_ = f.iam.prepare(f.reqs)
	e := &peerEntry{p: f.iam, setup: iamSetup}
	e.once.Do(func() {})
	f.peers[engineIAM] = e
	f.setup = time.Since(start)
}

// peer returns the named engine loaded with the fixture's world and
// prepared with its sample, building it once; setup is how long that took.
func (f *fixture) peer(name string) (peer, time.Duration, error) {
	e := f.entry(name)
	return e.p, e.setup, e.err
}

// entry returns the named engine's entry, building the engine once.
func (f *fixture) entry(name string) *peerEntry {
	f.mu.Lock()
	e := f.peers[name]
	if e == nil {
		e = &peerEntry{}
		f.peers[name] = e
	}
	f.mu.Unlock()
	e.once.Do(func() {
		start := time.Now()
		e.p, e.err = newPeer(context.Background(), name, f.m)
		if e.err == nil {
			e.err = e.p.prepare(f.reqs)
		}
		e.setup = time.Since(start)
	})
	return e
}

// drop forgets a built engine, so that its memory can be reclaimed.
func (f *fixture) drop(name string) {
	if name == engineIAM {
		return
	}
	f.mu.Lock()
	delete(f.peers, name)
	f.mu.Unlock()
}

// disagreement renders request i with every engine's answer and what each
// engine holds that bears on it.
func (f *fixture) disagreement(i int, name string, p peer, got bool, err error) string {
	var b strings.Builder
	r := f.reqs[i]
	fmt.Fprintf(&b, "request %d: principal %s, project %q, organization %q, permission %q\n", i, r.Principal, r.ProjectID, r.OrganizationID, r.Permission)
	fmt.Fprintf(&b, "  iam: %v; model: %v; %s: %v (err %v)\n", f.want[i], f.m.allowed(&f.reqs[i]), name, got, err)
	b.WriteString(f.iam.describe(i))
	b.WriteString(f.m.explain(&f.reqs[i]))
	if name != engineIAM {
		b.WriteString(p.describe(i))
	}
	return b.String()
}
