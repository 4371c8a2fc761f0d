package iamhttp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/iamkit/iam"
	"github.com/iamkit/iam/conditions"
	"github.com/iamkit/iam/iamhttp"
	"github.com/iamkit/iam/iamtest"
)

// Two organizations. acme: projects A and B; the application ci deploys
// in A, ro reads there, lou (a locked user) could deploy there; acme has a
// set of its own, WidgetsFullAccess. globex: project G, where gci deploys.
const acme = `{
  "organization": {"id": "acme", "name": "Acme"},
  "projects": [{"name": "A"}, {"name": "B"}],
  "users": [{"email": "owner@acme.test", "type": "owner"}, {"id": "lou", "email": "lou@acme.test", "locked": true}],
  "applications": [{"name": "ci"}, {"name": "ro"}],
  "permission_sets": [{"name": "WidgetsFullAccess", "scope_type": "projects", "permissions": ["widget:item:*"]}],
  "policies": [
    {"name": "ci-deploys", "application": "ci", "rules": [{"projects": ["A"], "permission_sets": ["InstancesFullAccess"]}]},
    {"name": "ro-reads", "application": "ro", "rules": [{"projects": ["A"], "permission_sets": ["InstancesReadOnly"]}]},
    {"name": "lou-deploys", "user": "lou", "rules": [{"projects": ["A"], "permission_sets": ["InstancesFullAccess"]}]}
  ]
}`

const globex = `{
  "organization": {"id": "globex", "name": "Globex"},
  "projects": [{"name": "G"}],
  "users": [{"email": "owner@globex.test", "type": "owner"}],
  "applications": [{"name": "gci"}],
  "policies": [{"name": "gci-deploys", "application": "gci", "rules": [{"projects": ["G"], "permission_sets": ["InstancesFullAccess"]}]}]
}`

type fixture struct {
	w                            *iamtest.World
	ci, ro, lou, gci, expiring   iam.APIKey
	guard                        *iamhttp.Guard
	logs                         *bytes.Buffer
	handler                      http.Handler // Authenticate(check)
	lastCaller                   iamhttp.Caller
	beforeCheck                  func() // run by the check handler before it checks
	checks, authenticatedReached int
}

func newFixture(t *testing.T, opts ...iamtest.Option) *fixture {
	t.Helper()
	f := &fixture{w: iamtest.Load(t, acme, opts...), logs: &bytes.Buffer{}}
	f.w.Load(t, globex)
	f.ci = f.w.NewAPIKey(t, iam.APIKey{Bearer: iam.ApplicationPrincipal("ci"), Secret: "ci-secret"})
	f.ro = f.w.NewAPIKey(t, iam.APIKey{Bearer: iam.ApplicationPrincipal("ro"), Secret: "ro-secret"})
	f.lou = f.w.NewAPIKey(t, iam.APIKey{Bearer: iam.UserPrincipal("lou"), Secret: "lou-secret"})
	f.gci = f.w.NewAPIKey(t, iam.APIKey{Bearer: iam.ApplicationPrincipal("gci"), Secret: "gci-secret"})
	f.expiring = f.w.NewAPIKey(t, iam.APIKey{Bearer: iam.ApplicationPrincipal("ci"), Secret: "expiring-secret", ExpiresAt: f.w.Clock.Now().Add(time.Hour)})
	logger := slog.New(slog.NewJSONHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	f.guard = iamhttp.New(f.w.Evaluator, iamhttp.WithLogger(logger))
	f.handler = f.guard.Authenticate(http.HandlerFunc(f.check))
	return f
}

// check is a handler that checks the permission ?perm at ?project or
// ?org, and answers 204 when allowed.
func (f *fixture) check(w http.ResponseWriter, r *http.Request) {
	f.authenticatedReached++
	f.lastCaller, _ = iamhttp.CallerFrom(r.Context())
	if f.beforeCheck != nil {
		f.beforeCheck()
	}
	q := r.URL.Query()
	if !f.guard.Check(w, r, iam.Request{ProjectID: q.Get("project"), OrganizationID: q.Get("org"), Permission: q.Get("perm")}) {
		return
	}
	f.checks++
	w.WriteHeader(http.StatusNoContent)
}

func (f *fixture) do(secret, query string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	f.handler.ServeHTTP(rec, iamtest.NewRequest("GET", "/check?"+query, secret, ""))
	return rec
}

func decode(t *testing.T, rec *httptest.ResponseRecorder) iamhttp.ErrorBody {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	var b iamhttp.ErrorBody
	dec := json.NewDecoder(bytes.NewReader(rec.Body.Bytes()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		t.Fatalf("decoding %q: %v", rec.Body.String(), err)
	}
	return b
}

func TestAuthenticatePutsTheCallerInTheContext(t *testing.T) {
	f := newFixture(t)
	rec := f.do("ci-secret", "project=A&perm=instance:server:create")
	if rec.Code != http.StatusNoContent {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	want := iamhttp.Caller{Principal: iam.ApplicationPrincipal("ci"), AccessKey: f.ci.AccessKey, OrganizationID: "acme"}
	if f.lastCaller != want {
		t.Errorf("caller %+v, want %+v", f.lastCaller, want)
	}
}

func TestAuthenticateRefusesBeforeTheHandler(t *testing.T) {
	f := newFixture(t)
	f.w.Clock.Advance(time.Hour) // the expiring key has expired
	cases := []struct {
		name    string
		header  []string
		status  int
		typ     string
		reason  string
		message string
	}{
		{"no header", nil, 401, iamhttp.TypeDeniedAuthentication, "invalid_argument", "denied authentication: invalid api_key format or empty value"},
		{"an empty header", []string{""}, 401, iamhttp.TypeDeniedAuthentication, "invalid_argument", ""},
		{"two headers", []string{"ci-secret", "ci-secret"}, 401, iamhttp.TypeDeniedAuthentication, "invalid_argument", ""},
		{"an overlong secret", []string{strings.Repeat("x", iamhttp.MaxTokenLength+1)}, 401, iamhttp.TypeDeniedAuthentication, "invalid_argument", ""},
		{"an unknown secret", []string{"nope"}, 401, iamhttp.TypeDeniedAuthentication, "not_found", "denied authentication: api_key does not exist"},
		{"the access key instead of the secret", []string{f.ci.AccessKey}, 401, iamhttp.TypeDeniedAuthentication, "not_found", ""},
		{"an expired key", []string{"expiring-secret"}, 401, iamhttp.TypeDeniedAuthentication, "expired", "denied authentication: api_key is expired"},
		{"a locked user's key", []string{"lou-secret"}, 403, iamhttp.TypePermissionsDenied, "", "insufficient permissions"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := iamtest.NewRequest("GET", "/check?project=A&perm=instance:server:create", "", "")
			for _, h := range tc.header {
				r.Header.Add(iamhttp.TokenHeader, h)
			}
			rec := httptest.NewRecorder()
			f.handler.ServeHTTP(rec, r)
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.status, rec.Body)
			}
			b := decode(t, rec)
			if b.Type != tc.typ || b.Reason != tc.reason || (tc.message != "" && b.Message != tc.message) {
				t.Errorf("body %+v", b)
			}
			if tc.reason != "" && b.Method != "api_key" {
				t.Errorf("method %q", b.Method)
			}
		})
	}
	if f.authenticatedReached != 0 {
		t.Errorf("the handler ran %d times", f.authenticatedReached)
	}
	// A key deleted is refused at once.
	if err := f.w.Store.DeleteAPIKey(context.Background(), f.ro.AccessKey); err != nil {
		t.Fatal(err)
	}
	if rec := f.do("ro-secret", "project=A&perm=instance:server:list"); rec.Code != 401 {
		t.Errorf("deleted key: status %d", rec.Code)
	}
}

func TestCheckMapsEveryOutcomeToItsStatus(t *testing.T) {
	f := newFixture(t)
	cases := []struct {
		name, secret, query string
		status              int
		typ                 string
	}{
		{"allowed", "ci-secret", "project=A&perm=instance:server:create", 204, ""},
		{"allowed by a set name", "ci-secret", "project=A&perm=InstancesFullAccess", 204, ""},
		{"a read-only caller writing", "ro-secret", "project=A&perm=instance:server:create", 403, iamhttp.TypePermissionsDenied},
		{"a read-only caller reading", "ro-secret", "project=A&perm=instance:server:list", 204, ""},
		{"not granted in that project", "ci-secret", "project=B&perm=instance:server:create", 403, iamhttp.TypePermissionsDenied},
		{"an unknown project", "ci-secret", "project=nowhere&perm=instance:server:create", 404, iamhttp.TypeNotFound},
		{"another organization's project", "ci-secret", "project=G&perm=instance:server:create", 404, iamhttp.TypeNotFound},
		{"another organization", "ci-secret", "org=globex&perm=project:project:list", 404, iamhttp.TypeNotFound},
		{"an unknown organization", "ci-secret", "org=nowhere&perm=project:project:list", 404, iamhttp.TypeNotFound},
		{"no target", "ci-secret", "perm=instance:server:create", 400, iamhttp.TypeInvalidArguments},
		{"a malformed permission", "ci-secret", "project=A&perm=instance:*:create", 400, iamhttp.TypeInvalidArguments},
		{"a permission unknown to the caller's organization, at it", "ci-secret", "org=acme&perm=nosuch:thing:create", 500, iamhttp.TypeInternalError},
		{"an organization-level permission in the default project", "ci-secret", "project=acme&perm=iam:user:create", 500, iamhttp.TypeInternalError},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := f.do(tc.secret, tc.query)
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.status, rec.Body)
			}
			if tc.typ != "" {
				if b := decode(t, rec); b.Type != tc.typ {
					t.Errorf("type %q, want %q", b.Type, tc.typ)
				}
			}
		})
	}
}

func TestAnotherOrganizationsResourceIsAnsweredExactlyAsAnUnknownOne(t *testing.T) {
	f := newFixture(t)
	unknown := f.do("ci-secret", "project=nowhere&perm=instance:server:create")
	if unknown.Code != http.StatusNotFound {
		t.Fatalf("unknown project: status %d", unknown.Code)
	}
	for _, query := range []string{
		"project=G&perm=instance:server:create", // denied: another organization
		"project=G&perm=widget:item:create",     // globex's catalogue does not know acme's own set
		"project=G&perm=iam:user:create",        // an organization-level permission in a project
		"project=G&perm=nosuch:thing:create",    // unknown everywhere
		"project=B&perm=nosuch:thing:create",    // the same at the caller's own project B
	} {
		rec := f.do("ci-secret", query)
		if rec.Code != unknown.Code || !bytes.Equal(rec.Body.Bytes(), unknown.Body.Bytes()) || rec.Header().Get("Content-Type") != unknown.Header().Get("Content-Type") {
			t.Errorf("%s: %d %q, want %d %q", query, rec.Code, rec.Body, unknown.Code, unknown.Body)
		}
	}
	// The organization-level twin.
	unknownOrg := f.do("ci-secret", "org=nowhere&perm=project:project:list")
	for _, query := range []string{"org=globex&perm=project:project:list", "org=globex&perm=widget:item:create"} {
		if rec := f.do("ci-secret", query); rec.Code != unknownOrg.Code || !bytes.Equal(rec.Body.Bytes(), unknownOrg.Body.Bytes()) {
			t.Errorf("%s: %d %q, want %d %q", query, rec.Code, rec.Body, unknownOrg.Code, unknownOrg.Body)
		}
	}
	// The log tells a bug in the handler (a permission its own
	// organization does not know) from another organization's catalogue.
	logs := f.logs.String()
	if !strings.Contains(logs, `"level":"ERROR"`) || !strings.Contains(logs, "nosuch:thing:create") {
		t.Errorf("logs:\n%s", logs)
	}
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		if strings.Contains(line, "widget:item:create") && strings.Contains(line, `"level":"ERROR"`) {
			t.Errorf("another organization's catalogue is no bug of the handler: %s", line)
		}
	}
}

func TestCheckRefusesAKeyThatExpiresDuringTheRequest(t *testing.T) {
	f := newFixture(t)
	f.beforeCheck = func() { f.w.Clock.Advance(time.Hour) }
	rec := f.do("expiring-secret", "project=A&perm=instance:server:create")
	if rec.Code != http.StatusUnauthorized || decode(t, rec).Reason != "expired" {
		t.Errorf("status %d: %s", rec.Code, rec.Body)
	}
}

func TestCheckWithoutACallerIsUnauthenticated(t *testing.T) {
	f := newFixture(t)
	rec := httptest.NewRecorder()
	http.HandlerFunc(f.check).ServeHTTP(rec, iamtest.NewRequest("GET", "/check?project=A&perm=instance:server:create", "ci-secret", ""))
	if rec.Code != http.StatusUnauthorized || f.checks != 0 {
		t.Errorf("status %d, checks %d", rec.Code, f.checks)
	}
	rec = httptest.NewRecorder()
	f.guard.WhereCan(rec, iamtest.NewRequest("GET", "/", "", ""), "instance:server:list")
	if rec.Code != http.StatusUnauthorized {
		t.Errorf("WhereCan: status %d", rec.Code)
	}
}

func TestWithCallerServesTheHostsOwnAuthentication(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		caller iamhttp.Caller
		status int
	}{
		{iamhttp.Caller{Principal: iam.UserPrincipal("owner@acme.test"), OrganizationID: "acme"}, 204},
		{iamhttp.Caller{Principal: iam.ApplicationPrincipal("ro"), OrganizationID: "acme"}, 403},
		{iamhttp.Caller{Principal: iam.UserPrincipal("owner@globex.test"), OrganizationID: "globex"}, 404},
	} {
		r := iamtest.NewRequest("GET", "/check?project=A&perm=instance:server:create", "", "")
		r = r.WithContext(iamhttp.WithCaller(r.Context(), tc.caller))
		rec := httptest.NewRecorder()
		http.HandlerFunc(f.check).ServeHTTP(rec, r)
		if rec.Code != tc.status {
			t.Errorf("%v: status %d, want %d", tc.caller.Principal, rec.Code, tc.status)
		}
	}
}

func TestRequestPrincipalIsTheKeyWhenThereIsOne(t *testing.T) {
	app := iam.ApplicationPrincipal("ci")
	if p := (iamhttp.Caller{Principal: app, AccessKey: "SCW1"}).RequestPrincipal(); p != iam.APIKeyPrincipal("SCW1") {
		t.Errorf("with a key: %v", p)
	}
	if p := (iamhttp.Caller{Principal: app}).RequestPrincipal(); p != app {
		t.Errorf("without: %v", p)
	}
}

func TestWhereCanListsTheCallersProjects(t *testing.T) {
	f := newFixture(t)
	var got []string
	var ok bool
	h := f.guard.Authenticate(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok = f.guard.WhereCan(w, r, r.URL.Query().Get("perm"))
	}))
	serve := func(secret, perm string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, iamtest.NewRequest("GET", "/?perm="+perm, secret, ""))
		return rec
	}
	if serve("ro-secret", "instance:server:list"); !ok || fmt.Sprint(got) != "[A]" {
		t.Errorf("ro: %v %v", got, ok)
	}
	if serve("gci-secret", "instance:server:list"); !ok || fmt.Sprint(got) != "[G]" {
		t.Errorf("gci: %v %v", got, ok)
	}
	for perm, status := range map[string]int{
		"instance:*:list":      400,
		"nosuch:thing:list":    500,
		"project:project:list": 500, // an organization-level permission
	} {
		if rec := serve("ci-secret", perm); ok || rec.Code != status {
			t.Errorf("%s: status %d, want %d", perm, rec.Code, status)
		}
	}
	// A caller that no longer exists.
	r := iamtest.NewRequest("GET", "/", "", "")
	r = r.WithContext(iamhttp.WithCaller(r.Context(), iamhttp.Caller{Principal: iam.UserPrincipal("gone"), OrganizationID: "acme"}))
	rec := httptest.NewRecorder()
	if _, ok := f.guard.WhereCan(rec, r, "instance:server:list"); ok || rec.Code != 401 {
		t.Errorf("gone: status %d", rec.Code)
	}
}

func TestErrorMapsTheSentinels(t *testing.T) {
	g := iamhttp.New(nil)
	long := strings.Repeat("é", 600)
	for _, tc := range []struct {
		err     error
		status  int
		typ     string
		message string
	}{
		{fmt.Errorf("iam: server %q: %w", "s1", iam.ErrNotFound), 404, iamhttp.TypeNotFound, "resource is not found"},
		{fmt.Errorf("iam: name: too long: %w", iam.ErrInvalid), 400, iamhttp.TypeInvalidArguments, "name: too long: iam: invalid"},
		{&iam.ValidationError{Entity: "project", Field: "name", Reason: "a name has 1 to 255 characters", Cause: iam.ErrNotFound}, 400, iamhttp.TypeInvalidArguments, `project: name: a name has 1 to 255 characters`},
		{fmt.Errorf("iam: %s: %w", long, iam.ErrInvalid), 400, iamhttp.TypeInvalidArguments, strings.Repeat("é", 256) + "…"},
		{iam.ErrUnauthenticated, 401, iamhttp.TypeDeniedAuthentication, "denied authentication: api_key does not exist"},
		{iam.ErrExpired, 401, iamhttp.TypeDeniedAuthentication, "denied authentication: api_key is expired"},
		{fmt.Errorf("iam: the default project cannot be deleted: %w", iam.ErrForbidden), 403, iamhttp.TypePermissionsDenied, "insufficient permissions"},
		{fmt.Errorf("iam: the ID is already used by a user of organization %q: %w", "globex", iam.ErrConflict), 409, iamhttp.TypeAlreadyExists, "resource already exists"},
		{context.DeadlineExceeded, 500, iamhttp.TypeInternalError, "internal error"},
		{nil, 500, iamhttp.TypeInternalError, "internal error"},
	} {
		rec := httptest.NewRecorder()
		g.Error(rec, httptest.NewRequest("GET", "/", nil), tc.err)
		if rec.Code != tc.status {
			t.Errorf("%v: status %d, want %d", tc.err, rec.Code, tc.status)
			continue
		}
		if b := decode(t, rec); b.Type != tc.typ || b.Message != tc.message {
			t.Errorf("%v: body %+v, want %s %q", tc.err, b, tc.typ, tc.message)
		}
	}
}

func TestWriteErrorWritesScalewaysShape(t *testing.T) {
	rec := httptest.NewRecorder()
	iamhttp.WriteError(rec, http.StatusPreconditionFailed, iamhttp.ErrorBody{Type: "precondition_failed", Message: "the project still holds servers"})
	if rec.Code != 412 || rec.Header().Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("status %d, header %v", rec.Code, rec.Header())
	}
	if got, want := rec.Body.String(), `{"type":"precondition_failed","message":"the project still holds servers"}`+"\n"; got != want {
		t.Errorf("body %q, want %q", got, want)
	}
}

func TestTheLogGetsTheExplanationAndTheClientDoesNot(t *testing.T) {
	f := newFixture(t)
	rec := f.do("ro-secret", "project=A&perm=instance:server:create")
	if rec.Code != 403 {
		t.Fatalf("status %d", rec.Code)
	}
	if strings.Contains(rec.Body.String(), "polic") || strings.Contains(rec.Body.String(), "InstancesReadOnly") {
		t.Errorf("the body explains: %s", rec.Body)
	}
	rec = f.do("ci-secret", "project=G&perm=instance:server:create")
	if strings.Contains(rec.Body.String(), "globex") {
		t.Errorf("the body names the other organization: %s", rec.Body)
	}
	f.do("nope", "project=A&perm=instance:server:create")

	var entries []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(f.logs.String()), "\n") {
		var e map[string]any
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		entries = append(entries, e)
	}
	if len(entries) != 3 {
		t.Fatalf("%d log entries:\n%s", len(entries), f.logs)
	}
	denied, other, unauth := entries[0], entries[1], entries[2]
	if x, _ := denied["explanation"].(string); !strings.Contains(x, "DENY api_key:"+f.ro.AccessKey+" instance:server:create in project A") ||
		!strings.Contains(x, "related sets held here: InstancesReadOnly") {
		t.Errorf("explanation: %v", denied)
	}
	caller, _ := denied["caller"].(map[string]any)
	if caller["principal"] != "application:ro" || caller["access_key"] != f.ro.AccessKey || caller["organization_id"] != "acme" ||
		denied["status"] != float64(403) || denied["type"] != "permissions_denied" || denied["method"] != "GET" || denied["path"] != "/check" {
		t.Errorf("entry: %v", denied)
	}
	// The explanation names no organization (Explain never does); the
	// caller's own organization is in the entry's caller attributes.
	if x, _ := other["explanation"].(string); !strings.Contains(x, "different organizations") || strings.Contains(x, "globex") {
		t.Errorf("the log says why, naming no other organization: %v", other)
	}
	if e, _ := unauth["error"].(string); e != "iam: unknown API key secret: iam: unauthenticated" || unauth["caller"] != nil {
		t.Errorf("entry: %v", unauth)
	}
	if strings.Contains(f.logs.String(), "nope") || strings.Contains(f.logs.String(), "ro-secret") {
		t.Error("a secret reached the log")
	}
}

func TestADecisionHookSeesTheCaller(t *testing.T) {
	var seen []string
	hook := func(ctx context.Context, req iam.Request, dec iam.Decision, err error, _ time.Duration) {
		c, _ := iamhttp.CallerFrom(ctx)
		seen = append(seen, fmt.Sprintf("%s %s %v", c.Principal, req.Permission, dec.Allowed))
	}
	f := newFixture(t, iamtest.WithEvaluatorOptions(iam.WithDecisionHook(hook)))
	f.do("ci-secret", "project=A&perm=instance:server:create")
	f.do("ro-secret", "project=A&perm=instance:server:delete")
	if got := strings.Join(seen, "; "); got != "application:ci instance:server:create true; application:ro instance:server:delete false" {
		t.Errorf("the hook saw: %s", got)
	}
}

func TestConditionsSeeTheClientIPAndUserAgent(t *testing.T) {
	policy := `{"name": "office", "application": "ro", "rules": [{"projects": ["B"], "permission_sets": ["InstancesFullAccess"],
		"condition": "request.ip == '203.0.113.7' && request.user_agent.startsWith('deploy/')"}]}`
	for _, tc := range []struct {
		name     string
		clientIP func(*http.Request) netip.Addr
		agent    string
		status   int
	}{
		{"from RemoteAddr (192.0.2.1)", nil, "deploy/1", 403},
		{"from the proxy's header", func(r *http.Request) netip.Addr {
			a, _ := netip.ParseAddr(r.Header.Get("X-Real-Ip"))
			return a
		}, "deploy/1", 204},
		{"another user agent", func(r *http.Request) netip.Addr { return netip.MustParseAddr("203.0.113.7") }, "curl/8", 403},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, iamtest.WithStoreOptions(iam.WithConditions(conditions.New())))
			f.w.Load(t, policy, iam.IntoOrganization("acme"))
			f.guard = iamhttp.New(f.w.Evaluator, iamhttp.WithClientIP(tc.clientIP))
			r := iamtest.NewRequest("GET", "/check?project=B&perm=instance:server:create", "ro-secret", "")
			r.Header.Set("X-Real-Ip", "203.0.113.7")
			r.Header.Set("User-Agent", tc.agent)
			rec := httptest.NewRecorder()
			f.guard.Authenticate(http.HandlerFunc(f.check)).ServeHTTP(rec, r)
			if rec.Code != tc.status {
				t.Errorf("status %d, want %d", rec.Code, tc.status)
			}
		})
	}
}

func TestErrorsOfTheStoreGoThroughError(t *testing.T) {
	// A handler's own lookup: the store's ErrNotFound answers as Check's
	// 404 does, byte for byte.
	f := newFixture(t)
	_, err := f.w.Store.GetProject(context.Background(), "nowhere")
	if !errors.Is(err, iam.ErrNotFound) {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	f.guard.Error(rec, httptest.NewRequest("GET", "/", nil), err)
	if want := f.do("ci-secret", "project=G&perm=instance:server:create"); rec.Code != want.Code || rec.Body.String() != want.Body.String() {
		t.Errorf("%d %q, want %d %q", rec.Code, rec.Body, want.Code, want.Body)
	}
}
