package iamtest_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/iamkit/iam"
	"github.com/iamkit/iam/iamtest"
)

// A host's test, whole: a world in one line, assertions that print the
// explanation when they fail, an API key with a known secret, a request
// carrying it, and the clock moved past the key's expiry. (In a test, t is
// the *testing.T it receives.)
func Example() {
	t := new(testing.T)
	var handler http.Handler // the host's handler under test

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

	key := w.NewAPIKey(t, iam.APIKey{Bearer: deployer, Secret: "s3cret", ExpiresAt: w.Clock.Now().Add(time.Hour)})
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, iamtest.NewRequest("POST", "/servers", key.Secret, `{"project_id": "A", "name": "web"}`))
	w.Clock.Advance(time.Hour) // from now on the key has expired
}

// Worlds from testdata files, several organizations, policies added later.
func ExampleLoadFile() {
	t := new(testing.T)
	w := iamtest.LoadFile(t, "testdata/acme.json")
	w.LoadFile(t, "testdata/globex.json")
	w.Load(t, `{"name": "ci", "application": "ci", "rules": [{"projects": ["A"], "permission_sets": ["InstancesReadOnly"]}]}`,
		iam.IntoOrganization("acme")) // the store holds two organizations: name the one
}

// Files with rule conditions need a store with a condition engine:
// iamtest.WithStoreOptions(iam.WithConditions(conditions.New())), from
// github.com/iamkit/iam/conditions. The World's clock gives request.time.
func ExampleWithStoreOptions() {
	t := new(testing.T)
	var engine iam.ConditionEngine // conditions.New()
	w := iamtest.LoadFile(t, "testdata/world.json", iamtest.WithStoreOptions(iam.WithConditions(engine)))
	w.Clock.Set(time.Date(2025, 6, 1, 9, 0, 0, 0, time.UTC))
}
