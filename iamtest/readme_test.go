package iamtest_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/iamkit/iam"
	"github.com/iamkit/iam/iamhttp"
	"github.com/iamkit/iam/iamtest"
)

// newHandler is the service under test of the README's example: one route,
// guarded.
func newHandler(ev *iam.Evaluator) http.Handler {
	guard := iamhttp.New(ev)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /projects/{project}/servers", func(w http.ResponseWriter, r *http.Request) {
		if guard.Check(w, r, iam.Request{ProjectID: r.PathValue("project"), Permission: "instance:server:create"}) {
			w.WriteHeader(http.StatusCreated)
		}
	})
	return guard.Authenticate(mux)
}

// The README's "Three ways in" shows this test.
func TestDeployerCreatesServersInAOnly(t *testing.T) {
	w := iamtest.Load(t, `{
	  "organization": {"id": "acme", "name": "Acme"},
	  "projects": [{"name": "A"}, {"name": "B"}],
	  "applications": [{"name": "deployer"}],
	  "policies": [{"name": "deploys-in-A", "application": "deployer",
	    "rules": [{"projects": ["A"], "permission_sets": ["InstancesFullAccess"]}]}]
	}`)
	deployer := iam.ApplicationPrincipal("deployer")
	iamtest.Allowed(t, w.Evaluator, iam.Request{Principal: deployer, ProjectID: "A", Permission: "instance:server:create"})
	iamtest.Denied(t, w.Evaluator, iam.Request{Principal: deployer, ProjectID: "B", Permission: "instance:server:create"})
	iamtest.CheckFails(t, w.Evaluator, iam.Request{Principal: deployer, ProjectID: "Z", Permission: "instance:server:create"}, iam.ErrNotFound)

	// Through HTTP, with an API key whose secret the test chose.
	key := w.NewAPIKey(t, iam.APIKey{Bearer: deployer, Secret: "s3cret", ExpiresAt: w.Clock.Now().Add(time.Hour)})
	handler := newHandler(w.Evaluator)
	for _, tc := range []struct {
		project string
		want    int
	}{{"A", 201}, {"B", 403}, {"Z", 404}} {
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, iamtest.NewRequest("POST", "/projects/"+tc.project+"/servers", key.Secret, ""))
		if rec.Code != tc.want {
			t.Errorf("project %s: status %d, want %d", tc.project, rec.Code, tc.want)
		}
	}
	w.Clock.Advance(time.Hour) // the key expires
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, iamtest.NewRequest("POST", "/projects/A/servers", key.Secret, ""))
	if rec.Code != http.StatusUnauthorized {
		t.Errorf("expired key: status %d", rec.Code)
	}
}
