// Command replicas runs two replicas of a host service in one process,
// each with its own connection pool, Store and Evaluator, against the
// PostgreSQL database named by IAMKIT_POSTGRES_URL: a grant written on one
// is checked on the other as soon as it is there, and so is its
// revocation.
//
//	IAMKIT_POSTGRES_URL=postgres://user@localhost:5432/db go run ./examples/replicas
//
// or, with a throwaway server, from the postgres directory:
//
//	../scripts/with-postgres.sh go run ./examples/replicas
//
// It works in an organization of its own, which it deletes at the end.
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/iamkit/iam"
	"github.com/iamkit/iam/postgres"
)

// replica is what each replica of a host service holds: its pool, the
// Store over it and the Evaluator that follows the Store.
type replica struct {
	name  string
	pool  *pgxpool.Pool
	store *postgres.Store
	ev    *iam.Evaluator
}

func start(ctx context.Context, name, url string) (*replica, error) {
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		return nil, err
	}
	store, err := postgres.Open(ctx, pool) // migrates the schema, starts following the change log
	if err != nil {
		pool.Close()
		return nil, err
	}
	ev, err := iam.NewEvaluator(ctx, store) // builds its index from the database
	if err != nil {
		store.Close()
		pool.Close()
		return nil, err
	}
	return &replica{name: name, pool: pool, store: store, ev: ev}, nil
}

func (r *replica) stop() {
	r.ev.Close()
	r.store.Close()
	r.pool.Close()
}

func main() {
	url := os.Getenv("IAMKIT_POSTGRES_URL")
	if url == "" {
		log.Fatal("set IAMKIT_POSTGRES_URL to a PostgreSQL database, or run: ../scripts/with-postgres.sh go run ./examples/replicas")
	}
	ctx := context.Background()
	a, err := start(ctx, "replica A", url)
	if err != nil {
		log.Fatal(err)
	}
	defer a.stop()
	b, err := start(ctx, "replica B", url)
	if err != nil {
		log.Fatal(err)
	}
	defer b.stop()

	org := fmt.Sprintf("example-%d", time.Now().UnixNano())
	project, ana := org+"-prod", org+"-ana"
	req := iam.Request{Principal: iam.UserPrincipal(ana), ProjectID: project, Permission: "instance:server:create"}

	// Replica A writes the organization and a grant in one transaction.
	// The write commits as the revision after the one the transaction
	// started from: that is the revision another replica waits for.
	var rev uint64
	err = a.store.Atomic(ctx, func(tx iam.Tx) error {
		rev = tx.Revision() + 1
		if _, err := tx.CreateOrganization(ctx, iam.Organization{ID: org, Name: "Example"}); err != nil {
			return err
		}
		if _, err := tx.CreateUser(ctx, iam.User{ID: org + "-owner", OrganizationID: org, Email: "owner@example.test", Type: iam.UserOwner}); err != nil {
			return err
		}
		if _, err := tx.CreateUser(ctx, iam.User{ID: ana, OrganizationID: org, Email: "ana@example.test"}); err != nil {
			return err
		}
		if _, err := tx.CreateProject(ctx, iam.Project{ID: project, OrganizationID: org, Name: "prod"}); err != nil {
			return err
		}
		_, err := tx.CreatePolicy(ctx, iam.Policy{ID: org + "-ana-instances", OrganizationID: org, Principal: iam.UserPrincipal(ana),
			Rules: []iam.Rule{{Scope: iam.ProjectsScope(project), PermissionSets: []string{"InstancesFullAccess"}}}})
		return err
	})
	if err != nil {
		log.Fatal(err)
	}
	defer func() {
		if err := a.store.DeleteOrganization(ctx, org); err != nil {
			log.Print(err)
		}
	}()
	show(ctx, a, req, "right after its own write")
	waitAndShow(ctx, b, rev, req)

	// Replica B revokes the grant; replica A waits for the revocation.
	if err := b.store.DeletePolicy(ctx, org+"-ana-instances"); err != nil {
		log.Fatal(err)
	}
	rev, err = b.store.Revision(ctx) // at least the revocation's revision
	if err != nil {
		log.Fatal(err)
	}
	show(ctx, b, req, "right after its own write")
	waitAndShow(ctx, a, rev, req)

	st := a.store.Feed()
	fmt.Printf("%s's feed: delivered revision %d of %d known, current as of %s ago, error: %v\n",
		a.name, st.Delivered, st.Latest, time.Since(st.CheckedAt).Round(time.Millisecond), st.Err)
}

// waitAndShow waits until r's Evaluator has revision rev, then checks.
func waitAndShow(ctx context.Context, r *replica, rev uint64, req iam.Request) {
	start := time.Now()
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := r.ev.WaitRevision(wctx, rev); err != nil {
		log.Fatal(err)
	}
	show(ctx, r, req, fmt.Sprintf("after waiting %v for revision %d", time.Since(start).Round(time.Microsecond), rev))
}

func show(ctx context.Context, r *replica, req iam.Request, when string) {
	dec, err := r.ev.Check(ctx, req)
	if err != nil {
		log.Fatal(err)
	}
	verdict := "denied"
	if dec.Allowed {
		verdict = "allowed"
	}
	fmt.Printf("%s, %s: %s may create servers: %s (%s, revision %d)\n", r.name, when, req.Principal.ID, verdict, dec.Reason, dec.Revision)
}
