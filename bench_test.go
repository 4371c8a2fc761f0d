package iam_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/iamkit/iam"
	"github.com/iamkit/iam/internal/gen"
)

// The benchmark suite of BENCHMARKS.md (its targets there), over
// generated worlds. Every benchmark runs at 1k, 10k and 100k principals;
// -iam.large adds 1M (it needs a few GiB and about a minute to set up). Worlds are generated,
// loaded and indexed once per size and shared by the benchmarks.
//
//	go test -run '^$' -bench . -benchmem
//	go test -run '^$' -bench . -benchmem -iam.large -timeout 60m

var benchLarge = flag.Bool("iam.large", false, "benchmarks: add worlds of 1M principals")

func benchSizes() []int {
	sizes := []int{1_000, 10_000, 100_000}
	if *benchLarge {
		sizes = append(sizes, 1_000_000)
	}
	return sizes
}

// benchConfig is the world of a given size: one organization per 100k
// principals (at least one), 100 projects each, groups of 10 to 10,000
// members, one policy per principal on average with 1-20 rules, rules on
// projects, on all projects and on the organization, Scaleway and custom
// sets.
func benchConfig(principals int) gen.Config {
	return gen.Config{
		Seed:                 1,
		Organizations:        max(1, principals/100_000),
		Principals:           principals,
		ProjectsPerOrg:       100,
		Groups:               30,
		PoliciesPerPrincipal: 1,
		MaxRulesPerPolicy:    20,
		CustomSets:           20,
	}
}

type benchWorld struct {
	world  *gen.World
	store  *iam.MemoryStore
	ev     *iam.Evaluator
	grants int
	reqs   []iam.Request // requests that Check answers without error
	allow  int           // how many of reqs are allowed
	setup  time.Duration
}

var (
	benchMu     sync.Mutex
	benchWorlds = map[int]*benchWorld{}
)

func newBenchEvaluator(ctx context.Context, store iam.Store) (*iam.Evaluator, error) {
	return iam.NewEvaluator(ctx, store, iam.WithClock(func() time.Time { return gen.DefaultNow }))
}

// loadBench returns the shared world of the given size.
func loadBench(b *testing.B, principals int) *benchWorld {
	b.Helper()
	benchMu.Lock()
	defer benchMu.Unlock()
	if w, ok := benchWorlds[principals]; ok {
		return w
	}
	ctx := context.Background()
	start := time.Now()
	w := &benchWorld{world: gen.Generate(benchConfig(principals)), store: iam.NewMemoryStore()}
	if err := w.world.Load(ctx, w.store); err != nil {
		b.Fatal(err)
	}
	ev, err := newBenchEvaluator(ctx, w.store)
	if err != nil {
		b.Fatal(err)
	}
	w.ev, w.grants = ev, w.world.Grants()
	for _, req := range w.world.Requests(2, 8192) {
		dec, err := ev.Check(ctx, req)
		if err != nil {
			continue
		}
		w.reqs = append(w.reqs, req)
		if dec.Allowed {
			w.allow++
		}
	}
	w.setup = time.Since(start)
	benchWorlds[principals] = w
	return w
}

func forSizes(b *testing.B, fn func(b *testing.B, w *benchWorld)) {
	for _, n := range benchSizes() {
		b.Run(fmt.Sprintf("principals=%d", n), func(b *testing.B) {
			w := loadBench(b, n)
			b.ResetTimer() // the world's setup is not the benchmark's
			fn(b, w)
		})
	}
}

// BenchmarkCheck cycles through a mix of allowed and denied requests
// (set names and triples, projects and organization).
func BenchmarkCheck(b *testing.B) {
	ctx := context.Background()
	forSizes(b, func(b *testing.B, w *benchWorld) {
		b.ReportAllocs()
		b.ReportMetric(float64(w.allow)/float64(len(w.reqs)), "allowed-share")
		i := 0
		for b.Loop() {
			if _, err := w.ev.Check(ctx, w.reqs[i]); err != nil {
				b.Fatal(err)
			}
			i++
			if i == len(w.reqs) {
				i = 0
			}
		}
	})
}

// BenchmarkCheckParallel is BenchmarkCheck on every core (compare with
// -cpu 1,2).
func BenchmarkCheckParallel(b *testing.B) {
	ctx := context.Background()
	forSizes(b, func(b *testing.B, w *benchWorld) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				if _, err := w.ev.Check(ctx, w.reqs[i]); err != nil {
					b.Error(err)
					return
				}
				i++
				if i == len(w.reqs) {
					i = 0
				}
			}
		})
	})
}

// BenchmarkBareMap is the yardstick: a hand-rolled index of three nested
// string-keyed maps (principal → project → permission set → bool) with no
// semantics at all (no groups, owner, scopes, includes or errors), asked
// the same requests.
func BenchmarkBareMap(b *testing.B) {
	forSizes(b, func(b *testing.B, w *benchWorld) { benchBare(b, w, false) })
}

// BenchmarkBareMapWorld is BenchmarkBareMap with a map that holds the
// whole world, not only the principals of the request sample: the
// sample's principals as there (their sets from WhatCan), and every other
// principal that a policy names, with the sets of its own rules at each
// of their targets (its groups' grants are not flattened into it). Same
// requests, same three nested maps: it shows what the yardstick costs
// when its map is as large as the index.
func BenchmarkBareMapWorld(b *testing.B) {
	forSizes(b, func(b *testing.B, w *benchWorld) {
		bare, sampled := benchBare(b, w, true)
		b.ReportMetric(float64(bare), "principals-held")
		b.ReportMetric(float64(sampled), "principals-sampled")
	})
}

// benchBare asks bareMap's map (the whole world's if world is set) the
// sample's requests, and returns how many principals the map held and how
// many of them the sample gave it.
func benchBare(b *testing.B, w *benchWorld, world bool) (held, sampled int) {
	bare, sampled := bareMap(b, w, world)
	targets := make([]string, len(w.reqs))
	for i, req := range w.reqs {
		targets[i] = req.ProjectID + req.OrganizationID
	}
	b.ReportAllocs()
	b.ResetTimer()
	i, n := 0, 0
	for b.Loop() {
		req := &w.reqs[i]
		if bare[req.Principal.ID][targets[i]][req.Permission] {
			n++
		}
		i++
		if i == len(w.reqs) {
			i = 0
		}
	}
	_ = n
	return len(bare), sampled
}

// bareMap makes the yardstick's three nested maps: the request sample's
// principals with their sets from WhatCan at the requests' targets, as
// BenchmarkBareMap does, and, if world is set, every other principal a
// policy names, with the sets of its own rules at their targets. It
// returns the map and how many principals the sample gave it.
func bareMap(b *testing.B, w *benchWorld, world bool) (bare map[string]map[string]map[string]bool, sampled int) {
	b.Helper()
	ctx := context.Background()
	bare = map[string]map[string]map[string]bool{}
	for _, req := range w.reqs {
		target := req.ProjectID + req.OrganizationID
		sets, err := w.ev.WhatCan(ctx, iam.Request{Principal: req.Principal, ProjectID: req.ProjectID, OrganizationID: req.OrganizationID})
		if err != nil {
			b.Fatal(err)
		}
		byProject := bare[req.Principal.ID]
		if byProject == nil {
			byProject = map[string]map[string]bool{}
			bare[req.Principal.ID] = byProject
		}
		held := map[string]bool{}
		for _, s := range sets {
			held[s] = true
		}
		byProject[target] = held
	}
	sampled = len(bare)
	if !world {
		return bare, sampled
	}
	own := map[string]map[string]map[string]bool{}
	for _, p := range w.world.Policies {
		id := p.Principal.ID
		if id == "" || len(p.Rules) == 0 {
			continue
		}
		if _, ok := bare[id]; ok {
			if _, mine := own[id]; !mine {
				continue // a principal of the sample keeps its WhatCan sets
			}
		}
		byProject := own[id]
		if byProject == nil {
			byProject = map[string]map[string]bool{}
			own[id], bare[id] = byProject, byProject
		}
		for _, r := range p.Rules {
			targets := r.Scope.ProjectIDs
			if r.Scope.OrganizationID != "" {
				targets = []string{r.Scope.OrganizationID}
			}
			for _, t := range targets {
				held := byProject[t]
				if held == nil {
					held = map[string]bool{}
					byProject[t] = held
				}
				for _, s := range r.PermissionSets {
					held[s] = true
				}
			}
		}
	}
	return bare, sampled
}

// BenchmarkExplain explains the same requests.
func BenchmarkExplain(b *testing.B) {
	ctx := context.Background()
	forSizes(b, func(b *testing.B, w *benchWorld) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, err := w.ev.Explain(ctx, w.reqs[i]); err != nil {
				b.Fatal(err)
			}
			i = (i + 1) % len(w.reqs)
		}
	})
}

// BenchmarkWhoCan asks who may use the requests' permissions at their
// targets.
func BenchmarkWhoCan(b *testing.B) {
	ctx := context.Background()
	forSizes(b, func(b *testing.B, w *benchWorld) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			r := w.reqs[i]
			if _, err := w.ev.WhoCan(ctx, iam.Request{ProjectID: r.ProjectID, OrganizationID: r.OrganizationID, Permission: r.Permission}); err != nil {
				b.Fatal(err)
			}
			i = (i + 1) % len(w.reqs)
		}
	})
}

// BenchmarkWhoCanSeq is BenchmarkWhoCan through WhoCanSeq: the same
// answers ranged over (and counted) instead of listed.
func BenchmarkWhoCanSeq(b *testing.B) {
	ctx := context.Background()
	forSizes(b, func(b *testing.B, w *benchWorld) {
		b.ReportAllocs()
		i, n := 0, 0
		for b.Loop() {
			r := w.reqs[i]
			seq, err := w.ev.WhoCanSeq(ctx, iam.Request{ProjectID: r.ProjectID, OrganizationID: r.OrganizationID, Permission: r.Permission})
			if err != nil {
				b.Fatal(err)
			}
			for range seq {
				n++
			}
			i = (i + 1) % len(w.reqs)
		}
		b.ReportMetric(float64(n)/float64(b.N), "principals/answer")
	})
}

// BenchmarkWhatCan lists what the requests' callers hold at their targets.
func BenchmarkWhatCan(b *testing.B) {
	ctx := context.Background()
	forSizes(b, func(b *testing.B, w *benchWorld) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			r := w.reqs[i]
			if _, err := w.ev.WhatCan(ctx, iam.Request{Principal: r.Principal, ProjectID: r.ProjectID, OrganizationID: r.OrganizationID}); err != nil {
				b.Fatal(err)
			}
			i = (i + 1) % len(w.reqs)
		}
	})
}

// BenchmarkWhereCan lists the projects where the requests' callers may use
// their (project-scoped) permissions.
func BenchmarkWhereCan(b *testing.B) {
	ctx := context.Background()
	forSizes(b, func(b *testing.B, w *benchWorld) {
		var reqs []iam.Request
		for _, r := range w.reqs {
			q := iam.Request{Principal: r.Principal, Permission: r.Permission}
			if _, err := w.ev.WhereCan(ctx, q); err == nil {
				reqs = append(reqs, q)
			}
		}
		b.ReportAllocs()
		b.ResetTimer()
		i := 0
		for b.Loop() {
			if _, err := w.ev.WhereCan(ctx, reqs[i]); err != nil {
				b.Fatal(err)
			}
			i = (i + 1) % len(reqs)
		}
	})
}

// BenchmarkBuild indexes a whole loaded store: ns/grant is the target's
// unit (<= 1 s per million grants is <= 1000 ns/grant), and heap-B/grant
// the heap the index holds per grant.
func BenchmarkBuild(b *testing.B) {
	ctx := context.Background()
	forSizes(b, func(b *testing.B, w *benchWorld) {
		// The heap the index holds, measured once, outside the timing.
		before := heapInUse()
		ev, err := newBenchEvaluator(ctx, w.store)
		if err != nil {
			b.Fatal(err)
		}
		heap := heapInUse() - before
		runtime.KeepAlive(ev)
		ev.Close()
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			ev, err := newBenchEvaluator(ctx, w.store)
			if err != nil {
				b.Fatal(err)
			}
			ev.Close()
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(w.grants), "ns/grant")
		b.ReportMetric(float64(heap)/float64(w.grants), "heap-B/grant")
		b.ReportMetric(float64(w.grants), "grants")
	})
}

// BenchmarkMemory measures what a world costs in heap: generated, loaded
// into a MemoryStore (the generator's copy is then dropped), and indexed
// by an Evaluator. index-MiB is what the Evaluator holds: the heap that
// is freed when it is closed and dropped. store-MiB is what the store
// holds after that: the store as loaded (loaded-store-MiB) plus what the
// first full read of it leaves in it (its sorted ID lists, kept for the
// next reader whoever it is). The targets: index-B/grant, the Evaluator's
// heap per (principal, project) grant, at most 48; and total-MiB, the
// store and the index together, at most 2 GiB (2048 MiB) for the
// 1M-principal world (-iam.large). Nothing is timed: each size is
// measured once.
func BenchmarkMemory(b *testing.B) {
	ctx := context.Background()
	for _, n := range benchSizes() {
		b.Run(fmt.Sprintf("principals=%d", n), func(b *testing.B) {
			base := heapInUse()
			w := gen.Generate(benchConfig(n))
			grants := w.Grants()
			store := iam.NewMemoryStore()
			if err := w.Load(ctx, store); err != nil {
				b.Fatal(err)
			}
			w = nil
			loaded := heapInUse() - base
			ev, err := newBenchEvaluator(ctx, store)
			if err != nil {
				b.Fatal(err)
			}
			total := heapInUse() - base
			runtime.KeepAlive(ev)
			ev.Close()
			ev = nil
			storeHeap := heapInUse() - base
			runtime.KeepAlive(store)
			if 2*(storeHeap-loaded) > total-loaded {
				b.Fatalf("closing the Evaluator freed %d of the %d bytes it took: is it still reachable?", total-storeHeap, total-loaded)
			}
			for b.Loop() {
			}
			const mib = 1 << 20
			b.ReportMetric(0, "ns/op")
			b.ReportMetric(float64(loaded)/mib, "loaded-store-MiB")
			b.ReportMetric(float64(storeHeap)/mib, "store-MiB")
			b.ReportMetric(float64(total-storeHeap)/mib, "index-MiB")
			b.ReportMetric(float64(total)/mib, "total-MiB")
			b.ReportMetric(float64(total-storeHeap)/float64(grants), "index-B/grant")
			b.ReportMetric(float64(grants), "grants")
		})
	}
}

func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// BenchmarkPolicyWrite replaces one policy (alternating between two
// versions) through the store: the time until the write returns is the
// time until every Evaluator on the store answers with it.
func BenchmarkPolicyWrite(b *testing.B) {
	ctx := context.Background()
	forSizes(b, func(b *testing.B, w *benchWorld) {
		var pol iam.Policy
		for _, p := range w.world.Policies {
			if p.Principal.Type == iam.PrincipalUser && len(p.Rules) > 0 {
				pol = p
				break
			}
		}
		stored, err := w.store.GetPolicy(ctx, pol.ID)
		if err != nil {
			b.Fatal(err)
		}
		alt := stored
		alt.Rules = append([]iam.Rule{{Scope: iam.OrganizationScope(stored.OrganizationID), PermissionSets: []string{"AuditTrailReadOnly"}}}, stored.Rules...)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			p := stored
			if i%2 == 0 {
				p = alt
			}
			if _, err := w.store.UpdatePolicy(ctx, p); err != nil {
				b.Fatal(err)
			}
			i++
		}
		if _, err := w.store.UpdatePolicy(ctx, stored); err != nil {
			b.Fatal(err)
		}
	})
}

// BenchmarkGroupMembership adds a user to, then removes it from, the
// largest group (up to 10,000 members): one op is one membership change.
func BenchmarkGroupMembership(b *testing.B) {
	ctx := context.Background()
	forSizes(b, func(b *testing.B, w *benchWorld) {
		var big iam.Group
		for _, g := range w.world.Groups {
			if len(g.UserIDs) > len(big.UserIDs) {
				big = g
			}
		}
		stored, err := w.store.GetGroup(ctx, big.ID)
		if err != nil {
			b.Fatal(err)
		}
		in := map[string]bool{}
		for _, id := range stored.UserIDs {
			in[id] = true
		}
		var outsider string
		for _, u := range w.world.Users {
			if u.OrganizationID == stored.OrganizationID && !in[u.ID] {
				outsider = u.ID
				break
			}
		}
		if outsider == "" {
			b.Skip("every user is in the group")
		}
		with := stored
		with.UserIDs = append(append([]string(nil), stored.UserIDs...), outsider)
		b.ReportMetric(float64(len(stored.UserIDs)), "members")
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			g := stored
			if i%2 == 0 {
				g = with
			}
			if _, err := w.store.UpdateGroup(ctx, g); err != nil {
				b.Fatal(err)
			}
			i++
		}
		if _, err := w.store.UpdateGroup(ctx, stored); err != nil {
			b.Fatal(err)
		}
	})
}

// BenchmarkLoadWorldFile loads, validates and indexes a world file of one
// organization with 100k policies (and as many principals); load-s and
// index-s split the time between the store's side (LoadFile) and the
// index's (NewEvaluator).
func BenchmarkLoadWorldFile(b *testing.B) {
	ctx := context.Background()
	world := gen.Generate(gen.Config{
		Seed: 3, Organizations: 1, Principals: 100_000, ProjectsPerOrg: 100, Groups: 30,
		PoliciesPerPrincipal: 1, MaxRulesPerPolicy: 20, CustomSets: 20,
	})
	path := filepath.Join(b.TempDir(), "world.json")
	data, err := json.Marshal(worldFile(world))
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(len(world.Policies)), "policies")
	b.ReportMetric(float64(len(data))/1e6, "MB")
	var load, index time.Duration
	for b.Loop() {
		start := time.Now()
		store := iam.NewMemoryStore()
		if err := iam.LoadFile(ctx, store, path); err != nil {
			b.Fatal(err)
		}
		load += time.Since(start)
		start = time.Now()
		ev, err := newBenchEvaluator(ctx, store)
		if err != nil {
			b.Fatal(err)
		}
		index += time.Since(start)
		ev.Close()
	}
	// The two sides of the total: the store's (decoding, validation, the
	// writes) and the index's build.
	b.ReportMetric(load.Seconds()/float64(b.N), "load-s")
	b.ReportMetric(index.Seconds()/float64(b.N), "index-s")
}

// worldFile renders the first organization of a generated world in the
// world-file format, with explicit ids.
func worldFile(w *gen.World) map[string]any {
	org := w.Organizations[0]
	in := func(o string) bool { return o == org.ID }
	var projects, users, apps, groups, keys, sets, policies []map[string]any
	for _, p := range w.Projects {
		if in(p.OrganizationID) && p.ID != org.ID {
			projects = append(projects, map[string]any{"id": p.ID, "name": p.Name})
		}
	}
	for _, u := range w.Users {
		if in(u.OrganizationID) {
			users = append(users, map[string]any{"id": u.ID, "email": u.Email, "type": string(u.Type), "locked": u.Locked})
		}
	}
	for _, a := range w.Applications {
		if in(a.OrganizationID) {
			apps = append(apps, map[string]any{"id": a.ID, "name": a.Name, "managed": a.Managed})
		}
	}
	for _, g := range w.Groups {
		if in(g.OrganizationID) {
			groups = append(groups, map[string]any{"id": g.ID, "name": g.Name, "users": nonNil(g.UserIDs), "applications": nonNil(g.ApplicationIDs), "all_users": g.AllUsers, "all_applications": g.AllApplications})
		}
	}
	for _, s := range w.PermissionSets {
		if in(s.OrganizationID) {
			sets = append(sets, map[string]any{"name": s.Name, "scope_type": string(s.ScopeType), "permissions": nonNil(s.Permissions), "includes": nonNil(s.Includes)})
		}
	}
	for _, k := range w.APIKeys {
		if in(k.OrganizationID) {
			key := map[string]any{"access_key": k.AccessKey, "secret_sha256": k.SecretSHA256}
			key[k.Bearer.Type.String()] = k.Bearer.ID
			if !k.ExpiresAt.IsZero() {
				key["expires_at"] = k.ExpiresAt.Format(time.RFC3339)
			}
			keys = append(keys, key)
		}
	}
	for _, p := range w.Policies {
		if !in(p.OrganizationID) {
			continue
		}
		var rules []map[string]any
		for _, r := range p.Rules {
			rule := map[string]any{"permission_sets": r.PermissionSets}
			if r.Scope.OrganizationID != "" {
				rule["organization"] = true
			} else {
				rule["projects"] = r.Scope.ProjectIDs
			}
			rules = append(rules, rule)
		}
		pol := map[string]any{"id": p.ID, "rules": nonNil(rules)}
		if p.Name != "" {
			pol["name"] = p.Name
		}
		if !p.Principal.IsZero() {
			pol[p.Principal.Type.String()] = p.Principal.ID
		}
		policies = append(policies, pol)
	}
	return map[string]any{
		"organization": map[string]any{"id": org.ID, "name": org.Name},
		"projects":     projects, "users": users, "applications": apps, "groups": groups,
		"api_keys": keys, "permission_sets": sets, "policies": policies,
	}
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
