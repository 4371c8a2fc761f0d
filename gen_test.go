package iam_test

// Tests of the world generator (internal/gen): deterministic, loadable,
// shaped as its Config says, and with the request mix it documents.

import (
	"context"
	"fmt"
	"math"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/iamkit/iam"
	"github.com/iamkit/iam/internal/gen"
	"github.com/iamkit/iam/internal/reference"
	"github.com/iamkit/iam/internal/testkit"
)

var genConfigs = []struct {
	name string
	cfg  gen.Config
}{
	{"small", gen.Config{Seed: 1, Organizations: 3, Principals: 200, ProjectsPerOrg: 4, Groups: 3, PoliciesPerPrincipal: 1, MaxRulesPerPolicy: 5, CustomSets: 5}},
	{"one org, no extras", gen.Config{Seed: 2, Organizations: 1, Principals: 50, NoSpecialGroups: true,
		OrganizationShare: -1, AllProjectsShare: -1, LockedShare: -1, ManagedShare: -1, APIKeyShare: -1}},
	{"owners only", gen.Config{Seed: 3, Organizations: 4}},
	{"fewer principals than orgs", gen.Config{Seed: 4, Organizations: 5, Principals: 3, PoliciesPerPrincipal: 2, CustomSets: 2}},
	{"wide rules", gen.Config{Seed: 5, Organizations: 2, Principals: 60, ProjectsPerOrg: 10, Groups: 6, PoliciesPerPrincipal: 1.5,
		MaxRulesPerPolicy: 20, MaxSetsPerRule: 6, MaxProjectsPerRule: 8, CustomSets: 12, OrganizationShare: 0.3, AllProjectsShare: 0.3, WildServiceShare: 0.5}},
}

func TestGenDeterministic(t *testing.T) {
	for _, c := range genConfigs {
		t.Run(c.name, func(t *testing.T) {
			a, b := gen.Generate(c.cfg), gen.Generate(c.cfg)
			if diff := cmp.Diff(a, b); diff != "" {
				t.Fatalf("two worlds of one Config differ (-first +second):\n%s", diff)
			}
			if diff := cmp.Diff(a.Requests(7, 500), b.Requests(7, 500), cmpopts.EquateComparable(netip.Addr{})); diff != "" {
				t.Fatalf("two request mixes of one world and seed differ (-first +second):\n%s", diff)
			}
			if len(a.Policies) > 0 { // a world with no random choice is the same for every seed
				other := c.cfg
				other.Seed++
				if cmp.Equal(a, gen.Generate(other)) {
					t.Errorf("seeds %d and %d give the same world", c.cfg.Seed, other.Seed)
				}
			}
		})
	}
}

func TestGenLoadsIntoMemoryStore(t *testing.T) {
	ctx := context.Background()
	for _, c := range genConfigs {
		t.Run(c.name, func(t *testing.T) {
			w := gen.Generate(c.cfg)
			store := iam.NewMemoryStore()
			if err := w.Load(ctx, store); err != nil {
				t.Fatalf("Load: %v", err)
			}
			// One atomic write per organization.
			if rev, err := store.Revision(ctx); err != nil || rev != uint64(len(w.Organizations)) {
				t.Errorf("revision after Load = %d, %v; want one per organization, %d", rev, err, len(w.Organizations))
			}
			// The store holds exactly the world.
			snap := testkit.GenWorld(t, store)
			if diff := cmp.Diff(w, snap, genStoreOrder); diff != "" {
				t.Errorf("the store does not hold the world (-world +store):\n%s", diff)
			}
			// A store's contents, read back as a World (sets in name
			// order), load into another store.
			again := iam.NewMemoryStore()
			if err := snap.Load(ctx, again); err != nil {
				t.Errorf("loading the store's contents into another store: %v", err)
			} else if diff := cmp.Diff(snap, testkit.GenWorld(t, again), genStoreOrder); diff != "" {
				t.Errorf("the second store differs (-first +second):\n%s", diff)
			}
			if _, err := iam.NewEvaluator(ctx, store); err != nil {
				t.Errorf("NewEvaluator: %v", err)
			}
			// A second load conflicts, as the organizations exist.
			if err := w.Load(ctx, store); err == nil {
				t.Errorf("loading the world twice succeeded")
			}
		})
	}
}

// genStoreOrder compares a world with a store's contents: in any order
// of entities, and with empty and nil lists alike.
var genStoreOrder = cmp.Options{
	cmpopts.EquateEmpty(),
	cmpopts.SortSlices(func(a, b iam.Organization) bool { return a.ID < b.ID }),
	cmpopts.SortSlices(func(a, b iam.Project) bool { return a.ID < b.ID }),
	cmpopts.SortSlices(func(a, b iam.User) bool { return a.ID < b.ID }),
	cmpopts.SortSlices(func(a, b iam.Application) bool { return a.ID < b.ID }),
	cmpopts.SortSlices(func(a, b iam.Group) bool { return a.ID < b.ID }),
	cmpopts.SortSlices(func(a, b iam.PermissionSet) bool {
		return a.OrganizationID < b.OrganizationID || a.OrganizationID == b.OrganizationID && a.Name < b.Name
	}),
	cmpopts.SortSlices(func(a, b iam.Policy) bool { return a.ID < b.ID }),
	cmpopts.SortSlices(func(a, b iam.APIKey) bool { return a.AccessKey < b.AccessKey }),
}

func TestGenShape(t *testing.T) {
	cfg := gen.Config{Seed: 9, Organizations: 4, Principals: 4000, ProjectsPerOrg: 5, Groups: 8, PoliciesPerPrincipal: 1, MaxRulesPerPolicy: 6, CustomSets: 6}
	w := gen.Generate(cfg)
	if n := len(w.Users) + len(w.Applications); n != cfg.Principals {
		t.Errorf("%d principals, want %d", n, cfg.Principals)
	}
	if share := float64(len(w.Users)) / float64(cfg.Principals); math.Abs(share-0.8) > 0.01 {
		t.Errorf("users are %.2f of the principals, want about 0.8", share)
	}
	owners := map[string]int{}
	perOrg := map[string]int{}
	ids := map[string]string{}
	claim := func(kind, id string) {
		if prev, ok := ids[id]; ok && !(kind == "project" && prev == "organization") {
			t.Errorf("ID %q used by a %s and a %s", id, prev, kind)
		}
		ids[id] = kind
	}
	for _, o := range w.Organizations {
		claim("organization", o.ID)
	}
	for _, p := range w.Projects {
		claim("project", p.ID)
	}
	for _, u := range w.Users {
		claim("user", u.ID)
		perOrg[u.OrganizationID]++
		if u.IsOwner() {
			owners[u.OrganizationID]++
			if u.Locked {
				t.Errorf("owner %s is locked", u.ID)
			}
		}
	}
	for _, a := range w.Applications {
		claim("application", a.ID)
		perOrg[a.OrganizationID]++
	}
	for _, p := range w.Policies {
		claim("policy", p.ID)
	}
	for _, k := range w.APIKeys {
		claim("API key", k.AccessKey)
		if k.SecretSHA256 != iam.HashSecret(gen.Secret(k.AccessKey)) {
			t.Errorf("key %s: SecretSHA256 is not the hash of gen.Secret", k.AccessKey)
		}
	}
	for _, o := range w.Organizations {
		if owners[o.ID] != 1 {
			t.Errorf("organization %s has %d owners, want 1", o.ID, owners[o.ID])
		}
	}
	special := 0
	for _, g := range w.Groups {
		claim("group", g.ID)
		switch {
		case g.AllUsers || g.AllApplications:
			special++
		case len(g.UserIDs)+len(g.ApplicationIDs) < min(10, perOrg[g.OrganizationID]) ||
			len(g.UserIDs)+len(g.ApplicationIDs) > min(10000, perOrg[g.OrganizationID]):
			t.Errorf("group %s has %d members; want 10 to 10,000, at most the organization's %d", g.ID, len(g.UserIDs)+len(g.ApplicationIDs), perOrg[g.OrganizationID])
		}
	}
	if want := 2 * cfg.Organizations; special != want {
		t.Errorf("%d special groups, want %d", special, want)
	}
	scaleway := map[string]iam.ScopeType{}
	for _, ps := range iam.ScalewayCatalogue() {
		scaleway[ps.Name] = ps.ScopeType
	}
	own := map[string]iam.ScopeType{} // by "org/name"
	for _, ps := range w.PermissionSets {
		if _, ok := scaleway[ps.Name]; ok {
			t.Errorf("custom set %s reuses a Scaleway name", ps.Name)
		}
		own[ps.OrganizationID+"/"+ps.Name] = ps.ScopeType
	}
	kinds := map[string]int{}
	for _, p := range w.Policies {
		if len(p.Rules) < 1 || len(p.Rules) > cfg.MaxRulesPerPolicy {
			t.Errorf("policy %s has %d rules", p.ID, len(p.Rules))
		}
		for _, r := range p.Rules {
			onOrg := r.Scope.OrganizationID != ""
			for _, name := range r.PermissionSets {
				st, ok := own[p.OrganizationID+"/"+name]
				if !ok {
					st, ok = scaleway[name]
				}
				if !ok {
					t.Errorf("policy %s grants %s, which organization %s does not have", p.ID, name, p.OrganizationID)
				}
				switch {
				case !onOrg && st == iam.ScopeOrganization:
					t.Errorf("policy %s grants the organization-scoped %s on projects", p.ID, name)
				case onOrg && st == iam.ScopeOrganization:
					kinds["organization"]++
				case onOrg:
					kinds["all projects"]++
				default:
					kinds["projects"]++
				}
			}
		}
	}
	for _, k := range []string{"organization", "all projects", "projects"} {
		if kinds[k] == 0 {
			t.Errorf("no grant of kind %q", k)
		}
	}
	if w.Grants() <= len(w.Policies) {
		t.Errorf("Grants() = %d for %d policies", w.Grants(), len(w.Policies))
	}
	t.Logf("%d principals, %d groups, %d policies, %d keys, %d grants; set grants by kind %v", cfg.Principals, len(w.Groups), len(w.Policies), len(w.APIKeys), w.Grants(), kinds)
}

// TestGenRequestsMix checks that the request mix has every shape it
// promises, and a realistic share of allows, on a loaded world.
func TestGenRequestsMix(t *testing.T) {
	ctx := context.Background()
	w := gen.Generate(genConfigs[0].cfg)
	store := iam.NewMemoryStore()
	if err := w.Load(ctx, store); err != nil {
		t.Fatal(err)
	}
	ev, err := iam.NewEvaluator(ctx, store, iam.WithClock(func() time.Time { return gen.DefaultNow }))
	if err != nil {
		t.Fatal(err)
	}
	defer ev.Close()
	orgOf := map[string]string{}
	for _, u := range w.Users {
		orgOf[u.ID] = u.OrganizationID
	}
	for _, p := range w.Projects {
		orgOf["project:"+p.ID] = p.OrganizationID
	}
	shapes := map[string]int{}
	reqs := w.Requests(1, 5000)
	if len(reqs) != 5000 {
		t.Fatalf("%d requests, want 5000", len(reqs))
	}
	for _, req := range reqs {
		if iam.IsPermission(req.Permission) {
			shapes["triple"]++
		} else {
			shapes["set name"]++
		}
		switch {
		case req.ProjectID != "" && req.OrganizationID == "":
			shapes["project target"]++
		case req.OrganizationID != "" && req.ProjectID == "":
			shapes["organization target"]++
		}
		if req.Principal.Type == iam.PrincipalUser && req.ProjectID != "" {
			if a, b := orgOf[req.Principal.ID], orgOf["project:"+req.ProjectID]; a != "" && b != "" && a != b {
				shapes["cross-organization"]++
			}
		}
		shapes["principal "+req.Principal.Type.String()]++
		dec, err := ev.Check(ctx, req)
		switch {
		case err != nil:
			shapes["error "+reference.ErrClass(err)]++
		case dec.Allowed:
			shapes["allowed"]++
		default:
			shapes["denied"]++
		}
	}
	for _, k := range []string{"triple", "set name", "project target", "organization target", "cross-organization",
		"principal user", "principal application", "principal group", "principal api_key", "principal none",
		"allowed", "denied", "error invalid", "error not-found", "error unknown-permission", "error scope-mismatch"} {
		if shapes[k] == 0 {
			t.Errorf("no request of shape %q", k)
		}
	}
	if allowed := float64(shapes["allowed"]) / float64(len(reqs)); allowed < 0.2 || allowed > 0.8 {
		t.Errorf("%.0f%% allowed: want a realistic mix", 100*allowed)
	}
	t.Logf("shapes: %v", fmt.Sprint(shapes))
}

func BenchmarkGenGenerate(b *testing.B) {
	for _, n := range []int{100_000, 1_000_000} {
		b.Run(fmt.Sprintf("principals=%d", n), func(b *testing.B) {
			cfg := gen.Config{Seed: 1, Organizations: 10, Principals: n, ProjectsPerOrg: 20, Groups: 20, PoliciesPerPrincipal: 1, MaxRulesPerPolicy: 5, CustomSets: 10}
			for b.Loop() {
				w := gen.Generate(cfg)
				b.ReportMetric(float64(w.Grants()), "grants")
			}
		})
	}
}
