package iamhttp_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/iamkit/iam"
	"github.com/iamkit/iam/iamhttp"
)

// The HTTP way in: Authenticate in front of the routes, Check in each
// handler. (The README's "Three ways in" shows this code.)
func Example() {
	ctx := context.Background()
	store := iam.NewMemoryStore()
	for _, world := range []string{
		`{"organization": {"id": "acme", "name": "Acme"}, "projects": [{"name": "A"}, {"name": "B"}],
		  "applications": [{"name": "deployer"}],
		  "policies": [{"name": "deploys-in-A", "application": "deployer",
		    "rules": [{"projects": ["A"], "permission_sets": ["InstancesFullAccess"]}]}]}`,
		`{"organization": {"id": "globex", "name": "Globex"}, "projects": [{"name": "G"}]}`,
	} {
		if err := iam.Load(ctx, store, "world.json", []byte(world)); err != nil {
			log.Fatal(err)
		}
	}
	ev, err := iam.NewEvaluator(ctx, store)
	if err != nil {
		log.Fatal(err)
	}
	defer ev.Close()
	key, err := store.CreateAPIKey(ctx, iam.APIKey{OrganizationID: "acme", Bearer: iam.ApplicationPrincipal("deployer")})
	if err != nil {
		log.Fatal(err)
	}

	guard := iamhttp.New(ev) // iamhttp.WithLogger(slog.Default()) logs why requests are refused
	mux := http.NewServeMux()
	mux.HandleFunc("POST /projects/{project}/servers", func(w http.ResponseWriter, r *http.Request) {
		if !guard.Check(w, r, iam.Request{ProjectID: r.PathValue("project"), Permission: "instance:server:create"}) {
			return // the error response is written
		}
		caller, _ := iamhttp.CallerFrom(r.Context())
		fmt.Fprintf(w, "server created by %s\n", caller.Principal)
	})
	handler := guard.Authenticate(mux) // http.ListenAndServe(addr, handler)

	for _, tc := range []struct{ secret, project string }{
		{key.Secret, "A"},       // allowed
		{key.Secret, "B"},       // not granted there
		{key.Secret, "G"},       // another organization's project...
		{key.Secret, "nowhere"}, // ...answered as one that does not exist
		{"a wrong secret", "A"},
	} {
		req := httptest.NewRequest("POST", "/projects/"+tc.project+"/servers", nil)
		req.Header.Set(iamhttp.TokenHeader, tc.secret)
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		fmt.Print(rec.Code, " ", rec.Body)
	}
	// Output:
	// 200 server created by application:deployer
	// 403 {"type":"permissions_denied","message":"insufficient permissions"}
	// 404 {"type":"not_found","message":"resource is not found"}
	// 404 {"type":"not_found","message":"resource is not found"}
	// 401 {"type":"denied_authentication","message":"denied authentication: api_key does not exist","method":"api_key","reason":"not_found"}
}

// A handler that looks its resource up itself answers a miss with
// Guard.Error and an error wrapping iam.ErrNotFound: the same response as
// Check gives for another organization's resource.
func ExampleGuard_Error() {
	guard := iamhttp.New(nil) // Error needs no Evaluator; a real guard has one
	rec := httptest.NewRecorder()
	guard.Error(rec, httptest.NewRequest("DELETE", "/servers/srv-9", nil), fmt.Errorf("server %q: %w", "srv-9", iam.ErrNotFound))
	fmt.Print(rec.Code, " ", rec.Body)
	// Output:
	// 404 {"type":"not_found","message":"resource is not found"}
}
