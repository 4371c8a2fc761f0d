package iamtest_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iamkit/iam"
	"github.com/iamkit/iam/conditions"
	"github.com/iamkit/iam/iamhttp"
	"github.com/iamkit/iam/iamtest"
)

// acme: projects A and B; the application ci holds InstancesFullAccess in
// A; the user ana only reads instances in A.
const acme = `{
  "organization": {"id": "acme", "name": "Acme"},
  "projects": [{"name": "A"}, {"name": "B"}],
  "users": [{"email": "owner@acme.test", "type": "owner"}, {"id": "ana", "email": "ana@acme.test"}],
  "applications": [{"name": "ci"}],
  "policies": [
    {"name": "ci-deploys", "application": "ci", "rules": [{"projects": ["A"], "permission_sets": ["InstancesFullAccess"]}]},
    {"name": "ana-reads", "user": "ana", "rules": [{"projects": ["A"], "permission_sets": ["InstancesReadOnly"]}]}
  ]
}`

var (
	ci  = iam.ApplicationPrincipal("ci")
	ana = iam.UserPrincipal("ana")
)

func create(p iam.Principal, project string) iam.Request {
	return iam.Request{Principal: p, ProjectID: project, Permission: "instance:server:create"}
}

// recorder is a testing.TB that records failures instead of reporting
// them, to test the messages of the helpers. Fatalf ends the goroutine, so
// run code that may call it through record.
type recorder struct {
	testing.TB
	mu     sync.Mutex
	errs   []string
	fatals []string
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.mu.Lock()
	r.fatals = append(r.fatals, fmt.Sprintf(format, args...))
	r.mu.Unlock()
	runtime.Goexit()
}

// record runs fn with a recorder on its own goroutine and returns the
// recorder once fn returns or calls Fatalf.
func record(t *testing.T, fn func(tb testing.TB)) *recorder {
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(r)
	}()
	<-done
	return r
}

func TestLoadBuildsAWorldFromInlineJSON(t *testing.T) {
	w := iamtest.Load(t, acme)
	if _, err := w.Store.GetProject(context.Background(), "A"); err != nil {
		t.Fatal(err)
	}
	iamtest.Allowed(t, w.Evaluator, create(ci, "A"))
	iamtest.Denied(t, w.Evaluator, create(ana, "A"))
	iamtest.CheckFails(t, w.Evaluator, create(ci, "nowhere"), iam.ErrNotFound)
}

func TestLoadFileReadsAWorldFileWithStoreOptions(t *testing.T) {
	// The seed world has a conditional rule: it loads only into a store
	// with conditions switched on.
	w := iamtest.LoadFile(t, "../testdata/seed.json", iamtest.WithStoreOptions(iam.WithConditions(conditions.New())))
	iamtest.Allowed(t, w.Evaluator, iam.Request{Principal: iam.ApplicationPrincipal("production-c"), ProjectID: "A", Permission: "InstancesFullAccess"})
}

func TestWorldLoadAddsAnotherOrganizationAndPolicies(t *testing.T) {
	w := iamtest.Load(t, acme)
	w.Load(t, `{"organization": {"id": "globex", "name": "Globex"}, "users": [{"email": "o@globex.test", "type": "owner"}, {"id": "gus", "email": "gus@globex.test"}]}`)
	w.Load(t, `{"user": "gus", "rules": [{"organization": true, "permission_sets": ["InstancesReadOnly"]}]}`, iam.IntoOrganization("globex"))
	gus := iam.UserPrincipal("gus")
	iamtest.Allowed(t, w.Evaluator, iam.Request{Principal: gus, ProjectID: "globex", Permission: "instance:server:list"})
	if dec := iamtest.Denied(t, w.Evaluator, iam.Request{Principal: gus, ProjectID: "A", Permission: "instance:server:list"}); dec.Reason != iam.ReasonOtherOrganization {
		t.Errorf("reason %v, want other organization", dec.Reason)
	}
	w.LoadFile(t, "testdata/ana-b.json", iam.IntoOrganization("acme"))
	iamtest.Allowed(t, w.Evaluator, create(ana, "B"))
}

func TestLoadFailureStopsTheTestWithTheLoaderError(t *testing.T) {
	r := record(t, func(tb testing.TB) {
		iamtest.Load(tb, "{\n  \"organization\": {\"id\": \"acme\"},\n  \"projectz\": []\n}")
		tb.Errorf("not reached")
	})
	if len(r.fatals) != 1 || len(r.errs) != 0 {
		t.Fatalf("fatals %q, errors %q", r.fatals, r.errs)
	}
	if m := r.fatals[0]; !strings.Contains(m, "inline JSON:3:") || !strings.Contains(m, "projectz") {
		t.Errorf("the message locates the error in the JSON: %s", m)
	}
	r = record(t, func(tb testing.TB) { iamtest.LoadFile(tb, "testdata/missing.json") })
	if len(r.fatals) != 1 || !strings.Contains(r.fatals[0], "missing.json") {
		t.Errorf("fatals %q", r.fatals)
	}
}

func TestAssertionFailuresPrintTheExplanation(t *testing.T) {
	w := iamtest.Load(t, acme)
	ev := w.Evaluator
	cases := []struct {
		name string
		run  func(tb testing.TB)
		want []string // in the one failure message
	}{
		{"Allowed on a deny", func(tb testing.TB) { iamtest.Allowed(tb, ev, create(ana, "A")) },
			[]string{"want allowed, got denied (not granted)", "DENY user:ana instance:server:create in project A", "no policy grants it", "related sets held here: InstancesReadOnly"}},
		{"Allowed on an error", func(tb testing.TB) { iamtest.Allowed(tb, ev, create(ci, "nowhere")) },
			[]string{"want application:ci instance:server:create in project nowhere allowed, but the check failed", "not found"}},
		{"Denied on an allow", func(tb testing.TB) { iamtest.Denied(tb, ev, create(ci, "A")) },
			[]string{"want denied, got allowed (granted)", "ALLOW application:ci", `because policy "ci-deploys"`, "InstancesFullAccess"}},
		{"Denied on an error", func(tb testing.TB) { iamtest.Denied(tb, ev, create(ci, "nowhere")) },
			[]string{"want application:ci instance:server:create in project nowhere denied, but the check failed"}},
		{"CheckFails on an allow", func(tb testing.TB) { iamtest.CheckFails(tb, ev, create(ci, "A"), iam.ErrNotFound) },
			[]string{"want an error matching iam: not found, got allowed", "ALLOW application:ci"}},
		{"CheckFails on a deny", func(tb testing.TB) {
			iamtest.CheckFails(tb, ev, iam.Request{Principal: ana, ProjectID: "B", Permission: "instance:server:list"}, iam.ErrNotFound)
		},
			[]string{"want an error matching iam: not found, got denied", "it is held in: A"}},
		{"CheckFails on another error", func(tb testing.TB) {
			iamtest.CheckFails(tb, ev, iam.Request{Principal: ci, OrganizationID: "acme", Permission: "nosuch:server:create"}, iam.ErrNotFound)
		}, []string{"in organization acme to fail with an error matching iam: not found, got:", "unknown permission"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := record(t, tc.run)
			if len(r.errs) != 1 || len(r.fatals) != 0 {
				t.Fatalf("errors %q, fatals %q", r.errs, r.fatals)
			}
			for _, want := range tc.want {
				if !strings.Contains(r.errs[0], want) {
					t.Errorf("the message lacks %q:\n%s", want, r.errs[0])
				}
			}
		})
	}
	// And passing assertions say nothing.
	r := record(t, func(tb testing.TB) {
		iamtest.Allowed(tb, ev, create(ci, "A"))
		iamtest.Denied(tb, ev, create(ana, "A"))
		if err := iamtest.CheckFails(tb, ev, create(ci, "nowhere"), iam.ErrNotFound); !errors.Is(err, iam.ErrNotFound) {
			tb.Errorf("CheckFails returns the error, got %v", err)
		}
	})
	if len(r.errs)+len(r.fatals) != 0 {
		t.Errorf("errors %q, fatals %q", r.errs, r.fatals)
	}
}

func TestTheClockExpiresKeysAndDrivesConditions(t *testing.T) {
	w := iamtest.Load(t, acme, iamtest.WithStoreOptions(iam.WithConditions(conditions.New())))
	ctx := context.Background()
	if got, want := w.Clock.Now(), time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Fatalf("the clock starts at %v, want %v", got, want)
	}
	k := w.NewAPIKey(t, iam.APIKey{Bearer: ci, ExpiresAt: w.Clock.Now().Add(time.Hour)})
	if _, err := w.Evaluator.AuthenticateSecret(ctx, k.Secret); err != nil {
		t.Fatal(err)
	}
	if now := w.Clock.Advance(time.Hour); !now.Equal(k.ExpiresAt) {
		t.Fatalf("Advance returns %v", now)
	}
	if _, err := w.Evaluator.AuthenticateSecret(ctx, k.Secret); !errors.Is(err, iam.ErrExpired) {
		t.Fatalf("at ExpiresAt the key has expired, got %v", err)
	}
	iamtest.Denied(t, w.Evaluator, iam.Request{Principal: iam.APIKeyPrincipal(k.AccessKey), ProjectID: "A", Permission: "instance:server:create"})
	w.Clock.Set(k.ExpiresAt.Add(-time.Minute))
	iamtest.Allowed(t, w.Evaluator, iam.Request{Principal: iam.APIKeyPrincipal(k.AccessKey), ProjectID: "A", Permission: "instance:server:create"})

	// request.time of a condition is the World's clock too.
	w.Load(t, `{"user": "ana", "rules": [{"projects": ["B"], "permission_sets": ["InstancesReadOnly"],
		"condition": "request.time < timestamp('2025-06-01T00:00:00Z')"}]}`)
	list := iam.Request{Principal: ana, ProjectID: "B", Permission: "instance:server:list"}
	iamtest.Allowed(t, w.Evaluator, list)
	w.Clock.Set(time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC))
	iamtest.Denied(t, w.Evaluator, list)
}

func TestAtStartsTheClockElsewhere(t *testing.T) {
	at := time.Date(2031, 3, 4, 5, 6, 7, 0, time.UTC)
	w := iamtest.New(t, iamtest.At(at), iamtest.WithStoreOptions(iam.WithConditions(conditions.New())))
	if !w.Clock.Now().Equal(at) {
		t.Fatalf("clock at %v, want %v", w.Clock.Now(), at)
	}
	// The seed world's key expires in 2030: expired from the start.
	w.LoadFile(t, "../testdata/seed.json")
	if _, err := w.Evaluator.Authenticate(context.Background(), "SCWPRODC000000000001", "test"); !errors.Is(err, iam.ErrExpired) {
		t.Errorf("want ErrExpired, got %v", err)
	}
}

func TestClockZeroValueAndNewClock(t *testing.T) {
	var c iamtest.Clock
	if !c.Now().IsZero() {
		t.Errorf("the zero Clock stands at the zero time, got %v", c.Now())
	}
	at := time.Date(2025, 2, 3, 0, 0, 0, 0, time.UTC)
	c2 := iamtest.NewClock(at)
	if c2.Advance(-time.Hour); !c2.Now().Equal(at.Add(-time.Hour)) {
		t.Errorf("Advance(-1h): %v", c2.Now())
	}
}

func TestNewAPIKeyWithAKnownSecret(t *testing.T) {
	w := iamtest.Load(t, acme)
	k := w.NewAPIKey(t, iam.APIKey{Bearer: ana, Secret: "ana's secret"})
	if k.OrganizationID != "acme" || k.Secret != "ana's secret" || k.AccessKey == "" {
		t.Fatalf("key %+v", k)
	}
	c, err := w.Evaluator.AuthenticateSecret(context.Background(), "ana's secret")
	if err != nil || c.AccessKey != k.AccessKey || c.Bearer != ana {
		t.Fatalf("AuthenticateSecret: %+v, %v", c, err)
	}
	random := w.NewAPIKey(t, iam.APIKey{Bearer: ci})
	if random.Secret == "" {
		t.Fatal("a key without a secret gets a random one")
	}

	for name, k := range map[string]iam.APIKey{
		"a secret another key has": {Bearer: ci, Secret: "ana's secret"},
		"a group as bearer":        {Bearer: iam.GroupPrincipal("g")},
		"an unknown bearer":        {Bearer: iam.UserPrincipal("nobody")},
		"a store error":            {Bearer: ci, OrganizationID: "acme", DefaultProjectID: "nowhere"},
	} {
		r := record(t, func(tb testing.TB) { w.NewAPIKey(tb, k) })
		if len(r.fatals) != 1 {
			t.Errorf("%s: fatals %q", name, r.fatals)
		}
	}
}

func TestWithEvaluatorOptionsReachesTheEvaluator(t *testing.T) {
	var seen []iam.Request
	hook := func(_ context.Context, req iam.Request, _ iam.Decision, _ error, _ time.Duration) {
		seen = append(seen, req)
	}
	w := iamtest.Load(t, acme, iamtest.WithEvaluatorOptions(iam.WithDecisionHook(hook)))
	iamtest.Allowed(t, w.Evaluator, create(ci, "A"))
	if len(seen) != 1 {
		t.Fatalf("the decision hook saw %d checks", len(seen))
	}
}

func TestTheEvaluatorIsClosedWithTheTest(t *testing.T) {
	var w *iamtest.World
	t.Run("inner", func(t *testing.T) { w = iamtest.Load(t, acme) })
	before := w.Evaluator.Revision()
	if _, err := w.Store.CreateProject(context.Background(), iam.Project{ID: "C", OrganizationID: "acme", Name: "C"}); err != nil {
		t.Fatal(err)
	}
	if w.Evaluator.Revision() != before {
		t.Error("the Evaluator still follows the store after its test ended")
	}
}

func TestNewRequestCarriesTheSecretAndTheBody(t *testing.T) {
	r := iamtest.NewRequest("POST", "/servers", "s3cret", `{"name": "web"}`)
	if r.Header.Get(iamhttp.TokenHeader) != "s3cret" || r.Header.Get("Content-Type") != "application/json" || r.ContentLength != 15 {
		t.Errorf("request %v", r)
	}
	r = iamtest.NewRequest("GET", "/servers", "", "")
	if _, ok := r.Header[iamhttp.TokenHeader]; ok || r.Header.Get("Content-Type") != "" || r.ContentLength != 0 {
		t.Errorf("request %v", r)
	}
}
