// Command service is a small HTTP service guarded by iam, the example a
// host copies: projects and servers, listed, created and deleted by
// callers that authenticate with an API key's secret in X-Auth-Token, as
// on Scaleway's APIs. Its tests (service_test.go) show how to test such a
// service with iamtest.
//
//	go run ./examples/service -world world.json
//	curl -H "X-Auth-Token: $SECRET" localhost:8080/servers
//
// The world file says who may do what (see the README's file format); its
// API keys give only the SHA-256 of their secrets (iam.HashSecret).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/iamkit/iam"
	"github.com/iamkit/iam/conditions"
)

func main() {
	world := flag.String("world", "", "the world file to serve (required)")
	addr := flag.String("addr", "localhost:8080", "the address to listen on")
	flag.Parse()
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := run(context.Background(), *world, *addr, logger); err != nil {
		logger.Error("service", "error", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, world, addr string, logger *slog.Logger) error {
	if world == "" {
		return errors.New("-world is required: the world file to serve")
	}
	store := iam.NewMemoryStore(iam.WithConditions(conditions.New()))
	if err := iam.LoadFile(ctx, store, world); err != nil {
		return err
	}
	ev, err := iam.NewEvaluator(ctx, store)
	if err != nil {
		return err
	}
	defer ev.Close()
	srv := &http.Server{
		Addr:              addr,
		Handler:           newService(store, ev, logger),
		ReadHeaderTimeout: 5 * time.Second,
		MaxHeaderBytes:    16 << 10,
	}
	logger.Info("service: listening", "addr", addr)
	if err := srv.ListenAndServe(); err != nil {
		return fmt.Errorf("service: %w", err)
	}
	return nil
}
