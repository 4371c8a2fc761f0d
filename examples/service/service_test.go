package main

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/iamkit/iam"
	"github.com/iamkit/iam/iamtest"
)

// Acme: projects A and B. The application deployer manages servers in A
// and the organization's projects; viewer reads servers in A. Globex, the
// other organization: project G, where its own deployer works.
const acme = `{
  "organization": {"id": "acme", "name": "Acme"},
  "projects": [{"name": "A"}, {"name": "B"}],
  "users": [{"id": "boss", "email": "boss@acme.test", "type": "owner"}],
  "applications": [{"name": "deployer"}, {"name": "viewer"}],
  "policies": [
    {"name": "deployer-policy", "application": "deployer", "rules": [
      {"projects": ["A"], "permission_sets": ["InstancesFullAccess"]},
      {"organization": true, "permission_sets": ["ProjectManager"]}
    ]},
    {"name": "viewer-policy", "application": "viewer", "rules": [
      {"projects": ["A"], "permission_sets": ["InstancesReadOnly"]}
    ]}
  ]
}`

const globex = `{
  "organization": {"id": "globex", "name": "Globex"},
  "projects": [{"name": "G"}],
  "users": [{"email": "boss@globex.test", "type": "owner"}],
  "applications": [{"name": "globex-deployer"}],
  "policies": [
    {"name": "globex-deployer-policy", "application": "globex-deployer", "rules": [
      {"projects": ["G"], "permission_sets": ["InstancesFullAccess"]},
      {"organization": true, "permission_sets": ["ProjectManager"]}
    ]}
  ]
}`

// fixture is the service over both organizations, with one API key per
// caller: the secrets are the callers' names.
type fixture struct {
	w       *iamtest.World
	handler http.Handler
}

func newFixture(t *testing.T) *fixture {
	w := iamtest.Load(t, acme)
	w.Load(t, globex)
	w.NewAPIKey(t, iam.APIKey{Bearer: iam.UserPrincipal("boss"), Secret: "boss"})
	w.NewAPIKey(t, iam.APIKey{Bearer: iam.ApplicationPrincipal("deployer"), Secret: "deployer"})
	w.NewAPIKey(t, iam.APIKey{Bearer: iam.ApplicationPrincipal("viewer"), Secret: "viewer"})
	w.NewAPIKey(t, iam.APIKey{Bearer: iam.ApplicationPrincipal("globex-deployer"), Secret: "globex-deployer"})
	return &fixture{w: w, handler: newService(w.Store, w.Evaluator, slog.New(slog.NewTextHandler(io.Discard, nil)))}
}

// do serves one request and checks its status.
func (f *fixture) do(t *testing.T, secret, method, target, body string, want int) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	f.handler.ServeHTTP(rec, iamtest.NewRequest(method, target, secret, body))
	if rec.Code != want {
		t.Fatalf("%s %s as %q: status %d, want %d: %s", method, target, secret, rec.Code, want, rec.Body)
	}
	return rec
}

// servers lists the servers the caller sees.
func (f *fixture) servers(t *testing.T, secret, query string) []string {
	t.Helper()
	var out struct {
		Servers []server `json:"servers"`
	}
	if err := json.Unmarshal(f.do(t, secret, "GET", "/servers"+query, "", 200).Body.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range out.Servers {
		names = append(names, s.ProjectID+"/"+s.Name)
	}
	return names
}

func TestAnAllowedWriteCreatesTheServer(t *testing.T) {
	f := newFixture(t)
	rec := f.do(t, "deployer", "POST", "/servers", `{"project_id": "A", "name": "web-1"}`, http.StatusCreated)
	var s server
	if err := json.Unmarshal(rec.Body.Bytes(), &s); err != nil || s.ProjectID != "A" || s.Name != "web-1" || s.ID == "" {
		t.Fatalf("created %+v, %v", s, err)
	}
	if got := f.servers(t, "deployer", "?project_id=A"); len(got) != 1 || got[0] != "A/web-1" {
		t.Errorf("listed %v", got)
	}
	f.do(t, "deployer", "DELETE", "/servers/"+s.ID, "", http.StatusNoContent)
	f.do(t, "deployer", "DELETE", "/servers/"+s.ID, "", http.StatusNotFound)
}

func TestAReadOnlyCallerIsRefused(t *testing.T) {
	f := newFixture(t)
	f.do(t, "deployer", "POST", "/servers", `{"project_id": "A", "name": "web-1"}`, http.StatusCreated)
	// The policy says why; the tests can ask the Evaluator directly.
	iamtest.Denied(t, f.w.Evaluator, iam.Request{Principal: iam.ApplicationPrincipal("viewer"), ProjectID: "A", Permission: "instance:server:create"})

	rec := f.do(t, "viewer", "POST", "/servers", `{"project_id": "A", "name": "web-2"}`, http.StatusForbidden)
	if got := rec.Body.String(); got != `{"type":"permissions_denied","message":"insufficient permissions"}`+"\n" {
		t.Errorf("body %s", got)
	}
	f.do(t, "viewer", "DELETE", "/servers/srv-1", "", http.StatusForbidden)
	f.do(t, "viewer", "POST", "/projects", `{"name": "mine"}`, http.StatusForbidden)
	if got := f.servers(t, "viewer", ""); len(got) != 1 || got[0] != "A/web-1" {
		t.Errorf("the viewer still reads: %v", got)
	}
}

func TestAnExpiredKeyIsRefused(t *testing.T) {
	f := newFixture(t)
	key := f.w.NewAPIKey(t, iam.APIKey{Bearer: iam.ApplicationPrincipal("deployer"), Secret: "short-lived", ExpiresAt: f.w.Clock.Now().Add(time.Hour)})
	f.do(t, key.Secret, "GET", "/servers", "", http.StatusOK)
	f.w.Clock.Advance(time.Hour)
	rec := f.do(t, key.Secret, "GET", "/servers", "", http.StatusUnauthorized)
	if got := rec.Body.String(); got != `{"type":"denied_authentication","message":"denied authentication: api_key is expired","method":"api_key","reason":"expired"}`+"\n" {
		t.Errorf("body %s", got)
	}
	f.do(t, "deployer", "GET", "/servers", "", http.StatusOK) // other keys still work
	f.do(t, "", "GET", "/servers", "", http.StatusUnauthorized)
	f.do(t, "no such secret", "GET", "/servers", "", http.StatusUnauthorized)
}

func TestAnotherOrganizationsCallerAndResourceAreNotFound(t *testing.T) {
	f := newFixture(t)
	rec := f.do(t, "deployer", "POST", "/servers", `{"project_id": "A", "name": "web-1"}`, http.StatusCreated)
	var acmes server
	if err := json.Unmarshal(rec.Body.Bytes(), &acmes); err != nil {
		t.Fatal(err)
	}
	// Every request of globex's deployer about acme's resources is answered
	// as if they did not exist: same status, same body.
	for _, tc := range []struct{ method, theirs, missing, body, missingBody string }{
		{"DELETE", "/servers/" + acmes.ID, "/servers/srv-404", "", ""},
		{"POST", "/servers", "/servers", `{"project_id": "A", "name": "x"}`, `{"project_id": "nowhere", "name": "x"}`},
		{"GET", "/servers?project_id=A", "/servers?project_id=nowhere", "", ""},
		{"DELETE", "/projects/B", "/projects/nowhere", "", ""},
	} {
		theirs := f.do(t, "globex-deployer", tc.method, tc.theirs, tc.body, http.StatusNotFound)
		missing := f.do(t, "globex-deployer", tc.method, tc.missing, tc.missingBody, http.StatusNotFound)
		if theirs.Body.String() != missing.Body.String() {
			t.Errorf("%s %s: %s, but a missing one: %s", tc.method, tc.theirs, theirs.Body, missing.Body)
		}
	}
	// Nothing happened to acme's resources.
	if got := f.servers(t, "deployer", ""); len(got) != 1 {
		t.Errorf("acme's servers: %v", got)
	}
	f.do(t, "deployer", "DELETE", "/projects/B", "", http.StatusNoContent)
}

func TestTheListIsFilteredWithWhereCan(t *testing.T) {
	f := newFixture(t)
	f.do(t, "boss", "POST", "/servers", `{"project_id": "A", "name": "a1"}`, http.StatusCreated)
	f.do(t, "boss", "POST", "/servers", `{"project_id": "B", "name": "b1"}`, http.StatusCreated)
	f.do(t, "globex-deployer", "POST", "/servers", `{"project_id": "G", "name": "g1"}`, http.StatusCreated)
	for secret, want := range map[string]string{
		"boss":            "[A/a1 B/b1]", // the owner: every project of acme, never globex's
		"viewer":          "[A/a1]",      // where InstancesReadOnly is granted
		"deployer":        "[A/a1]",
		"globex-deployer": "[G/g1]",
	} {
		if got := f.servers(t, secret, ""); fmt.Sprint(got) != want {
			t.Errorf("%s sees %v, want %s", secret, got, want)
		}
	}
	// WhereCan is what the filter asks.
	where, err := f.w.Evaluator.WhereCan(t.Context(), iam.Request{Principal: iam.ApplicationPrincipal("viewer"), Permission: "instance:server:list"})
	if err != nil || fmt.Sprint(where) != "[A]" {
		t.Errorf("WhereCan: %v, %v", where, err)
	}
}

func TestProjectsAreTheOrganizations(t *testing.T) {
	f := newFixture(t)
	rec := f.do(t, "deployer", "POST", "/projects", `{"name": "C"}`, http.StatusCreated)
	var p struct{ ID string }
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
		t.Fatal(err)
	}
	if got, err := f.w.Store.GetProject(t.Context(), p.ID); err != nil || got.OrganizationID != "acme" {
		t.Fatalf("the project is acme's: %+v, %v", got, err)
	}
	var list struct {
		TotalCount int `json:"total_count"`
	}
	if err := json.Unmarshal(f.do(t, "deployer", "GET", "/projects", "", 200).Body.Bytes(), &list); err != nil || list.TotalCount != 4 {
		t.Errorf("acme's projects: %+v, %v", list, err) // the default project, A, B and C
	}
	f.do(t, "viewer", "GET", "/projects", "", http.StatusForbidden)

	// A project that holds servers, and the default project, stay.
	f.do(t, "boss", "POST", "/servers", `{"project_id": "`+p.ID+`", "name": "c1"}`, http.StatusCreated)
	f.do(t, "deployer", "DELETE", "/projects/"+p.ID, "", http.StatusPreconditionFailed)
	f.do(t, "deployer", "DELETE", "/projects/acme", "", http.StatusForbidden)
	f.do(t, "boss", "DELETE", "/servers/srv-1", "", http.StatusNoContent)
	f.do(t, "deployer", "DELETE", "/projects/"+p.ID, "", http.StatusNoContent)
}

func TestMalformedRequestsAreBadRequests(t *testing.T) {
	f := newFixture(t)
	for _, body := range []string{
		`{"project_id": "A"}`,
		`{"project_id": "A", "name": "x", "zone": "fr-par-1"}`,
		`{"project_id": "A", "name": "x"} {}`,
		`not json`,
	} {
		if rec := f.do(t, "deployer", "POST", "/servers", body, http.StatusBadRequest); !json.Valid(rec.Body.Bytes()) {
			t.Errorf("%s: body %s", body, rec.Body)
		}
	}
	f.do(t, "deployer", "POST", "/projects", `{"name": ""}`, http.StatusBadRequest) // the store's validation
}

func TestRunNeedsAWorldFile(t *testing.T) {
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if err := run(t.Context(), "", "localhost:0", logger); err == nil {
		t.Error("no world file: want an error")
	}
	if err := run(t.Context(), "testdata/none.json", "localhost:0", logger); err == nil {
		t.Error("a missing world file: want an error")
	}
}
