package iam_test

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"os"
	"time"

	"github.com/iamkit/iam"
)

// exampleWorld builds the organization the examples share: project A, an
// owner, a member ana in group "devs", and an application production-c.
func exampleWorld(ctx context.Context) *iam.MemoryStore {
	store := iam.NewMemoryStore()
	err := store.Atomic(ctx, func(tx iam.Tx) error {
		writes := []func() error{
			func() error {
				_, err := tx.CreateOrganization(ctx, iam.Organization{ID: "acme", Name: "Acme"})
				return err
			},
			func() error {
				_, err := tx.CreateProject(ctx, iam.Project{ID: "A", OrganizationID: "acme", Name: "A"})
				return err
			},
			func() error {
				_, err := tx.CreateUser(ctx, iam.User{ID: "owner", OrganizationID: "acme", Email: "owner@acme.test", Type: iam.UserOwner})
				return err
			},
			func() error {
				_, err := tx.CreateUser(ctx, iam.User{ID: "ana", OrganizationID: "acme", Email: "ana@acme.test"})
				return err
			},
			func() error {
				_, err := tx.CreateGroup(ctx, iam.Group{ID: "devs", OrganizationID: "acme", Name: "devs", UserIDs: []string{"ana"}})
				return err
			},
			func() error {
				_, err := tx.CreateApplication(ctx, iam.Application{ID: "production-c", OrganizationID: "acme", Name: "production-c"})
				return err
			},
		}
		for _, w := range writes {
			if err := w(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	return store
}

// The main flow: a store, a policy, an Evaluator, checks.
func Example() {
	ctx := context.Background()
	store := exampleWorld(ctx)

	ev, err := iam.NewEvaluator(ctx, store)
	if err != nil {
		log.Fatal(err)
	}
	defer ev.Close()

	// production-c may manage instances in project A.
	_, err = store.CreatePolicy(ctx, iam.Policy{
		OrganizationID: "acme",
		Name:           "prod-c",
		Principal:      iam.ApplicationPrincipal("production-c"),
		Rules: []iam.Rule{{
			Scope:          iam.ProjectsScope("A"),
			PermissionSets: []string{"InstancesFullAccess"},
		}},
	})
	if err != nil {
		log.Fatal(err)
	}

	for _, req := range []iam.Request{
		{Principal: iam.ApplicationPrincipal("production-c"), ProjectID: "A", Permission: "InstancesFullAccess"},
		{Principal: iam.ApplicationPrincipal("production-c"), ProjectID: "A", Permission: "instance:server:create"},
		{Principal: iam.ApplicationPrincipal("production-c"), ProjectID: "acme", Permission: "instance:server:create"},
		{Principal: iam.UserPrincipal("ana"), ProjectID: "A", Permission: "instance:server:create"},
		{Principal: iam.UserPrincipal("owner"), ProjectID: "A", Permission: "instance:server:create"},
	} {
		dec, err := ev.Check(ctx, req)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s %s in %s: %v (%s)\n", req.Principal, req.Permission, req.ProjectID, dec.Allowed, dec.Reason)
	}
	// Output:
	// application:production-c InstancesFullAccess in A: true (granted)
	// application:production-c instance:server:create in A: true (granted)
	// application:production-c instance:server:create in acme: false (not granted)
	// user:ana instance:server:create in A: false (not granted)
	// user:owner instance:server:create in A: true (owner)
}

// Explain says which policy, rule, group and set granted, or why nothing
// did.
func ExampleEvaluator_Explain() {
	ctx := context.Background()
	store := exampleWorld(ctx)
	ev, err := iam.NewEvaluator(ctx, store)
	if err != nil {
		log.Fatal(err)
	}
	defer ev.Close()
	_, err = store.CreatePolicy(ctx, iam.Policy{
		ID: "devs-instances", OrganizationID: "acme", Name: "devs can run instances",
		Principal: iam.GroupPrincipal("devs"),
		Rules:     []iam.Rule{{Scope: iam.OrganizationScope("acme"), PermissionSets: []string{"InstancesFullAccess"}}},
	})
	if err != nil {
		log.Fatal(err)
	}

	x, err := ev.Explain(ctx, iam.Request{Principal: iam.UserPrincipal("ana"), ProjectID: "A", Permission: "InstancesServerCreate"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(x)
	x, err = ev.Explain(ctx, iam.Request{Principal: iam.UserPrincipal("ana"), ProjectID: "A", Permission: "ObjectStorageReadOnly"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(x)
	// Output:
	// ALLOW user:ana InstancesServerCreate in project A
	//   because policy "devs can run instances" (devs-instances) rule 0 grants InstancesFullAccess (which includes InstancesServerCreate) to group:devs in all projects
	// DENY user:ana ObjectStorageReadOnly in project A
	//   no policy grants it to the caller or to its groups
}

// The reverse queries: who may, what may, where may.
func ExampleEvaluator_WhoCan() {
	ctx := context.Background()
	store := exampleWorld(ctx)
	ev, err := iam.NewEvaluator(ctx, store)
	if err != nil {
		log.Fatal(err)
	}
	defer ev.Close()
	_, err = store.CreatePolicy(ctx, iam.Policy{
		OrganizationID: "acme", Principal: iam.GroupPrincipal("devs"),
		Rules: []iam.Rule{{Scope: iam.ProjectsScope("A"), PermissionSets: []string{"ObjectStorageReadOnly"}}},
	})
	if err != nil {
		log.Fatal(err)
	}

	who, err := ev.WhoCan(ctx, iam.Request{ProjectID: "A", Permission: "object-storage:bucket:list"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("who:", who)
	what, err := ev.WhatCan(ctx, iam.Request{Principal: iam.UserPrincipal("ana"), ProjectID: "A"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("what:", what)
	where, err := ev.WhereCan(ctx, iam.Request{Principal: iam.UserPrincipal("ana"), Permission: "ObjectStorageBucketsRead"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("where:", where)
	// Output:
	// who: [user:ana user:owner]
	// what: [ObjectStorageBucketsRead ObjectStorageObjectsRead ObjectStorageReadOnly]
	// where: [A]
}

// WhoCanSeq pages through a large answer without making a list of it.
func ExampleEvaluator_WhoCanSeq() {
	ctx := context.Background()
	store := exampleWorld(ctx)
	ev, err := iam.NewEvaluator(ctx, store)
	if err != nil {
		log.Fatal(err)
	}
	defer ev.Close()
	_, err = store.CreatePolicy(ctx, iam.Policy{
		OrganizationID: "acme", Principal: iam.GroupPrincipal("devs"),
		Rules: []iam.Rule{{Scope: iam.ProjectsScope("A"), PermissionSets: []string{"ObjectStorageReadOnly"}}},
	})
	if err != nil {
		log.Fatal(err)
	}

	// The first page (of one principal) of who may list buckets in A.
	who, err := ev.WhoCanSeq(ctx, iam.Request{ProjectID: "A", Permission: "object-storage:bucket:list"})
	if err != nil {
		log.Fatal(err)
	}
	const pageSize = 1
	page := 0
	for p := range who {
		if page++; page > pageSize {
			break // the next page starts after p's ID
		}
		fmt.Println(p)
	}
	// Output:
	// user:ana
}

// Authenticate turns an API key into its bearer; checks made with the key
// never exceed the bearer's rights.
func ExampleEvaluator_Authenticate() {
	ctx := context.Background()
	store := exampleWorld(ctx)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ev, err := iam.NewEvaluator(ctx, store, iam.WithClock(func() time.Time { return now }))
	if err != nil {
		log.Fatal(err)
	}
	defer ev.Close()
	key, err := store.CreateAPIKey(ctx, iam.APIKey{
		OrganizationID: "acme",
		Bearer:         iam.ApplicationPrincipal("production-c"),
		ExpiresAt:      now.Add(24 * time.Hour),
	})
	if err != nil {
		log.Fatal(err)
	}

	who, err := ev.Authenticate(ctx, key.AccessKey, key.Secret)
	fmt.Println(who, err)
	_, err = ev.Authenticate(ctx, key.AccessKey, "not the secret")
	fmt.Println(err != nil)
	now = now.Add(48 * time.Hour)
	_, err = ev.Authenticate(ctx, key.AccessKey, key.Secret)
	fmt.Println(err != nil)
	// Output:
	// application:production-c <nil>
	// true
	// true
}

// A decision hook logs every decision for audit, here with log/slog.
func ExampleWithDecisionHook() {
	ctx := context.Background()
	store := exampleWorld(ctx)
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		// Drop the time and the duration so that the output is stable.
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey || a.Key == "took" {
				return slog.Attr{}
			}
			return a
		},
	}))
	ev, err := iam.NewEvaluator(ctx, store, iam.WithDecisionHook(
		func(ctx context.Context, req iam.Request, dec iam.Decision, err error, took time.Duration) {
			logger.LogAttrs(ctx, slog.LevelInfo, "iam decision",
				slog.String("principal", req.Principal.String()),
				slog.String("permission", req.Permission),
				slog.String("project", req.ProjectID),
				slog.Bool("allowed", dec.Allowed),
				slog.String("reason", dec.Reason.String()),
				slog.Any("error", err),
				slog.Duration("took", took))
		}))
	if err != nil {
		log.Fatal(err)
	}
	defer ev.Close()
	if _, err := ev.Check(ctx, iam.Request{Principal: iam.UserPrincipal("owner"), ProjectID: "A", Permission: "InstancesFullAccess"}); err != nil {
		log.Fatal(err)
	}
	// Output:
	// level=INFO msg="iam decision" principal=user:owner permission=InstancesFullAccess project=A allowed=true reason=owner error=<nil>
}
