package admin_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/iamkit/iam"
	"github.com/iamkit/iam/admin"
)

// An Admin checks a caller's rights before each IAM write: a member with no
// rights is refused, the owner grants it IAMPolicyManager, and the same
// write then succeeds.
func ExampleAdmin() {
	ctx := context.Background()
	store := iam.NewMemoryStore()
	// The host creates the organization and its owner on the store itself.
	must(store.CreateOrganization(ctx, iam.Organization{ID: "acme", Name: "Acme"}))
	must(store.CreateUser(ctx, iam.User{ID: "olga", OrganizationID: "acme", Email: "olga@acme.test", Type: iam.UserOwner}))
	must(store.CreateUser(ctx, iam.User{ID: "ana", OrganizationID: "acme", Email: "ana@acme.test", Type: iam.UserMember}))
	must(store.CreateApplication(ctx, iam.Application{ID: "ci", OrganizationID: "acme", Name: "ci"}))
	ev, err := iam.NewEvaluator(ctx, store)
	if err != nil {
		log.Fatal(err)
	}
	defer ev.Close()

	adm := admin.New(store, ev)
	owner, ana := adm.As(iam.UserPrincipal("olga")), adm.As(iam.UserPrincipal("ana"))
	deploy := iam.Policy{
		Name:           "ci-deploys",
		OrganizationID: "acme",
		Principal:      iam.ApplicationPrincipal("ci"),
		Rules:          []iam.Rule{{Scope: iam.ProjectsScope("acme"), PermissionSets: []string{"InstancesFullAccess"}}},
	}

	_, err = ana.CreatePolicy(ctx, deploy)
	fmt.Println(err)
	fmt.Println(errors.Is(err, iam.ErrForbidden))

	// The owner may do everything in its organization, granting rights too.
	must(owner.CreatePolicy(ctx, iam.Policy{
		Name:           "ana-writes-policies",
		OrganizationID: "acme",
		Principal:      iam.UserPrincipal("ana"),
		Rules:          []iam.Rule{{Scope: iam.OrganizationScope("acme"), PermissionSets: []string{"IAMPolicyManager"}}},
	}))

	p, err := ana.CreatePolicy(ctx, deploy)
	fmt.Println(p.Name, err)
	// Output:
	// iam: user "ana" may not create policies in organization "acme": it needs iam:policy:create (held through IAMManager, IAMPolicyManager, OrganizationManager or ownership): iam: forbidden
	// true
	// ci-deploys <nil>
}

// must stops the example on an error.
func must[T any](v T, err error) T {
	if err != nil {
		log.Fatal(err)
	}
	return v
}
