// Package iamtest helps test code that uses iam, in the manner of
// net/http/httptest: it runs the real thing (a MemoryStore, an Evaluator),
// never a mock.
//
// For a host service's tests: a World (a store and an Evaluator on it,
// from inline JSON or a testdata file, closed with the test) in one line;
// a Clock the test moves; API keys with secrets the test knows; Allowed,
// Denied and CheckFails assertions whose failure prints the Evaluator's
// explanation; and NewRequest for requests carrying a key's secret in
// X-Auth-Token.
//
//	w := iamtest.LoadFile(t, "testdata/world.json")
//	iamtest.Allowed(t, w.Evaluator, iam.Request{Principal: iam.ApplicationPrincipal("ci"), ProjectID: "A", Permission: "instance:server:create"})
//
// The helpers take a testing.TB, so they work in tests and benchmarks
// alike. Assertions report with tb.Errorf and let the test go on; setup
// helpers (New, Load, LoadFile, World.NewAPIKey...) stop it with
// tb.Fatalf.
package iamtest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/iamkit/iam"
)

// World is a MemoryStore, an Evaluator following it and the Clock the
// Evaluator reads, made for one test. Write to Store as the code under
// test would; every check sees a write once it returns. Its parts are safe
// for concurrent use, so a World serves parallel subtests and handlers.
type World struct {
	Store     *iam.MemoryStore
	Evaluator *iam.Evaluator
	// Clock is the Evaluator's clock: API keys expire by it, and rule
	// conditions read request.time from it when a request has no Time.
	// The MemoryStore reads no time, so nothing else needs it.
	Clock *Clock
}

// start is where a World's clock starts unless At says otherwise.
var start = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// Option configures New, Load and LoadFile.
type Option func(*config)

type config struct {
	start     time.Time
	storeOpts []iam.Option
	evalOpts  []iam.EvaluatorOption
}

// At starts the World's clock at t instead of 2025-01-01 00:00:00 UTC.
func At(t time.Time) Option {
	return func(c *config) { c.start = t }
}

// WithStoreOptions passes opts to iam.NewMemoryStore: for instance
// iam.WithConditions(conditions.New()) for files with conditions.
func WithStoreOptions(opts ...iam.Option) Option {
	return func(c *config) { c.storeOpts = append(c.storeOpts, opts...) }
}

// WithEvaluatorOptions passes opts to iam.NewEvaluator, after the World's
// clock (so an iam.WithClock among them wins): for instance
// iam.WithDecisionHook.
func WithEvaluatorOptions(opts ...iam.EvaluatorOption) Option {
	return func(c *config) { c.evalOpts = append(c.evalOpts, opts...) }
}

// New returns a World with an empty store and its clock at 2025-01-01
// 00:00:00 UTC (see At). The Evaluator is closed when the test ends
// (tb.Cleanup).
func New(tb testing.TB, opts ...Option) *World {
	tb.Helper()
	c := config{start: start}
	for _, opt := range opts {
		opt(&c)
	}
	w := &World{Store: iam.NewMemoryStore(c.storeOpts...), Clock: NewClock(c.start)}
	evOpts := append([]iam.EvaluatorOption{iam.WithClock(w.Clock.Now)}, c.evalOpts...)
	ev, err := iam.NewEvaluator(context.Background(), w.Store, evOpts...)
	if err != nil {
		tb.Fatalf("iamtest: building the evaluator: %v", err)
	}
	tb.Cleanup(func() { _ = ev.Close() })
	w.Evaluator = ev
	return w
}

// Load returns a World holding the world (or policy) file given inline as
// json, as iam.Load reads it. A file that does not load fails the test
// with the loader's error, which locates the problem by line and column
// inside json.
func Load(tb testing.TB, json string, opts ...Option) *World {
	tb.Helper()
	w := New(tb, opts...)
	w.Load(tb, json)
	return w
}

// LoadFile returns a World holding the file at path, as iam.LoadFile reads
// it.
func LoadFile(tb testing.TB, path string, opts ...Option) *World {
	tb.Helper()
	w := New(tb, opts...)
	w.LoadFile(tb, path)
	return w
}

// Load loads one more world or policy file, given inline, into the
// World's store: another organization, say, or policies
// (iam.IntoOrganization names their organization when the store holds
// several).
func (w *World) Load(tb testing.TB, json string, opts ...iam.LoadOption) {
	tb.Helper()
	if err := iam.Load(context.Background(), w.Store, "inline JSON", []byte(json), opts...); err != nil {
		tb.Fatalf("iamtest: loading: %v", err)
	}
}

// LoadFile loads one more file into the World's store.
func (w *World) LoadFile(tb testing.TB, path string, opts ...iam.LoadOption) {
	tb.Helper()
	if err := iam.LoadFile(context.Background(), w.Store, path, opts...); err != nil {
		tb.Fatalf("iamtest: loading: %v", err)
	}
}

// NewAPIKey creates k in the store and returns it with its secret. Leave
// k.Secret empty for a random one, or set it to one the test knows (world
// files can only give a secret's SHA-256). k.OrganizationID defaults to
// the bearer's organization. A secret that another key of the store
// already has fails the test: Evaluator.AuthenticateSecret, and so the
// X-Auth-Token header, accepts no secret shared by two keys.
func (w *World) NewAPIKey(tb testing.TB, k iam.APIKey) iam.APIKey {
	tb.Helper()
	ctx := context.Background()
	if k.OrganizationID == "" {
		org, err := w.organizationOf(ctx, k.Bearer)
		if err != nil {
			tb.Fatalf("iamtest: API key for %s: %v", k.Bearer, err)
		}
		k.OrganizationID = org
	}
	if k.Secret != "" {
		hash := iam.HashSecret(k.Secret)
		orgs, err := w.Store.ListOrganizations(ctx)
		if err != nil {
			tb.Fatalf("iamtest: API key for %s: %v", k.Bearer, err)
		}
		for _, o := range orgs {
			keys, err := w.Store.ListAPIKeys(ctx, o.ID)
			if err != nil {
				tb.Fatalf("iamtest: API key for %s: %v", k.Bearer, err)
			}
			for _, other := range keys {
				if other.SecretSHA256 == hash {
					tb.Fatalf("iamtest: API key for %s: API key %s already has this secret; give each key its own", k.Bearer, other.AccessKey)
				}
			}
		}
	}
	out, err := w.Store.CreateAPIKey(ctx, k)
	if err != nil {
		tb.Fatalf("iamtest: API key for %s: %v", k.Bearer, err)
	}
	return out
}

// organizationOf returns the organization of a user or an application.
func (w *World) organizationOf(ctx context.Context, p iam.Principal) (string, error) {
	switch p.Type {
	case iam.PrincipalUser:
		u, err := w.Store.GetUser(ctx, p.ID)
		return u.OrganizationID, err
	case iam.PrincipalApplication:
		a, err := w.Store.GetApplication(ctx, p.ID)
		return a.OrganizationID, err
	}
	return "", fmt.Errorf("iamtest: the bearer of an API key is a user or an application: %w", iam.ErrInvalid)
}
