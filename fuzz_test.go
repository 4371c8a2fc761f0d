package iam_test

// Fuzz targets for every parser and validation entry point: the file
// loader (world and policy files), permission parsing and matching, the
// Evaluator's Check, and CreatePolicy driven by a small byte decoder.
// Whatever the input: no panic, every rejection a typed error that
// changes nothing, and whatever is accepted is accepted identically by the
// Evaluator.
//
// Under a plain `go test` each target runs over its seeds only (the f.Add
// calls, the JSON files of testdata/ and testdata/fuzzseed/, and
// testdata/fuzz/<FuzzName>/), in about a second in all. To fuzz one
// target (one at a time; -fuzz takes a single target):
//
//	go test -run '^$' -fuzz '^FuzzLoadWorld$' -fuzztime 30s .
//	go test -run '^$' -fuzz '^FuzzLoadPolicy$' -fuzztime 30s .
//	go test -run '^$' -fuzz '^FuzzCheck$' -fuzztime 30s .
//	go test -run '^$' -fuzz '^FuzzCreatePolicy$' -fuzztime 30s .
//	go test -run '^$' -fuzz '^FuzzParsePermission$' -fuzztime 30s .
//	go test -run '^$' -fuzz '^FuzzMatchPermission$' -fuzztime 30s .
//	go test -run '^$' -fuzz '^FuzzCompile$' -fuzztime 30s ./conditions
//
// For a long run give -fuzztime 1h (or more) and -fuzzminimizetime 5s: an
// input of the loader costs a millisecond or two, so the default minute
// of minimizing each new input stalls the run. A crash is written to
// testdata/fuzz/<FuzzName>/ and from then on runs as a regression test.

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/stretchr/testify/require"

	"github.com/iamkit/iam"
	"github.com/iamkit/iam/conditions"
	"github.com/iamkit/iam/internal/testkit"
)

// fzStoreErrors are the sentinels a rejected write may carry.
var fzStoreErrors = []error{iam.ErrInvalid, iam.ErrConflict, iam.ErrNotFound, iam.ErrUnknownPermission, iam.ErrScopeMismatch, iam.ErrForbidden}

// fzCheckErrors are the sentinels a Check may return.
var fzCheckErrors = []error{iam.ErrInvalid, iam.ErrNotFound, iam.ErrUnknownPermission, iam.ErrScopeMismatch}

// fzRequireTyped fails unless err starts with "iam: " and matches one of
// sentinels.
func fzRequireTyped(t testing.TB, err error, sentinels []error, what string) {
	t.Helper()
	if !strings.HasPrefix(err.Error(), "iam: ") {
		t.Fatalf("%s: error does not start with \"iam: \": %q", what, err)
	}
	for _, s := range sentinels {
		if errors.Is(err, s) {
			return
		}
	}
	t.Fatalf("%s: error %T %q matches none of the sentinels %v", what, err, err, sentinels)
}

// fzClock is the fixed clock of every fuzz Evaluator: API key expiry and
// conditions see the same instant whatever the wall clock says.
var (
	fzNow   = testkit.FixedNow
	fzClock = testkit.FixedClock
)

// fzEngine is the one condition engine of the fuzz stores (immutable and
// safe for concurrent use).
var fzEngine = sync.OnceValue(func() *conditions.Engine { return conditions.New(conditions.WithClock(fzClock)) })

// fzCatalogue is the part of the Scaleway catalogue that the seeds name,
// closed under includes: a third of its size, so that a fresh store and
// Evaluator per input cost less and the fuzzer runs more inputs.
var fzCatalogue = sync.OnceValue(func() []iam.PermissionSet {
	all := iam.ScalewayCatalogue()
	byName := map[string]iam.PermissionSet{}
	for _, s := range all {
		byName[s.Name] = s
	}
	keep := map[string]bool{}
	var walk func(string)
	walk = func(name string) {
		if keep[name] {
			return
		}
		keep[name] = true
		for _, inc := range byName[name].Includes {
			walk(inc)
		}
	}
	for _, root := range []string{"InstancesFullAccess", "InstancesReadOnly", "ObjectStorageReadOnly", "ObjectStorageFullAccess",
		"RelationalDatabasesFullAccess", "ContainerRegistryFullAccess", "ContainersReadOnly", "BillingReadOnly", "IAMManager"} {
		walk(root)
	}
	var out []iam.PermissionSet
	for _, s := range all {
		if keep[s.Name] {
			out = append(out, s)
		}
	}
	return out
})

// fzNewStore returns an empty store with conditions on and the trimmed
// catalogue.
func fzNewStore() *iam.MemoryStore {
	return iam.NewMemoryStore(iam.WithConditions(fzEngine()), iam.WithCatalogue(fzCatalogue()))
}

// fzRead reads a file of testdata.
var fzRead = testkit.ReadFile

// fzSeedFiles returns every JSON seed: testdata/*.json and
// testdata/fuzzseed/*.json.
func fzSeedFiles(t testing.TB) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, pattern := range []string{"testdata/*.json", "testdata/fuzzseed/*.json"} {
		paths, err := filepath.Glob(pattern)
		require.NoError(t, err)
		for _, p := range paths {
			out[p] = fzRead(t, p)
		}
	}
	require.NotEmpty(t, out)
	return out
}

// fzMustLoad loads a seed file into store.
var fzMustLoad = testkit.MustLoad

// ----- answers: what an Evaluator says about a batch of requests -----

// fzAnswer is one Check's outcome, comparable across Evaluators.
type fzAnswer = testkit.Answer

var fzAnswers = testkit.Answers

// fzRequests derives a handful of requests from what the store holds:
// each organization's principals (users, applications, groups, API keys,
// and one that does not exist) at its projects and at the organization,
// for the permission sets its rules name, its own sets, the triples of its
// own sets and a few catalogue names. Half carry the IP the seeds'
// conditions test for.
func fzRequests(t testing.TB, s iam.Store) []iam.Request {
	t.Helper()
	ctx := context.Background()
	const perKind = 3
	first := func(ids []string, n int) []string { return ids[:min(len(ids), n)] }
	orgs, err := s.ListOrganizations(ctx)
	require.NoError(t, err)
	var reqs []iam.Request
	for _, o := range first(fzIDs(orgs, func(o iam.Organization) string { return o.ID }), 3) {
		users, err := s.ListUsers(ctx, o)
		require.NoError(t, err)
		apps, err := s.ListApplications(ctx, o)
		require.NoError(t, err)
		groups, err := s.ListGroups(ctx, o)
		require.NoError(t, err)
		keys, err := s.ListAPIKeys(ctx, o)
		require.NoError(t, err)
		projects, err := s.ListProjects(ctx, o)
		require.NoError(t, err)
		policies, err := s.ListPolicies(ctx, o)
		require.NoError(t, err)
		sets, err := s.ListPermissionSets(ctx, o)
		require.NoError(t, err)

		var principals []iam.Principal
		for _, id := range first(fzIDs(users, func(u iam.User) string { return u.ID }), perKind) {
			principals = append(principals, iam.UserPrincipal(id))
		}
		for _, id := range first(fzIDs(apps, func(a iam.Application) string { return a.ID }), perKind) {
			principals = append(principals, iam.ApplicationPrincipal(id))
		}
		for _, id := range first(fzIDs(groups, func(g iam.Group) string { return g.ID }), perKind) {
			principals = append(principals, iam.GroupPrincipal(id))
		}
		for _, id := range first(fzIDs(keys, func(k iam.APIKey) string { return k.AccessKey }), perKind) {
			principals = append(principals, iam.APIKeyPrincipal(id))
		}
		principals = append(principals, iam.UserPrincipal("fz-nobody"))

		var perms []string
		add := func(p string) {
			if p != "" && !slices.Contains(perms, p) {
				perms = append(perms, p)
			}
		}
		for _, p := range policies {
			for _, r := range p.Rules {
				for _, name := range r.PermissionSets {
					add(name)
				}
			}
		}
		for _, ps := range sets {
			add(ps.Name)
			for _, pat := range ps.Permissions {
				add(strings.ReplaceAll(pat, "*", "x"))
			}
		}
		for _, p := range []string{"InstancesFullAccess", "BillingReadOnly", "instance:server:create", "NoSuchSet"} {
			add(p)
		}
		perms = first(perms, 10)

		targets := []iam.Request{{OrganizationID: o}}
		for _, id := range first(fzIDs(projects, func(p iam.Project) string { return p.ID }), 4) {
			targets = append(targets, iam.Request{ProjectID: id})
		}
		for _, p := range principals {
			for _, tgt := range targets {
				for i, perm := range perms {
					req := tgt
					req.Principal, req.Permission, req.Time = p, perm, fzNow
					if i%2 == 0 {
						req.IP = netip.MustParseAddr("203.0.113.7")
						req.Resource = &iam.Resource{ID: "r1", Name: "prod-db"}
					}
					reqs = append(reqs, req)
				}
			}
		}
	}
	return reqs
}

func fzIDs[T any](vs []T, id func(T) string) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = id(v)
	}
	return out
}

// fzRevalidate writes every entity of every organization back unchanged,
// in one atomic write: whatever the store accepted, it accepts again.
func fzRevalidate(t testing.TB, s iam.Store) {
	t.Helper()
	ctx := context.Background()
	err := s.Atomic(ctx, func(tx iam.Tx) error {
		orgs, err := tx.ListOrganizations(ctx)
		if err != nil {
			return err
		}
		for _, o := range orgs {
			if _, err := tx.UpdateOrganization(ctx, o); err != nil {
				return fmt.Errorf("organization %q: %w", o.ID, err)
			}
			sets, err := tx.ListPermissionSets(ctx, o.ID)
			if err != nil {
				return err
			}
			for _, v := range sets {
				if _, err := tx.UpdatePermissionSet(ctx, v); err != nil {
					return fmt.Errorf("permission set %q: %w", v.Name, err)
				}
			}
			projects, err := tx.ListProjects(ctx, o.ID)
			if err != nil {
				return err
			}
			for _, v := range projects {
				if _, err := tx.UpdateProject(ctx, v); err != nil {
					return fmt.Errorf("project %q: %w", v.ID, err)
				}
			}
			users, err := tx.ListUsers(ctx, o.ID)
			if err != nil {
				return err
			}
			for _, v := range users {
				if _, err := tx.UpdateUser(ctx, v); err != nil {
					return fmt.Errorf("user %q: %w", v.ID, err)
				}
			}
			apps, err := tx.ListApplications(ctx, o.ID)
			if err != nil {
				return err
			}
			for _, v := range apps {
				if _, err := tx.UpdateApplication(ctx, v); err != nil {
					return fmt.Errorf("application %q: %w", v.ID, err)
				}
			}
			groups, err := tx.ListGroups(ctx, o.ID)
			if err != nil {
				return err
			}
			for _, v := range groups {
				if _, err := tx.UpdateGroup(ctx, v); err != nil {
					return fmt.Errorf("group %q: %w", v.ID, err)
				}
			}
			keys, err := tx.ListAPIKeys(ctx, o.ID)
			if err != nil {
				return err
			}
			for _, v := range keys {
				if _, err := tx.UpdateAPIKey(ctx, v); err != nil {
					return fmt.Errorf("API key %q: %w", v.AccessKey, err)
				}
			}
			policies, err := tx.ListPolicies(ctx, o.ID)
			if err != nil {
				return err
			}
			for _, v := range policies {
				if _, err := tx.UpdatePolicy(ctx, v); err != nil {
					return fmt.Errorf("policy %q: %w", v.ID, err)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("an accepted entity does not re-validate (Update with the same value): %v", err)
	}
}

// fzLoad runs one Load of data into store and checks the contract: a
// rejection is typed and changes nothing; an acceptance is one revision,
// answered alike by the Evaluator that followed the load and by a fresh
// one, and every entity it holds re-validates.
func fzLoad(t *testing.T, store *iam.MemoryStore, data []byte, opts ...iam.LoadOption) {
	ctx := context.Background()
	ev, err := iam.NewEvaluator(ctx, store, iam.WithClock(fzClock))
	require.NoError(t, err)
	defer ev.Close()
	before := dumpStore(t, store)

	err = iam.Load(ctx, store, "fuzz.json", data, opts...)
	if err != nil {
		fzRequireTyped(t, err, fzStoreErrors, "Load")
		requireUnchanged(t, store, before)
		require.Equal(t, before.Revision, ev.Revision(), "the Evaluator saw a change from a rejected load")
		return
	}
	after := dumpStore(t, store)
	if d := after.Revision - before.Revision; d > 1 {
		t.Fatalf("an accepted load took %d revisions; it is one atomic write", d)
	}
	require.Equal(t, after.Revision, ev.Revision(), "the Evaluator that followed the load lags the store")

	reqs := fzRequests(t, store)
	fresh, err := iam.NewEvaluator(ctx, store, iam.WithClock(fzClock))
	require.NoError(t, err)
	defer fresh.Close()
	followed, built := fzAnswers(ctx, ev, reqs), fzAnswers(ctx, fresh, reqs)
	for i := range reqs {
		if followed[i] != built[i] {
			t.Fatalf("the Evaluator that followed the load and a fresh one disagree on %+v:\nfollowed: %+v\nfresh:    %+v", reqs[i], followed[i], built[i])
		}
	}

	// Every entity re-validates, and writing it back unchanged changes
	// neither the contents nor any answer.
	fzRevalidate(t, store)
	again := dumpStore(t, store)
	after.Revision = again.Revision
	if diff := cmp.Diff(after, again); diff != "" {
		t.Fatalf("writing every entity back unchanged changed the store (-before +after):\n%s", diff)
	}
	for i, a := range fzAnswers(ctx, ev, reqs) {
		a.Revision = followed[i].Revision
		if a != followed[i] {
			t.Fatalf("writing every entity back unchanged changed the answer to %+v:\nbefore: %+v\nafter:  %+v", reqs[i], followed[i], a)
		}
	}
}

// fzMalformed derives malformed variants of a seed: cut short, a byte
// flipped, a field renamed or retyped.
func fzMalformed(data []byte) [][]byte {
	s := string(data)
	out := [][]byte{
		data[:len(data)/2],
		data[:len(data)-1],
		append(slices.Clone(data), []byte(`{}`)...),
		[]byte(strings.Replace(s, `"name"`, `"nmae"`, 1)),
		[]byte(strings.Replace(s, `"rules": [`, `"rules": [null, `, 1)),
		[]byte(strings.Replace(s, `"projects": [`, `"projects": [42, `, 1)),
		[]byte(strings.Replace(s, `"permission_sets": [`, `"permission_sets": ["InstanceFullAccess", `, 1)),
		[]byte(strings.Replace(s, `"organization": true`, `"organization": true, "projects": []`, 1)),
		[]byte(strings.Replace(s, `:`, `::`, 1)),
		[]byte(strings.ReplaceAll(s, `"`, `'`)),
	}
	return out
}

// FuzzLoadWorld loads arbitrary bytes as a world file into a store that
// already holds two organizations, acme (the seed, testdata/seed.json) and
// globex; replace loads with ReplaceExisting.
func FuzzLoadWorld(f *testing.F) {
	for _, data := range fzSeedFiles(f) {
		f.Add(data, false)
		f.Add(data, true)
		for _, bad := range fzMalformed(data) {
			f.Add(bad, true)
		}
	}
	f.Add([]byte(`{"organization": {"id": "x", "name": "X"}}`), false)
	f.Add([]byte(`{"organization": {"name": "acme"}, "projects": [{"name": "default"}, {"id": "acme", "name": "again"}]}`), true)
	f.Fuzz(func(t *testing.T, data []byte, replace bool) {
		store := fzNewStore()
		fzMustLoad(t, store, "testdata/seed.json")
		fzMustLoad(t, store, "testdata/fuzzseed/globex.json")
		var opts []iam.LoadOption
		if replace {
			opts = append(opts, iam.ReplaceExisting())
		}
		fzLoad(t, store, data, opts...)
	})
}

// FuzzLoadPolicy loads arbitrary bytes as a policy file. mode picks the
// store and the target: 0, a store holding only globex and no option; 1,
// acme and globex, IntoOrganization("globex"); 2, the same into acme.
func FuzzLoadPolicy(f *testing.F) {
	seeds := fzSeedFiles(f)
	for path, data := range seeds {
		if strings.Contains(path, "policy") {
			for mode := range uint8(3) {
				f.Add(data, mode, false)
				f.Add(data, mode, true)
			}
			for _, bad := range fzMalformed(data) {
				f.Add(bad, uint8(1), true)
			}
		}
	}
	f.Add([]byte(`{"policies": []}`), uint8(0), false)
	f.Add([]byte(`{"rules": []}`), uint8(2), false)
	f.Add([]byte(`{"id": "pol-ops", "group": "ops", "rules": [{"organization": true, "permission_sets": ["BillingReadOnly"]}]}`), uint8(1), true)
	f.Fuzz(func(t *testing.T, data []byte, mode uint8, replace bool) {
		store := fzNewStore()
		var opts []iam.LoadOption
		switch mode % 3 {
		case 0:
			fzMustLoad(t, store, "testdata/fuzzseed/globex.json")
		case 1:
			fzMustLoad(t, store, "testdata/seed.json")
			fzMustLoad(t, store, "testdata/fuzzseed/globex.json")
			opts = append(opts, iam.IntoOrganization("globex"))
		case 2:
			fzMustLoad(t, store, "testdata/seed.json")
			fzMustLoad(t, store, "testdata/fuzzseed/globex.json")
			opts = append(opts, iam.IntoOrganization("acme"))
		}
		if replace {
			opts = append(opts, iam.ReplaceExisting())
		}
		fzLoad(t, store, data, opts...)
	})
}

// ----- FuzzCheck -----

// fzCheckWorld is the fixed world FuzzCheck asks about: the seed
// (acme), globex (a locked user, a managed application, an expired key, a
// conditional rule, custom sets of both scope types) and initech (the
// all-applications group, includes three deep, an unattached policy),
// with the full catalogue. It is built once per process and only read.
var fzCheckWorld = sync.OnceValues(func() (*iam.Evaluator, error) {
	ctx := context.Background()
	store := iam.NewMemoryStore(iam.WithConditions(fzEngine()))
	for _, path := range []string{"testdata/seed.json", "testdata/fuzzseed/globex.json", "testdata/fuzzseed/world_custom_sets.json"} {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		if err := iam.Load(ctx, store, path, data); err != nil {
			return nil, err
		}
	}
	ev, err := iam.NewEvaluator(ctx, store, iam.WithClock(fzClock))
	return ev, err
})

// fzWhere says which organization holds a principal, a project or an
// organization ID ("" when none does), and whether a user is locked.
type fzWhere struct {
	org    string
	locked bool
}

var fzCheckIndex = sync.OnceValue(func() map[string]fzWhere {
	// Written from the three files, independently of the Evaluator.
	m := map[string]fzWhere{}
	for _, id := range []string{"acme", "A", "F", "owner@acme.test", "ana@acme.test", "production-c", "Billing", "SCWPRODC000000000001"} {
		m[id] = fzWhere{org: "acme"}
	}
	for _, id := range []string{"globex", "p-web", "p-db", "u-hank", "u-bob", "a-ci", "a-web", "g-ops", "g-all", "SCWCI", "SCWBOB", "SCWOLD"} {
		m[id] = fzWhere{org: "globex"}
	}
	m["u-ana"] = fzWhere{org: "globex", locked: true}
	for _, id := range []string{"initech", "tps", "bill", "peter", "printer", "stapler", "apps", "devs", "SCWPETER"} {
		m[id] = fzWhere{org: "initech"}
	}
	m["milton"] = fzWhere{org: "initech", locked: true}
	return m
})

// fzKeyBearer maps the world's API keys to their bearers.
var fzKeyBearer = map[string]string{
	"SCWPRODC000000000001": "production-c", "SCWCI": "a-ci", "SCWBOB": "u-bob", "SCWOLD": "u-bob", "SCWPETER": "peter",
}

// FuzzCheck asks arbitrary requests of a fixed world: no panic; an error
// means a deny and is one of Check's sentinels, in the documented order
// for malformed requests; Explain and CheckBatch agree with Check; an
// allow never crosses an organization nor reaches a locked user; WhoCan
// agrees with Check for users and applications.
func FuzzCheck(f *testing.F) {
	type seed struct {
		ptype                      uint8
		id, project, org, perm, ip string
	}
	for _, s := range []seed{
		{2, "production-c", "A", "", "InstancesFullAccess", ""},
		{2, "production-c", "", "acme", "BillingReadOnly", "203.0.113.7"},
		{2, "production-c", "", "acme", "BillingReadOnly", "203.0.113.8"},
		{4, "SCWPRODC000000000001", "F", "", "container_registry:namespace:create", ""},
		{1, "ana@acme.test", "A", "", "InstancesFullAccess", ""},
		{1, "owner@acme.test", "", "globex", "IAMManager", ""},
		{1, "u-ana", "p-web", "", "web:page:read", ""},
		{1, "u-bob", "", "globex", "WebAudit", "10.1.2.3"},
		{1, "u-bob", "p-db", "", "web:page:list", ""},
		{4, "SCWOLD", "p-db", "", "WebRead", ""},
		{3, "g-ops", "p-web", "", "WebAll", ""},
		{2, "a-ci", "globex", "", "InstancesReadOnly", ""},
		{1, "peter", "tps", "", "tps:report:create", ""},
		{2, "stapler", "", "initech", "TPSRead", ""},
		{1, "peter", "initech", "", "TPSTop", ""},
		{1, "bill", "tps", "", "Stapling", ""},
		{0, "", "", "", "", ""},
		{1, "peter", "tps", "initech", "TPSRead", ""},
		{1, "peter", "tps", "", "tps:*:read", ""},
		{1, "peter", "tps", "", "tps:report", ""},
		{5, "peter", "tps", "", "TPSRead", ""},
		{3, "peter", "tps", "", "TPSRead", ""},
		{1, "peter", "ghost", "", "TPSRead", ""},
		{1, "peter", "A", "", "InstancesFullAccess", ""},
	} {
		f.Add(s.ptype, s.id, s.project, s.org, s.perm, s.ip)
	}
	f.Fuzz(func(t *testing.T, ptype uint8, id, project, org, perm, ip string) {
		ctx := context.Background()
		ev, err := fzCheckWorld()
		require.NoError(t, err)
		req := iam.Request{
			Principal: iam.Principal{Type: iam.PrincipalType(ptype % 6), ID: id},
			ProjectID: project, OrganizationID: org, Permission: perm,
			Time: fzNow, UserAgent: "fuzz/1",
		}
		if addr, err := netip.ParseAddr(ip); err == nil {
			req.IP = addr
		}
		dec, err := ev.Check(ctx, req)
		if err != nil {
			if dec.Allowed {
				t.Fatalf("Allowed with an error: %v", err)
			}
			fzRequireTyped(t, err, fzCheckErrors, "Check")
		} else if !dec.Allowed && !slices.Contains([]iam.Reason{iam.ReasonNotGranted, iam.ReasonOtherOrganization, iam.ReasonLocked, iam.ReasonExpired}, dec.Reason) {
			t.Fatalf("a deny with reason %v", dec.Reason)
		} else if dec.Allowed && dec.Reason != iam.ReasonGranted && dec.Reason != iam.ReasonOwner {
			t.Fatalf("an allow with reason %v", dec.Reason)
		}

		// Malformed requests are ErrInvalid, whatever else is wrong.
		malformed := req.Principal.Type == iam.PrincipalNone || id == "" ||
			(project == "") == (org == "") || perm == "" || strings.Contains(perm, "*")
		if malformed && !errors.Is(err, iam.ErrInvalid) {
			t.Fatalf("a malformed request gave %v, %+v; want ErrInvalid", err, dec)
		}

		// Explain and CheckBatch answer as Check does.
		x, xerr := ev.Explain(ctx, req)
		if fmt.Sprint(err) != fmt.Sprint(xerr) {
			t.Fatalf("Check and Explain disagree on the error:\ncheck:   %v\nexplain: %v", err, xerr)
		}
		if err == nil && x.Decision != dec {
			t.Fatalf("Check and Explain disagree:\ncheck:   %+v\nexplain: %+v\n%s", dec, x.Decision, x)
		}
		if err == nil && dec.Allowed != (len(x.Grants) > 0) {
			t.Fatalf("Explain lists %d grants for allowed=%v:\n%s", len(x.Grants), dec.Allowed, x)
		}
		batch := ev.CheckBatch(ctx, []iam.Request{req})
		if fmt.Sprint(batch[0].Err) != fmt.Sprint(err) || batch[0].Decision != dec {
			t.Fatalf("Check and CheckBatch disagree:\ncheck: %+v %v\nbatch: %+v %v", dec, err, batch[0].Decision, batch[0].Err)
		}

		// An allow stays inside the caller's organization, and never
		// reaches a locked user.
		if dec.Allowed {
			idx := fzCheckIndex()
			caller := id
			if req.Principal.Type == iam.PrincipalAPIKey {
				caller = fzKeyBearer[id]
			}
			target := project + org
			who, tgt := idx[caller], idx[target]
			if who.org == "" || who.org != tgt.org {
				t.Fatalf("allowed across organizations: caller %q (of %q), target %q (of %q)", caller, who.org, target, tgt.org)
			}
			if who.locked {
				t.Fatalf("a locked user is allowed")
			}
		}

		// WhoCan lists exactly the users and applications Check allows.
		if err == nil && (req.Principal.Type == iam.PrincipalUser || req.Principal.Type == iam.PrincipalApplication) {
			who, werr := ev.WhoCan(ctx, req)
			require.NoError(t, werr, "WhoCan on a request Check answered")
			if listed := slices.Contains(who, req.Principal); listed != dec.Allowed {
				t.Fatalf("WhoCan lists %v (%v) but Check says allowed=%v (%v)", req.Principal, listed, dec.Allowed, dec.Reason)
			}
		}
	})
}

// ----- permissions -----

// fzSplit is a reference splitter: exactly three non-empty segments.
func fzSplit(s string) ([]string, bool) {
	parts := strings.Split(s, ":")
	if len(parts) != 3 || slices.Contains(parts, "") {
		return nil, false
	}
	return parts, true
}

// fzConcreteSegment is the documented segment syntax of a concrete
// permission: lower-case ASCII letters, digits, '-', '_', '.'; 1-64 bytes.
func fzConcreteSegment(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

func FuzzParsePermission(f *testing.F) {
	for _, s := range []string{
		"instance:server:create", "iam:policy:read", "a:b:c", "a-b_c.d:0:9",
		"instance:*:read", "*:*:*", "Instance:server:create", "instance:server", "instance:server:create:now",
		"instance::create", ":server:create", "instance:server:", "", ":", "::", "instance server:create:x",
		"é:b:c", strings.Repeat("a", 64) + ":b:c", strings.Repeat("a", 65) + ":b:c", "a:b:c\n", "a:b:c\x00",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		svc, res, act, err := iam.ParsePermission(p)
		parts, split := fzSplit(p)
		want := split && fzConcreteSegment(parts[0]) && fzConcreteSegment(parts[1]) && fzConcreteSegment(parts[2])
		if err != nil {
			if want {
				t.Fatalf("ParsePermission rejected the well-formed %q: %v", p, err)
			}
			var ve *iam.ValidationError
			if !errors.As(err, &ve) || !errors.Is(err, iam.ErrInvalid) || !strings.HasPrefix(err.Error(), "iam: ") {
				t.Fatalf("ParsePermission(%q) error is not a typed ValidationError: %T %v", p, err, err)
			}
			if svc != "" || res != "" || act != "" {
				t.Fatalf("ParsePermission(%q) returned segments with an error", p)
			}
			return
		}
		if !want {
			t.Fatalf("ParsePermission accepted the malformed %q", p)
		}
		if svc+":"+res+":"+act != p || strings.Contains(p, "*") {
			t.Fatalf("ParsePermission(%q) = %q, %q, %q", p, svc, res, act)
		}
		if !iam.IsPermission(p) {
			t.Fatalf("IsPermission(%q) is false for an accepted permission", p)
		}
		// An accepted permission matches itself, and every pattern that
		// stars some of its segments.
		for mask := range 8 {
			seg := []string{svc, res, act}
			for i := range 3 {
				if mask&(1<<i) != 0 {
					seg[i] = "*"
				}
			}
			pattern := strings.Join(seg, ":")
			if !iam.MatchPermission(pattern, p) {
				t.Fatalf("MatchPermission(%q, %q) is false", pattern, p)
			}
		}
	})
}

// fzMatch is the reference matcher: segment by segment, "*" matching one
// whole segment.
func fzMatch(pattern, permission string) bool {
	ps, ok1 := fzSplit(pattern)
	qs, ok2 := fzSplit(permission)
	if !ok1 || !ok2 {
		return false
	}
	for i := range 3 {
		if ps[i] != "*" && ps[i] != qs[i] {
			return false
		}
	}
	return true
}

func FuzzMatchPermission(f *testing.F) {
	for _, s := range [][2]string{
		{"instance:*:*", "instance:server:create"}, {"instance:*:read", "instance:server:read"},
		{"instance:*:read", "instance:server:create"}, {"*:*:*", "a:b:c"}, {"*", "a:b:c"},
		{"instance:*", "instance:server:create"}, {"*:create", "instance:server:create"},
		{"inst*:server:create", "instance:server:create"}, {"instance:*:create", "instance:a:b:create"},
		{"a:*:c", "a:b:c:c"}, {"a:*:c", "a:b:c"}, {"a:b:c", "a:b:c"}, {"a:b:*", "a:b:"}, {"a:b:*", "a::c"},
		{"*:*:*", "a:b:c:d"}, {"*:*:*", "::"}, {"a:**:c", "a:b:c"}, {"a:b*:c", "a:bb:c"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, permission string) {
		got := iam.MatchPermission(pattern, permission)
		if want := fzMatch(pattern, permission); got != want {
			t.Fatalf("MatchPermission(%q, %q) = %v, want %v", pattern, permission, got, want)
		}
		if got && strings.Count(permission, ":") != 2 {
			t.Fatalf("MatchPermission(%q, %q): a '*' matched across ':'", pattern, permission)
		}
		if _, _, _, err := iam.ParsePermission(permission); err == nil && !iam.MatchPermission(permission, permission) {
			t.Fatalf("the accepted permission %q does not match itself", permission)
		}
	})
}

// ----- FuzzCreatePolicy -----

// fzBytes turns fuzz bytes into choices: each call takes the next byte
// (zero once they run out), so that mutating a byte changes one choice.
type fzBytes struct{ b []byte }

func (d *fzBytes) next() byte {
	if len(d.b) == 0 {
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *fzBytes) intn(n int) int { return int(d.next()) % n }

// raw takes up to 15 bytes as a string, valid UTF-8 or not.
func (d *fzBytes) raw() string {
	n := min(d.intn(16), len(d.b))
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

// str picks one of choices, or a raw string for the index past the end.
func (d *fzBytes) str(choices ...string) string {
	i := d.intn(len(choices) + 1)
	if i == len(choices) {
		return d.raw()
	}
	return choices[i]
}

// fzPolicyWorld is what FuzzCreatePolicy writes policies into:
//
//	acme: owner acme-owner; projects acme (default), p1, p2; users u1,
//	      u2 (locked); applications a1, a2 (managed); groups g1 (u1, a1),
//	      gall (all users); sets AcmeSet (projects), AcmeOrgSet
//	      (organization); policy pol-existing (u1); key k1 (u1)
//	beta: owner beta-owner; project bp1; user bu; group bg; set BetaSet
func fzPolicyWorld(t testing.TB) *world {
	t.Helper()
	w := newWorld(t, iam.WithConditions(fzEngine()), iam.WithCatalogue(fzCatalogue()))
	w.project(w.org, "p1")
	w.project(w.org, "p2")
	w.user(w.org, "u1")
	w.user(w.org, "u2")
	_, err := w.store.UpdateUser(w.ctx, iam.User{ID: "u2", OrganizationID: w.org, Email: "u2@acme.test", Locked: true})
	require.NoError(t, err)
	w.app(w.org, "a1", false)
	w.app(w.org, "a2", true)
	w.group(iam.Group{ID: "g1", OrganizationID: w.org, UserIDs: ids("u1"), ApplicationIDs: ids("a1")})
	w.group(iam.Group{ID: "gall", OrganizationID: w.org, AllUsers: true})
	w.set(iam.PermissionSet{Name: "AcmeSet", OrganizationID: w.org, ScopeType: iam.ScopeProjects, Permissions: []string{"acme:thing:*"}})
	w.set(iam.PermissionSet{Name: "AcmeOrgSet", OrganizationID: w.org, ScopeType: iam.ScopeOrganization, Permissions: []string{"acme:org:read"}})
	w.policy(w.org, "pol-existing", iam.UserPrincipal("u1"), onProjects(ids("p1"), "InstancesReadOnly"))
	w.key(iam.APIKey{AccessKey: "k1", OrganizationID: w.org, Bearer: iam.UserPrincipal("u1")})
	w.addOrg("beta", "beta-owner")
	w.project("beta", "bp1")
	w.user("beta", "bu")
	w.group(iam.Group{ID: "bg", OrganizationID: "beta", Name: "beta group"})
	w.set(iam.PermissionSet{Name: "BetaSet", OrganizationID: "beta", ScopeType: iam.ScopeProjects, Permissions: []string{"beta:thing:*"}})
	return w
}

// fzDecodePolicy builds a policy from fuzz bytes: every field drawn from
// valid values, values that break one rule, and raw bytes.
func fzDecodePolicy(data []byte) iam.Policy {
	d := &fzBytes{b: data}
	long := func(r rune, n int) string { return strings.Repeat(string(r), n) }
	p := iam.Policy{
		ID:             d.str("", "fz-pol", "fz pol", "pol-existing", "acme", "p1", "bu", long('x', 129), "k1"),
		OrganizationID: d.str("acme", "beta", "", "ghost"),
		Name:           d.str("", "Fuzz policy", " lead", "tab\tname", long('é', 255), long('é', 256)),
		Description:    d.str("", "d", long('日', 200), long('日', 201)),
	}
	p.Principal = iam.Principal{
		Type: iam.PrincipalType(d.intn(6)),
		ID:   d.str("", "u1", "u2", "a1", "a2", "g1", "gall", "acme-owner", "bu", "bg", "k1", "p1", "ghost"),
	}
	for range d.intn(13) {
		p.Tags = append(p.Tags, d.str("t", "", long('ü', 70), long('ü', 71), "dup", "dup"))
	}
	projects := []string{"p1", "p2", "acme", "bp1", "ghost", "beta", "u1"}
	sets := []string{"InstancesFullAccess", "InstancesReadOnly", "ObjectStorageReadOnly", "BillingReadOnly", "IAMManager",
		"AcmeSet", "AcmeOrgSet", "BetaSet", "InstanceFullAccess", "instance:server:create", ""}
	for range d.intn(5) {
		var r iam.Rule
		switch d.intn(4) {
		case 0:
			for range d.intn(4) {
				r.Scope.ProjectIDs = append(r.Scope.ProjectIDs, d.str(projects...))
			}
		case 1:
			r.Scope.OrganizationID = d.str("acme", "beta", "ghost")
		case 2:
			r.Scope.ProjectIDs = []string{d.str(projects...)}
			r.Scope.OrganizationID = d.str("acme", "beta")
		}
		for range d.intn(4) {
			r.PermissionSets = append(r.PermissionSets, d.str(sets...))
		}
		r.Condition = d.str("", "", "", `request.ip == '203.0.113.7'`, "true", "false", "request.ip ==", "resource.zone == 'x'", "1 + 1")
		p.Rules = append(p.Rules, r)
	}
	return p
}

// FuzzCreatePolicy creates arbitrary policies: an invalid one is a typed
// error that changes nothing; a valid one reads back as written, re-
// validates, and grants exactly its rules: every well-formed request for
// what a rule names, at its scope, is answered without error, and allowed
// unless the rule has a condition or the principal is a locked user.
func FuzzCreatePolicy(f *testing.F) {
	for _, s := range []string{
		"", "\x01\x00\x00\x00\x01\x01\x01\x00\x01\x00\x00",
		// A valid policy on u1 with one rule on p1 and p2.
		"\x01\x00\x01\x01\x01\x01\x00\x01\x00\x02\x00\x01\x00\x00",
		// An organization rule for a group.
		"\x01\x00\x00\x00\x03\x05\x00\x01\x01\x00\x01\x03\x00",
		// A rule with both scopes; a mixed scope; an unknown set.
		"\x01\x00\x00\x00\x01\x01\x00\x01\x02\x00\x00\x02\x00\x04\x00",
		"\x01\x00\x00\x00\x01\x01\x00\x01\x00\x01\x00\x01\x08\x00",
		// A conditional rule; a condition that does not compile.
		"\x01\x00\x00\x00\x02\x03\x00\x01\x01\x00\x01\x00\x03",
		"\x01\x00\x00\x00\x02\x03\x00\x01\x01\x00\x01\x00\x06",
		// Another organization's principal, project and set.
		"\x01\x00\x00\x00\x01\x08\x00\x01\x00\x01\x03\x01\x07\x00",
		"\x01\x01\x00\x00\x01\x08\x00\x01\x00\x01\x00\x01\x07\x00",
		// Raw bytes everywhere.
		"\x09\x05\xff\xfe\x04\x06\x0d\xc3\x28\x0c\x02\x00\x07\x01\x03",
	} {
		f.Add([]byte(s))
	}
	// One world per process: each input leaves it as it found it.
	w := fzPolicyWorld(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		ctx := w.ctx
		p := fzDecodePolicy(data)
		before := dumpStore(t, w.store)
		got, err := w.store.CreatePolicy(ctx, p)
		if err != nil {
			fzRequireTyped(t, err, fzStoreErrors, "CreatePolicy")
			requireUnchanged(t, w.store, before)
			require.Equal(t, before.Revision, w.ev.Revision(), "the Evaluator saw a rejected write")
			return
		}
		// Leave the world as it was for the next input.
		defer func() { require.NoError(t, w.store.DeletePolicy(ctx, got.ID)) }()

		rev, err := w.store.Revision(ctx)
		require.NoError(t, err)
		require.Equal(t, before.Revision+1, rev)
		if p.ID != "" {
			require.Equal(t, p.ID, got.ID)
		}
		require.NotEmpty(t, got.ID)
		want := p
		want.ID = got.ID
		if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("CreatePolicy returned another policy than it was given (-given +returned):\n%s", diff)
		}
		stored, err := w.store.GetPolicy(ctx, got.ID)
		require.NoError(t, err)
		if diff := cmp.Diff(got, stored); diff != "" {
			t.Fatalf("GetPolicy differs from what CreatePolicy returned (-created +stored):\n%s", diff)
		}
		if _, err := w.store.UpdatePolicy(ctx, stored); err != nil {
			t.Fatalf("the stored policy does not re-validate: %v", err)
		}
		fzCheckPolicyGrants(t, w, stored)
	})
}

// fzCheckPolicyGrants asks, for every rule of p and every set it names,
// at every place its scope names, whether p's principal (and the group's
// members) may: never an error; allowed unless the rule has a condition
// or the caller is locked.
func fzCheckPolicyGrants(t *testing.T, w *world, p iam.Policy) {
	if p.Principal.IsZero() {
		return
	}
	members := map[iam.Principal][]iam.Principal{
		iam.GroupPrincipal("g1"):   {iam.UserPrincipal("u1"), iam.ApplicationPrincipal("a1")},
		iam.GroupPrincipal("gall"): {iam.UserPrincipal("u1"), iam.UserPrincipal("acme-owner")},
	}
	callers := append([]iam.Principal{p.Principal}, members[p.Principal]...)
	for i, r := range p.Rules {
		var targets []iam.Request
		if r.Scope.OrganizationID != "" {
			targets = append(targets, iam.Request{OrganizationID: r.Scope.OrganizationID})
		}
		for _, id := range r.Scope.ProjectIDs {
			targets = append(targets, iam.Request{ProjectID: id})
		}
		for _, caller := range callers {
			for _, tgt := range targets {
				for _, set := range r.PermissionSets {
					req := tgt
					req.Principal, req.Permission, req.Time = caller, set, fzNow
					dec, err := w.ev.Check(w.ctx, req)
					if err != nil {
						t.Fatalf("rule %d of the accepted policy %+v: Check(%+v) failed: %v", i, p, req, err)
					}
					switch {
					case caller == iam.UserPrincipal("u2"):
						require.Equal(t, iam.ReasonLocked, dec.Reason, "the locked user u2: %+v", req)
					case caller == iam.UserPrincipal("acme-owner"):
						require.Equal(t, iam.ReasonOwner, dec.Reason, "the owner: %+v", req)
					case r.Condition == "" && !dec.Allowed:
						t.Fatalf("rule %d of the accepted policy %+v does not grant %+v: %+v", i, p, req, dec)
					}
				}
			}
		}
	}
}
