// Command quickstart loads the world file beside it (one organization,
// Acme, whose application production-c runs in projects A and F) and
// prints a handful of decisions, one explanation and an API key login.
//
//	go run ./examples/quickstart
package main

import (
	"context"
	"fmt"
	"log"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"

	"github.com/iamkit/iam"
	"github.com/iamkit/iam/conditions"
)

func main() {
	ctx := context.Background()

	// The world file's third rule has a condition, so switch them on.
	store := iam.NewMemoryStore(iam.WithConditions(conditions.New()))
	if err := iam.LoadFile(ctx, store, worldFile()); err != nil {
		log.Fatal(err)
	}
	ev, err := iam.NewEvaluator(ctx, store)
	if err != nil {
		log.Fatal(err)
	}
	defer ev.Close()

	prodC := iam.ApplicationPrincipal("production-c")
	office := netip.MustParseAddr("203.0.113.7")
	elsewhere := netip.MustParseAddr("198.51.100.1")
	for _, req := range []iam.Request{
		{Principal: prodC, ProjectID: "A", Permission: "InstancesFullAccess"},
		{Principal: prodC, ProjectID: "A", Permission: "instance:server:create"},
		{Principal: prodC, ProjectID: "F", Permission: "instance:server:create"},
		{Principal: prodC, ProjectID: "F", Permission: "ContainerRegistryFullAccess"},
		{Principal: prodC, OrganizationID: "acme", Permission: "BillingReadOnly", IP: office},
		{Principal: prodC, OrganizationID: "acme", Permission: "BillingReadOnly", IP: elsewhere},
		{Principal: iam.UserPrincipal("ana@acme.test"), ProjectID: "A", Permission: "InstancesReadOnly"},
		{Principal: iam.UserPrincipal("owner@acme.test"), ProjectID: "A", Permission: "InstancesReadOnly"},
	} {
		dec, err := ev.Check(ctx, req)
		if err != nil {
			log.Fatal(err)
		}
		target := "project " + req.ProjectID
		if req.ProjectID == "" {
			target = "organization " + req.OrganizationID
		}
		from := ""
		if req.IP.IsValid() {
			from = " from " + req.IP.String()
		}
		fmt.Printf("%-5v %s %s in %s%s (%s)\n", dec.Allowed, req.Principal, req.Permission, target, from, dec.Reason)
	}

	fmt.Println()
	x, err := ev.Explain(ctx, iam.Request{Principal: prodC, ProjectID: "F", Permission: "instance:server:create"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(x)

	// The world file keeps only the key's SHA-256; its secret is "test".
	fmt.Println()
	who, err := ev.Authenticate(ctx, "SCWPRODC000000000001", "test")
	fmt.Println("SCWPRODC000000000001 authenticates as", who, err)
}

// worldFile finds world.json beside this source file, wherever the
// program is run from.
func worldFile() string {
	if _, err := os.Stat("world.json"); err == nil {
		return "world.json"
	}
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "world.json")
}
