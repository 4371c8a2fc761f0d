package iam_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/iamkit/iam"
)

// The library's way in: a world, an Evaluator, a check. (The README's
// "Three ways in" shows this code.)
func Example_library() {
	ctx := context.Background()
	store := iam.NewMemoryStore()
	err := iam.Load(ctx, store, "world.json", []byte(`{
	  "organization": {"id": "acme", "name": "Acme"},
	  "projects": [{"name": "A"}],
	  "applications": [{"name": "deployer"}],
	  "policies": [{"name": "deploys-in-A", "application": "deployer",
	    "rules": [{"projects": ["A"], "permission_sets": ["InstancesFullAccess"]}]}]
	}`))
	if err != nil {
		log.Fatal(err)
	}
	ev, err := iam.NewEvaluator(ctx, store)
	if err != nil {
		log.Fatal(err)
	}
	defer ev.Close()

	for _, project := range []string{"A", "acme"} {
		dec, err := ev.Check(ctx, iam.Request{
			Principal:  iam.ApplicationPrincipal("deployer"),
			ProjectID:  project,
			Permission: "instance:server:create",
		})
		if err != nil {
			log.Fatal(err) // a malformed request, an unknown project or permission...
		}
		fmt.Println(project, dec.Allowed, dec.Reason)
	}
	// Output:
	// A true granted
	// acme false not granted
}

// AuthenticateSecret finds an API key by its secret alone, as Scaleway's
// X-Auth-Token header carries it.
func ExampleEvaluator_AuthenticateSecret() {
	ctx := context.Background()
	store := exampleWorld(ctx)
	ev, err := iam.NewEvaluator(ctx, store)
	if err != nil {
		log.Fatal(err)
	}
	defer ev.Close()
	key, err := store.CreateAPIKey(ctx, iam.APIKey{
		AccessKey: "SCWEXAMPLE0000000001", OrganizationID: "acme",
		Bearer: iam.ApplicationPrincipal("production-c"),
	})
	if err != nil {
		log.Fatal(err)
	}

	c, err := ev.AuthenticateSecret(ctx, key.Secret) // the secret is a random UUID
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s of %s, with key %s\n", c.Bearer, c.OrganizationID, c.AccessKey)

	_, err = ev.AuthenticateSecret(ctx, "not a secret anyone has")
	fmt.Println(errors.Is(err, iam.ErrUnauthenticated))
	// Output:
	// application:production-c of acme, with key SCWEXAMPLE0000000001
	// true
}
