package iam

import "context"

// SnapshotReader is an optional capability of a Store: ReadSnapshot runs
// fn over a consistent, read-only view of the store as of one revision
// (tx.Revision()), without making writers wait for fn, where Atomic would
// hold the store's write lock for as long as fn runs. Writes through tx
// fail. A store shared by several processes (one database, many
// replicas) has it, so that a replica reading the whole state never
// stops the others' writes. NewEvaluator (and an Evaluator's rebuild)
// reads the state it indexes through it, where the store has it, and
// through Atomic otherwise.
type SnapshotReader interface {
	ReadSnapshot(ctx context.Context, fn func(tx Tx) error) error
}

// readSnapshot runs fn over a consistent view of store: a snapshot where
// the store offers one, a transaction otherwise.
func readSnapshot(ctx context.Context, store Store, fn func(tx Tx) error) error {
	if r, ok := store.(SnapshotReader); ok {
		return r.ReadSnapshot(ctx, fn)
	}
	return store.Atomic(ctx, fn)
}
