// Package postgres is an iam.Store over PostgreSQL (through jackc/pgx),
// for a host service that runs as many replicas sharing one database, or
// a single process whose runtime writes must survive a restart.
//
//	pool, err := pgxpool.New(ctx, "postgres://...")
//	store, err := postgres.Open(ctx, pool) // migrates the schema, follows the change log
//	defer store.Close()
//	ev, err := iam.NewEvaluator(ctx, store)
//
// # Writes
//
// Every write is one database transaction, validated by the same write
// rules as iam.MemoryStore (iam.WriteRules: no rule is written twice).
// It takes the lock of the revision row first, so writers on every
// replica take turns: revisions grow by one per write, with no gap, in
// one order that every replica sees. The transaction also appends the
// change (every event, cascades included) to the change log table and
// announces it with NOTIFY, so that the write, its revision, its log
// entry and its announcement land together or not at all.
//
// # The change feed
//
// Each Store keeps one connection of its own listening for the
// announcements, and reads the log from the last revision it delivered
// on each one, every poll interval (WithPollInterval, in case one is
// lost), and after every reconnection. So a lost notification, a dropped
// connection, a restarted server or a replica that was down loses
// nothing: the log is the truth, and a replica catches up from it
// without reading the whole state again (unless the log was pruned past
// what it missed: see WithRetention; an Evaluator then rebuilds).
//
// A replica's own writes reach its subscribers (its Evaluator) before
// they return: read-your-writes holds for the writing process. Other
// replicas see a write once their feed has read it, within milliseconds
// on a healthy connection; a caller that must see its write on another
// replica passes the write's revision along and waits there with
// iam.Evaluator.WaitRevision. While a replica's feed is down, its
// Evaluator keeps answering from the last revision it applied (each
// Decision says which), and Feed reports the outage and how current the
// replica is, for a host that prefers to refuse checks then.
//
// # Schema
//
// The tables (iam_entities, iam_changes, iam_revision, iam_schema) live
// in the connection's schema (its search_path). Open applies the schema's
// versions, embedded in the package, under an advisory lock, so that
// replicas starting at once are safe; see Migrate. Entities are stored as
// JSON documents of this package's own format, which reads back exactly
// what was written (times in UTC).
package postgres
