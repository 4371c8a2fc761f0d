package iam_test

// The bounds on everything a caller or a file can make large (limits.go):
// each is asserted by behaviour (the input over the bound is refused with
// the right error, the input at the bound is accepted), never by timing.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/iamkit/iam"
	"github.com/iamkit/iam/conditions"
)

// repeat returns n copies of s.
// distinctProjects creates n projects in w's organization, as one write,
// and returns their IDs: a list at its bound holds each entry once.
func distinctProjects(t *testing.T, w *world, n int) []string {
	t.Helper()
	out := make([]string, n)
	require.NoError(t, w.store.Atomic(w.ctx, func(tx iam.Tx) error {
		for i := range out {
			p, err := tx.CreateProject(w.ctx, iam.Project{ID: fmt.Sprintf("bound-p%d", i), OrganizationID: w.org, Name: fmt.Sprintf("P%d", i)})
			if err != nil {
				return err
			}
			out[i] = p.ID
		}
		return nil
	}))
	return out
}

// distinctSets creates n project-scoped sets in w's organization, as one
// write, and returns their names.
func distinctSets(t *testing.T, w *world, n int) []string {
	t.Helper()
	out := make([]string, n)
	require.NoError(t, w.store.Atomic(w.ctx, func(tx iam.Tx) error {
		for i := range out {
			ps, err := tx.CreatePermissionSet(w.ctx, iam.PermissionSet{Name: fmt.Sprintf("Bound%d", i), OrganizationID: w.org, ScopeType: iam.ScopeProjects, Permissions: []string{fmt.Sprintf("acme:bound%d:*", i)}})
			if err != nil {
				return err
			}
			out[i] = ps.Name
		}
		return nil
	}))
	return out
}

func repeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

// atomically runs write inside Store.Atomic, where no work is done ahead
// of the store's lock: the bounds hold there too.
func atomically(write func(ctx context.Context, tx iam.Tx) error) func(ctx context.Context, s iam.Store) error {
	return func(ctx context.Context, s iam.Store) error {
		return s.Atomic(ctx, func(tx iam.Tx) error { return write(ctx, tx) })
	}
}

// reasonHas asserts that err's ValidationError states the limit.
func reasonHas(t *testing.T, err error, field string, limit int) {
	t.Helper()
	ve := requireValidation(t, err, field)
	require.Contains(t, ve.Reason, fmt.Sprint(limit), "the reason states the limit")
}

func TestAPolicyHasAtMostMaxRulesPerPolicyRules(t *testing.T) {
	t.Parallel()
	rules := repeat("", iam.MaxRulesPerPolicy+1)
	over := make([]iam.Rule, len(rules))
	for i := range over {
		over[i] = onProjects(ids("p1"), "InstancesReadOnly")
	}
	msg := []string{fmt.Sprintf("at most %d rules", iam.MaxRulesPerPolicy)}
	runRejected(t, []rejected{
		{"create", createPolicy(over...), []error{iam.ErrInvalid}, "rules", msg},
		{"update", updatePolicy("pol", func(p *iam.Policy) { p.Rules = over }), []error{iam.ErrInvalid}, "rules", msg},
		{"atomic", atomically(func(ctx context.Context, tx iam.Tx) error {
			_, err := tx.CreatePolicy(ctx, iam.Policy{OrganizationID: "acme", Rules: over})
			return err
		}), []error{iam.ErrInvalid}, "rules", msg},
	})
	w := validationWorld(t)
	_, err := w.store.CreatePolicy(w.ctx, iam.Policy{OrganizationID: "acme", Rules: over[:iam.MaxRulesPerPolicy]})
	require.NoError(t, err, "a policy at the bound is accepted")
}

func TestARuleListsAtMostMaxProjectsPerRuleProjects(t *testing.T) {
	t.Parallel()
	over := onProjects(repeat("p1", iam.MaxProjectsPerRule+1), "InstancesReadOnly")
	msg := []string{fmt.Sprintf("at most %d projects", iam.MaxProjectsPerRule)}
	runRejected(t, []rejected{
		{"create", createPolicy(onOrg("acme", "BillingReadOnly"), over), []error{iam.ErrInvalid}, "rules[1].projects", msg},
		{"update", updatePolicy("pol", func(p *iam.Policy) { p.Rules = []iam.Rule{over} }), []error{iam.ErrInvalid}, "rules[0].projects", msg},
	})
	w := validationWorld(t)
	_, err := w.store.CreatePolicy(w.ctx, iam.Policy{OrganizationID: "acme", Rules: []iam.Rule{
		onProjects(distinctProjects(t, w, iam.MaxProjectsPerRule), "InstancesReadOnly")}})
	require.NoError(t, err, "a rule at the bound is accepted")
}

func TestARuleGrantsAtMostMaxPermissionSetsPerRuleSets(t *testing.T) {
	t.Parallel()
	over := onProjects(ids("p1"), repeat("InstancesReadOnly", iam.MaxPermissionSetsPerRule+1)...)
	msg := []string{fmt.Sprintf("at most %d permission sets", iam.MaxPermissionSetsPerRule)}
	runRejected(t, []rejected{
		{"create", createPolicy(over), []error{iam.ErrInvalid}, "rules[0].permission_sets", msg},
		{"atomic update", atomically(func(ctx context.Context, tx iam.Tx) error {
			p, err := tx.GetPolicy(ctx, "pol")
			if err != nil {
				return fmt.Errorf("%w: %w", errSetup, err)
			}
			p.Rules = append(p.Rules, over)
			_, err = tx.UpdatePolicy(ctx, p)
			return err
		}), []error{iam.ErrInvalid}, "rules[1].permission_sets", msg},
	})
	w := validationWorld(t)
	_, err := w.store.CreatePolicy(w.ctx, iam.Policy{OrganizationID: "acme", Rules: []iam.Rule{
		onProjects(ids("p1"), distinctSets(t, w, iam.MaxPermissionSetsPerRule)...)}})
	require.NoError(t, err, "a rule at the bound is accepted")
}

func TestAConditionHasAtMostMaxConditionLengthCharacters(t *testing.T) {
	t.Parallel()
	// `request.user_agent == "ééé…"` of n characters, 2n bytes or so.
	cond := func(n int) string {
		head := `request.user_agent == "`
		return head + strings.Repeat("é", n-len(head)-1) + `"`
	}
	w := newWorld(t, iam.WithConditions(conditions.New()))
	w.user(w.org, "u")
	rule := func(c string) iam.Rule {
		return iam.Rule{Scope: iam.OrganizationScope(w.org), PermissionSets: []string{"BillingReadOnly"}, Condition: c}
	}
	for name, write := range map[string]func(c string) error{
		"create": func(c string) error {
			_, err := w.store.CreatePolicy(w.ctx, iam.Policy{OrganizationID: w.org, Rules: []iam.Rule{rule("true"), rule(c)}})
			return err
		},
		"atomic": func(c string) error {
			return w.store.Atomic(w.ctx, func(tx iam.Tx) error {
				_, err := tx.CreatePolicy(w.ctx, iam.Policy{OrganizationID: w.org, Rules: []iam.Rule{rule("true"), rule(c)}})
				return err
			})
		},
	} {
		rev := w.ev.Revision()
		err := write(cond(iam.MaxConditionLength + 1))
		reasonHas(t, err, "rules[1].condition", iam.MaxConditionLength)
		require.Less(t, len(err.Error()), 1000, "%s: the error does not repeat the whole condition", name)
		require.Equal(t, rev, w.ev.Revision(), "%s: nothing changed", name)
		require.NoError(t, write(cond(iam.MaxConditionLength)), "%s: a condition at the bound is accepted", name)
	}
}

func TestAGroupListsAtMostMaxGroupMembers(t *testing.T) {
	t.Parallel()
	msg := []string{fmt.Sprintf("at most %d members", iam.MaxGroupMembers)}
	half := iam.MaxGroupMembers / 2
	runRejected(t, []rejected{
		{"create, users", func(ctx context.Context, s iam.Store) error {
			_, err := s.CreateGroup(ctx, iam.Group{ID: "big", OrganizationID: "acme", Name: "Big", UserIDs: repeat("u1", iam.MaxGroupMembers+1)})
			return err
		}, []error{iam.ErrInvalid}, fmt.Sprintf("users[%d]", iam.MaxGroupMembers), msg},
		{"update, users and applications together", func(ctx context.Context, s iam.Store) error {
			_, err := s.UpdateGroup(ctx, iam.Group{ID: "team", OrganizationID: "acme", Name: "Team",
				UserIDs: repeat("u1", half), ApplicationIDs: repeat("a1", iam.MaxGroupMembers-half+1)})
			return err
		}, []error{iam.ErrInvalid}, fmt.Sprintf("applications[%d]", iam.MaxGroupMembers-half), msg},
	})
	w := validationWorld(t)
	_, err := w.store.UpdateGroup(w.ctx, iam.Group{ID: "team", OrganizationID: "acme", Name: "Team",
		UserIDs: repeat("u1", half), ApplicationIDs: repeat("a1", iam.MaxGroupMembers-half)})
	require.NoError(t, err, "a group at the bound is accepted")
}

func TestAPermissionSetHoldsAtMostMaxPermissionsPerSetPatterns(t *testing.T) {
	t.Parallel()
	patterns := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("shop:item%d:read", i)
		}
		return out
	}
	msg := []string{fmt.Sprintf("at most %d patterns", iam.MaxPermissionsPerSet)}
	runRejected(t, []rejected{
		{"create", func(ctx context.Context, s iam.Store) error {
			_, err := s.CreatePermissionSet(ctx, iam.PermissionSet{Name: "Shop", OrganizationID: "acme", ScopeType: iam.ScopeProjects, Permissions: patterns(iam.MaxPermissionsPerSet + 1)})
			return err
		}, []error{iam.ErrInvalid}, "permissions", msg},
	})
	w := validationWorld(t)
	_, err := w.store.CreatePermissionSet(w.ctx, iam.PermissionSet{Name: "Shop", OrganizationID: "acme", ScopeType: iam.ScopeProjects, Permissions: patterns(iam.MaxPermissionsPerSet)})
	require.NoError(t, err, "a set at the bound is accepted")
}

func TestAPermissionSetIncludesAtMostMaxIncludesSets(t *testing.T) {
	t.Parallel()
	msg := []string{fmt.Sprintf("at most %d sets", iam.MaxIncludes)}
	runRejected(t, []rejected{
		{"update", func(ctx context.Context, s iam.Store) error {
			_, err := s.UpdatePermissionSet(ctx, iam.PermissionSet{Name: "AcmeTop", OrganizationID: "acme", ScopeType: iam.ScopeProjects, Includes: repeat("AcmeSet", iam.MaxIncludes+1)})
			return err
		}, []error{iam.ErrInvalid}, "includes", msg},
	})
	w := validationWorld(t)
	_, err := w.store.UpdatePermissionSet(w.ctx, iam.PermissionSet{Name: "AcmeTop", OrganizationID: "acme", ScopeType: iam.ScopeProjects, Includes: distinctSets(t, w, iam.MaxIncludes)})
	require.NoError(t, err, "a set at the bound is accepted")
}

// boundsCondition grants u InstancesServerCreate in A when the resource
// name matches a regular expression, and v the same set unconditionally.
const boundsCondition = `has(resource.name) && resource.name.matches("^(a|b)*x$")`

func newBoundsWorld(t *testing.T) *world {
	t.Helper()
	w := newCDWorld(t)
	w.user(w.org, "v")
	w.policy(w.org, "pol-regex", iam.UserPrincipal("u"), iam.Rule{Scope: iam.ProjectsScope("A"), PermissionSets: []string{"InstancesServerCreate"}, Condition: boundsCondition})
	w.policy(w.org, "pol-plain", iam.UserPrincipal("v"), onProjects(ids("A"), "InstancesServerCreate"))
	return w
}

// A request whose condition context holds a string over MaxRequestField
// bytes is ErrInvalid before any condition runs, whoever asks and whatever
// grants it: a resource name of megabytes never reaches a regular
// expression.
func TestAHugeResourceNameCannotSlowACheck(t *testing.T) {
	t.Parallel()
	w := newBoundsWorld(t)
	huge := strings.Repeat("a", 8<<20)
	over := strings.Repeat("a", iam.MaxRequestField+1)
	for _, tc := range []struct {
		field string
		req   iam.Request
	}{
		{"resource.name", iam.Request{Resource: &iam.Resource{Name: huge}}},
		{"resource.name", iam.Request{Resource: &iam.Resource{Name: over}}},
		{"resource.id", iam.Request{Resource: &iam.Resource{ID: over, Name: "ax"}}},
		{"resource.locality", iam.Request{Resource: &iam.Resource{Locality: over, Name: "ax"}}},
		{"user_agent", iam.Request{UserAgent: over, Resource: &iam.Resource{Name: "ax"}}},
	} {
		for _, caller := range []string{"u", "v", "acme-owner"} {
			req := tc.req
			req.Principal, req.ProjectID, req.Permission = iam.UserPrincipal(caller), "A", "InstancesServerCreate"
			d, err := w.ev.Check(w.ctx, req)
			ve := requireValidation(t, err, tc.field)
			require.Contains(t, ve.Reason, fmt.Sprint(iam.MaxRequestField))
			require.False(t, d.Allowed)
			require.Less(t, len(err.Error()), 1000, "the error does not repeat the whole field")
			_, err = w.ev.Explain(w.ctx, req)
			requireValidation(t, err, tc.field)
		}
		req := tc.req
		req.ProjectID, req.Permission = "A", "InstancesServerCreate"
		_, err := w.ev.WhoCan(w.ctx, req)
		requireValidation(t, err, tc.field)
		req.Principal = iam.UserPrincipal("u")
		_, err = w.ev.WhatCan(w.ctx, req)
		requireValidation(t, err, tc.field)
		req.ProjectID = ""
		_, err = w.ev.WhereCan(w.ctx, req)
		requireValidation(t, err, tc.field)
	}
	// At the bound the condition runs and grants.
	for _, req := range []iam.Request{
		{Resource: &iam.Resource{Name: strings.Repeat("a", iam.MaxRequestField-1) + "x", ID: strings.Repeat("i", iam.MaxRequestField), Locality: strings.Repeat("l", iam.MaxRequestField)}},
		{UserAgent: strings.Repeat("m", iam.MaxRequestField), Resource: &iam.Resource{Name: "ax"}},
	} {
		req.Principal, req.ProjectID, req.Permission = iam.UserPrincipal("u"), "A", "InstancesServerCreate"
		d, err := w.check(req)
		require.NoError(t, err)
		require.True(t, d.Allowed)
	}
}

// A request naming an ID or a permission of megabytes is ErrInvalid, and
// costs no more than a lookup: no suggestion is searched for it and no
// message repeats it.
func TestAHugeRequestIDOrPermissionCannotSlowACheck(t *testing.T) {
	t.Parallel()
	w := newBoundsWorld(t)
	huge := strings.Repeat("a", 1<<20)
	u := iam.UserPrincipal("u")
	for _, tc := range []struct {
		field string
		req   iam.Request
	}{
		{"permission", iam.Request{Principal: u, ProjectID: "A", Permission: "I" + huge}},
		{"permission", iam.Request{Principal: u, ProjectID: "A", Permission: "I" + huge[:iam.MaxNameLength]}},
		{"permission", iam.Request{Principal: u, ProjectID: "A", Permission: "instance:server:" + huge}},
		{"project_id", iam.Request{Principal: u, ProjectID: huge, Permission: "InstancesServerCreate"}},
		{"organization_id", iam.Request{Principal: u, OrganizationID: huge, Permission: "BillingReadOnly"}},
		{"principal", iam.Request{Principal: iam.UserPrincipal(huge), ProjectID: "A", Permission: "InstancesServerCreate"}},
		{"principal", iam.Request{Principal: iam.APIKeyPrincipal(huge), ProjectID: "A", Permission: "InstancesServerCreate"}},
	} {
		_, err := w.check(tc.req)
		requireValidation(t, err, tc.field)
		require.Less(t, len(err.Error()), 1000, "the error does not repeat the whole value")
	}
	_, err := w.ev.Authenticate(w.ctx, huge, "secret")
	require.ErrorIs(t, err, iam.ErrUnauthenticated)
	require.Less(t, len(err.Error()), 1000, "the error does not repeat the whole access key")
}

// An API key's secret has at most MaxSecretLength bytes: a longer one
// cannot be given to a key, and Authenticate refuses it as it refuses a
// wrong secret, without hashing more than the bound.
func TestAnOversizedSecretFailsLikeAWrongSecret(t *testing.T) {
	w := newWorld(t)
	w.user(w.org, "u")
	long := strings.Repeat("s", iam.MaxSecretLength+1)

	_, err := w.store.CreateAPIKey(w.ctx, iam.APIKey{OrganizationID: w.org, Bearer: iam.UserPrincipal("u"), Secret: long})
	reasonHas(t, err, "secret", iam.MaxSecretLength)

	// A key whose stored hash is that of an oversized secret (a file can
	// carry any hash) never authenticates with it.
	w.key(iam.APIKey{AccessKey: "k-long", OrganizationID: w.org, Bearer: iam.UserPrincipal("u"), SecretSHA256: iam.HashSecret(long)})
	_, err = w.ev.Authenticate(w.ctx, "k-long", long)
	require.ErrorIs(t, err, iam.ErrUnauthenticated)
	_, wrong := w.ev.Authenticate(w.ctx, "k-long", "wrong")
	require.Equal(t, wrong.Error(), err.Error(), "an oversized secret fails as a wrong one does")

	// At the bound, a secret works.
	atBound := strings.Repeat("t", iam.MaxSecretLength)
	k := w.key(iam.APIKey{OrganizationID: w.org, Bearer: iam.UserPrincipal("u"), Secret: atBound})
	p, err := w.ev.Authenticate(w.ctx, k.AccessKey, atBound)
	require.NoError(t, err)
	require.Equal(t, iam.UserPrincipal("u"), p)

	// Megabytes of secret are not hashed: hashing them would copy them.
	huge := strings.Repeat("h", 8<<20)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err = w.ev.Authenticate(w.ctx, k.AccessKey, huge)
	runtime.ReadMemStats(&after)
	require.ErrorIs(t, err, iam.ErrUnauthenticated)
	require.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(1<<20), "an oversized secret is not copied to be hashed")
}

// A file over MaxFileSize bytes is refused, naming the bound, before it is
// read (LoadFile) or decoded (Load).
func TestAnOversizedFileIsRefusedNamingTheBound(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := iam.NewMemoryStore()
	path := filepath.Join(t.TempDir(), "big.json")
	f, err := os.Create(path)
	require.NoError(t, err)
	require.NoError(t, f.Truncate(iam.MaxFileSize+1)) // sparse: no disk used
	require.NoError(t, f.Close())

	err = iam.LoadFile(ctx, store, path)
	ve := requireValidation(t, err, "")
	require.Equal(t, path, ve.File)
	require.Contains(t, err.Error(), fmt.Sprint(iam.MaxFileSize))

	err = iam.Load(ctx, store, "big.json", make([]byte, iam.MaxFileSize+1))
	ve = requireValidation(t, err, "")
	require.Equal(t, "big.json", ve.File)
	require.Contains(t, err.Error(), fmt.Sprint(iam.MaxFileSize))

	rev, err := store.Revision(ctx)
	require.NoError(t, err)
	require.Zero(t, rev)
}

// blockingEngine compiles every expression to a condition that holds; its
// Compile of the expression slow waits until release is closed.
type blockingEngine struct {
	slow    string
	entered chan struct{} // closed when Compile(slow) starts waiting
	release chan struct{}

	mu    chan struct{} // a one-slot lock for calls
	calls map[string]int
}

type alwaysTrue struct{}

func (alwaysTrue) Eval(*iam.Request) (bool, error) { return true, nil }

func (e *blockingEngine) Compile(expr string) (iam.Condition, error) {
	e.mu <- struct{}{}
	e.calls[expr]++
	first := e.calls[expr] == 1
	<-e.mu
	if expr == e.slow && first {
		close(e.entered)
		<-e.release
	}
	return alwaysTrue{}, nil
}

func (e *blockingEngine) callsOf(expr string) int {
	e.mu <- struct{}{}
	defer func() { <-e.mu }()
	return e.calls[expr]
}

// A policy write compiles its conditions before it takes the store's
// lock: while a compilation is slow, reads and writes of another
// organization, and checks, go on; and the Evaluator following the store
// does not compile the condition a second time.
func TestASlowConditionCompileDoesNotHoldTheStoreLock(t *testing.T) {
	t.Parallel()
	eng := &blockingEngine{slow: `request.ip == "203.0.113.7"`, entered: make(chan struct{}), release: make(chan struct{}),
		mu: make(chan struct{}, 1), calls: map[string]int{}}
	w := newWorld(t, iam.WithConditions(eng))
	w.user(w.org, "u")
	w.addOrg("beta", "beta-owner")

	released := false
	release := func() {
		if !released {
			released = true
			close(eng.release)
		}
	}
	defer release()
	done := make(chan error, 1)
	go func() {
		_, err := w.store.CreatePolicy(w.ctx, iam.Policy{ID: "slow", OrganizationID: w.org, Principal: iam.UserPrincipal("u"),
			Rules: []iam.Rule{{Scope: iam.OrganizationScope(w.org), PermissionSets: []string{"BillingReadOnly"}, Condition: eng.slow}}})
		done <- err
	}()
	select {
	case <-eng.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the write never compiled its condition")
	}

	others := make(chan error, 1)
	go func() {
		ctx := w.ctx
		if _, err := w.store.GetOrganization(ctx, "beta"); err != nil {
			others <- err
			return
		}
		if _, err := w.store.ListUsers(ctx, "beta"); err != nil {
			others <- err
			return
		}
		if _, err := w.store.CreateProject(ctx, iam.Project{ID: "beta-p", OrganizationID: "beta", Name: "P"}); err != nil {
			others <- err
			return
		}
		_, err := w.ev.Check(ctx, inProject(iam.UserPrincipal("beta-owner"), "beta-p", "InstancesFullAccess"))
		others <- err
	}()
	select {
	case err := <-others:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		release()
		t.Fatal("reads and writes of another organization waited for a condition to compile")
	}

	release()
	require.NoError(t, <-done)
	w.expect(t, atOrg(iam.UserPrincipal("u"), w.org, "BillingReadOnly"), granted)
	require.Equal(t, 1, eng.callsOf(eng.slow), "the Evaluator reused the store's compilation")

	// A condition that does not compile is still refused, by the write.
	bad := &failingEngine{}
	w2 := newWorld(t, iam.WithConditions(bad))
	_, err := w2.store.CreatePolicy(w2.ctx, iam.Policy{OrganizationID: w2.org,
		Rules: []iam.Rule{{Scope: iam.OrganizationScope(w2.org), PermissionSets: []string{"BillingReadOnly"}, Condition: "nope"}}})
	requireValidation(t, err, "rules[0].condition")
}

type failingEngine struct{}

func (failingEngine) Compile(string) (iam.Condition, error) {
	return nil, errors.New("iam: condition: never compiles")
}

// Names have 1 to 255 characters: real Scaleway organizations hold
// application names longer than the 64 of Scaleway's API reference, and a
// world exported from one loads. (An entity without an "id" takes its name
// as ID, and IDs have at most 128 characters: a longer name needs an
// explicit "id", as a name with spaces does.)
func TestNamesOfUpTo255CharactersLoad(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	app := "terraform-provider-production-cluster-eu-west-" + strings.Repeat("x", 41) // 87 characters
	require.Len(t, app, 87)
	world := fmt.Sprintf(`{
	  "organization": {"id": "acme", "name": %[2]q},
	  "projects": [{"name": "A"}],
	  "users": [{"email": "owner@acme.test", "type": "owner"}],
	  "applications": [{"name": %[1]q}],
	  "groups": [{"id": "g", "name": %[2]q, "applications": [%[1]q]}],
	  "policies": [{"id": "p", "name": %[2]q, "application": %[1]q, "rules": [{"projects": ["A"], "permission_sets": ["InstancesReadOnly"]}]}]
	}`, app, strings.Repeat("n", iam.MaxNameLength))
	store := iam.NewMemoryStore()
	require.NoError(t, iam.Load(ctx, store, "world.json", []byte(world)))
	ev, err := iam.NewEvaluator(ctx, store)
	require.NoError(t, err)
	defer ev.Close()
	d, err := ev.Check(ctx, inProject(iam.ApplicationPrincipal(app), "A", "InstancesReadOnly"))
	require.NoError(t, err)
	require.True(t, d.Allowed)

	_, err = store.CreateApplication(ctx, iam.Application{OrganizationID: "acme", Name: runes('é', iam.MaxNameLength+1)})
	ve := requireValidation(t, err, "name")
	require.Contains(t, ve.Reason, "1 to 255 characters")
	_, err = store.CreatePermissionSet(ctx, iam.PermissionSet{Name: "S" + strings.Repeat("s", iam.MaxNameLength-1), OrganizationID: "acme", ScopeType: iam.ScopeProjects, Permissions: []string{"shop:item:read"}})
	require.NoError(t, err, "a permission set name of 255 characters")
}
