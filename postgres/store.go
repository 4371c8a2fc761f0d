package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/iamkit/iam"
)

// Store is an iam.Store over a PostgreSQL database, shared by any number
// of processes (replicas of a host service). It is safe for concurrent
// use. The zero value is not usable; call Open.
//
// Every write is one database transaction that first takes the lock of
// the revision row, so that writers of every replica take turns: the
// write rules (the same as MemoryStore's, iam.WriteRules) validate it
// against the database as it is, the entities' rows change, the revision
// grows by one, the change is appended to the change log and announced
// (NOTIFY), all in that transaction. Revisions are therefore gap-free and
// totally ordered across replicas.
//
// Each Store follows the change log: a connection of its own listens for
// the announcements, and on each one (and every poll interval, in case one
// is lost, and after every reconnection) it reads the log from the last
// revision it delivered, in order, and gives each change to the
// subscribers. A lost notification, a dropped connection or a replica
// that was down thus loses nothing: the log is the truth, the
// announcements only make it fast. A replica's own writes are delivered
// to its subscribers before the write returns (read-your-writes for the
// writing process); other replicas see them once their feed has read
// them (iam.Evaluator.WaitRevision waits for that).
type Store struct {
	pool  *pgxpool.Pool
	rules *iam.WriteRules
	o     options

	writeMu sync.Mutex    // one write of this process at a time, its delivery included
	writer  atomic.Uint64 // the goroutine of the write in progress (0: none)

	// The feed.
	deliverMu   sync.Mutex    // delivery in revision order
	delivered   atomic.Uint64 // the last revision given to the subscribers (written under deliverMu)
	latest      atomic.Uint64 // the highest revision known to be committed
	subsMu      sync.Mutex
	subs        []*subscription
	stateMu     sync.Mutex
	checkedAt   time.Time     // when the feed last found itself current
	feedErr     error         // why the listening connection is down; nil while up
	listener    atomic.Uint64 // the feed's goroutine
	listenerPID atomic.Uint32 // the server process of the listening connection
	stop        context.CancelFunc
	done        chan struct{}
	closeOnce   sync.Once
}

var (
	_ iam.Store          = (*Store)(nil)
	_ iam.SnapshotReader = (*Store)(nil)
	_ iam.StoreTx        = (*view)(nil)
)

// Option configures a Store.
type Option func(*options)

type options struct {
	rules      []iam.Option
	poll       time.Duration
	retention  uint64
	pruneEvery int64 // revisions apart the log is pruned (tests lower it)
	onError    func(error)
	connect    func(context.Context, *pgx.ConnConfig) (*pgx.Conn, error) // opens the listening connection (tests replace it)
}

// WithRules passes options to the write rules (iam.NewWriteRules):
// iam.WithCatalogue, iam.WithConditions. Every replica of a database must
// be given the same ones.
func WithRules(opts ...iam.Option) Option {
	return func(o *options) { o.rules = append(o.rules, opts...) }
}

// WithPollInterval sets how often the feed reads the change log when no
// announcement came (default one second): the most a lost announcement
// delays a change.
func WithPollInterval(d time.Duration) Option {
	return func(o *options) { o.poll = d }
}

// WithRetention sets how many of the latest changes the change log keeps
// (default 100,000; 0 keeps every change). Older ones are pruned as writes
// go on, a thousand at a time; Changes for a revision the log no longer
// holds returns an error wrapping iam.ErrCompacted, and an Evaluator that
// missed them rebuilds its index from the whole state.
func WithRetention(changes uint64) Option {
	return func(o *options) { o.retention = changes }
}

// WithErrorHandler sets a function told of the feed's failures, which no
// caller is waiting for: the listening connection lost (it reconnects and
// catches up by itself), a change that could not be read, a subscriber
// that panicked on another replica's change. It is called on the feed's
// goroutine and must not call back into the store. By default they are
// only reported by Feed.
func WithErrorHandler(fn func(error)) Option {
	return func(o *options) { o.onError = fn }
}

// pruneEvery is how many revisions apart the log is pruned, by default.
const pruneEvery = 1000

// Open migrates the database's schema to this package's version (see
// Migrate), starts following its change log and returns the Store. The
// pool stays the caller's: Close the Store before the pool. ctx bounds
// Open only.
func Open(ctx context.Context, pool *pgxpool.Pool, opts ...Option) (*Store, error) {
	o := options{poll: time.Second, retention: 100_000, pruneEvery: pruneEvery}
	for _, opt := range opts {
		opt(&o)
	}
	if o.poll <= 0 {
		return nil, fmt.Errorf("iam: postgres: the poll interval must be positive (got %v): %w", o.poll, iam.ErrInvalid)
	}
	rules, err := iam.NewWriteRules(o.rules...)
	if err != nil {
		return nil, err
	}
	return open(ctx, pool, rules, o)
}

// open is Open once the options are read.
func open(ctx context.Context, pool *pgxpool.Pool, rules *iam.WriteRules, o options) (*Store, error) {
	if err := Migrate(ctx, pool); err != nil {
		return nil, err
	}
	s := &Store{pool: pool, rules: rules, o: o, done: make(chan struct{})}
	if s.o.connect == nil {
		s.o.connect = pgx.ConnectConfig
	}
	rev, err := s.Revision(ctx)
	if err != nil {
		return nil, err
	}
	s.delivered.Store(rev)
	s.latest.Store(rev)
	s.checkedAt = time.Now()
	lctx, stop := context.WithCancel(context.Background())
	s.stop = stop
	ready := make(chan error, 1)
	go s.listen(lctx, ready)
	select {
	case err = <-ready:
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("iam: postgres: listening for changes (LISTEN %s): %w", channel, err)
	}
	return s, nil
}

// Close stops following the database: subscribers hear of no other
// replica's write any more (this Store's own writes still reach them
// before they return). Reads and writes work until the pool is closed.
// Close waits for the feed's goroutine to end.
func (s *Store) Close() {
	s.closeOnce.Do(func() {
		s.stop()
		<-s.done
	})
}

// ConditionEngine returns the condition engine of the write rules (given
// with WithRules(iam.WithConditions(...))), or nil, for an Evaluator.
func (s *Store) ConditionEngine() iam.ConditionEngine { return s.rules.ConditionEngine() }

// Revision returns the database's revision: the number of writes ever
// committed, by any replica.
func (s *Store) Revision(ctx context.Context) (uint64, error) {
	if err := s.notInside("Revision"); err != nil {
		return 0, err
	}
	var rev int64
	if err := s.pool.QueryRow(ctx, "SELECT revision FROM iam_revision").Scan(&rev); err != nil {
		return 0, fmt.Errorf("iam: postgres: reading the revision: %w", err)
	}
	s.noteLatest(uint64(rev))
	return uint64(rev), nil
}

// Atomic runs fn in one database transaction; see iam.Store. The
// transaction takes the write lock first, so that fn validates against
// the database as it is and no other replica writes until it ends: keep
// fn short. A write that commits returns once this process's subscribers
// have its change. If the connection fails while the commit is on its
// way, Atomic returns an error although the write may have landed; the
// feed delivers it if it did.
//
// Inside fn, read and write through tx: a method of the store called from
// fn (or from a subscriber) returns an error wrapping iam.ErrInvalid
// where it would wait for the write lock that fn holds.
func (s *Store) Atomic(ctx context.Context, fn func(tx iam.Tx) error) error {
	if err := s.notInside("a write"); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.writer.Store(goroutineID())
	defer s.writer.Store(0)
	ch, err := s.commit(ctx, func(v *view, rev uint64) ([]iam.Event, error) { return s.run(ctx, v, rev, fn) })
	if err != nil || ch == nil {
		return err
	}
	defer s.deliverMu.Unlock()
	return s.deliverOwn(ctx, *ch)
}

// commit runs plan in a transaction under the write lock, and commits
// what it wrote through v as the next revision, with the events it
// returns. It returns a nil Change when there are none. When it returns a
// Change, it holds deliverMu: the caller delivers the Change and releases
// it.
func (s *Store) commit(ctx context.Context, plan func(v *view, rev uint64) ([]iam.Event, error)) (*iam.Change, error) {
	var tx pgx.Tx
	var rev, pruned int64
	err := s.begin(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, func(t pgx.Tx) error {
		tx = t
		return t.QueryRow(ctx, "SELECT revision, pruned_through FROM iam_revision FOR UPDATE").Scan(&rev, &pruned)
	})
	if err != nil {
		return nil, fmt.Errorf("iam: postgres: starting a write (taking the write lock): %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // after Commit, a no-op
	v := newView(tx, true)
	events, err := plan(v, uint64(rev))
	if err != nil {
		return nil, err
	}
	if len(events) == 0 {
		return nil, nil
	}
	ch := &iam.Change{Revision: uint64(rev) + 1, Events: events}
	doc, err := encodeEvents(events)
	if err != nil {
		return nil, err
	}
	// The writes still queued go with the revision, the log and the
	// announcement, in one round trip.
	next := rev + 1
	b := &v.pending
	b.Queue("UPDATE iam_revision SET revision = $1", next)
	b.Queue("INSERT INTO iam_changes (revision, events) VALUES ($1, $2)", next, string(doc))
	b.Queue("SELECT pg_notify('"+channel+"', $1)", strconv.FormatInt(next, 10))
	if keep := int64(s.o.retention); keep > 0 && next%s.o.pruneEvery == 0 && next-keep > pruned {
		b.Queue("DELETE FROM iam_changes WHERE revision <= $1", next-keep)
		b.Queue("UPDATE iam_revision SET pruned_through = $1", next-keep)
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return nil, fmt.Errorf("iam: postgres: recording revision %d: %w", next, err)
	}
	// The feed must not deliver this revision before this write does (its
	// caller learns of its subscribers' failures): hold the delivery
	// until the write has delivered it.
	s.deliverMu.Lock()
	if err := tx.Commit(ctx); err != nil {
		s.deliverMu.Unlock()
		return nil, fmt.Errorf("iam: postgres: committing revision %d (it may have landed; the feed delivers it if so): %w", next, err)
	}
	s.noteLatest(uint64(next))
	return ch, nil
}

// begin starts a transaction and runs first, its first statement, in it.
// When the connection turns out broken before first succeeds (a pooled
// connection to a server that restarted since), nothing has happened yet,
// so it tries again on another connection, a few times.
func (s *Store) begin(ctx context.Context, opts pgx.TxOptions, first func(pgx.Tx) error) error {
	for attempt := 1; ; attempt++ {
		tx, err := s.pool.BeginTx(ctx, opts)
		if err == nil {
			if err = first(tx); err == nil {
				return nil
			}
			tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // the error that matters is err
		}
		var pgErr *pgconn.PgError
		if attempt == 4 || ctx.Err() != nil || (errors.As(err, &pgErr) && !strings.HasPrefix(pgErr.Code, "08") && !strings.HasPrefix(pgErr.Code, "57P")) {
			return err
		}
	}
}

// read runs fn over a read-only view of one consistent snapshot of the
// database.
func (s *Store) read(ctx context.Context, op string, fn func(e iam.Entities) error) error {
	if err := s.notInside(op); err != nil {
		return err
	}
	var tx pgx.Tx
	if err := s.begin(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(t pgx.Tx) error {
		tx = t
		return nil
	}); err != nil {
		return fmt.Errorf("iam: postgres: starting a read: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // read-only: nothing to keep
	return fn(s.reader(newView(tx, false)))
}

// ReadSnapshot runs fn over a read-only snapshot of the database as of
// one revision (tx.Revision()), without taking the write lock: writers
// on every replica go on meanwhile. Writes through tx fail with an error
// wrapping iam.ErrInvalid. It implements iam.SnapshotReader: an Evaluator
// reads the whole state so when it builds its index.
func (s *Store) ReadSnapshot(ctx context.Context, fn func(tx iam.Tx) error) error {
	if err := s.notInside("ReadSnapshot"); err != nil {
		return err
	}
	// The snapshot is taken by the first statement: the revision and
	// every entity read after it are of one and the same state.
	var tx pgx.Tx
	var rev int64
	err := s.begin(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(t pgx.Tx) error {
		tx = t
		return t.QueryRow(ctx, "SELECT revision FROM iam_revision").Scan(&rev)
	})
	if err != nil {
		return fmt.Errorf("iam: postgres: starting a read: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // read-only: nothing to keep
	return fn(snapshotTx{Entities: s.reader(newView(tx, false)), rev: uint64(rev)})
}

// snapshotTx is the Tx of ReadSnapshot: the rules' reads, at a revision.
type snapshotTx struct {
	iam.Entities
	rev uint64
}

func (t snapshotTx) Revision() uint64 { return t.rev }

// notInside refuses a call on the store from inside its own write (the
// Atomic function, or a subscriber during a delivery), which would
// otherwise wait for that write forever.
func (s *Store) notInside(op string) error {
	w, l := s.writer.Load(), s.listener.Load()
	if w == 0 && l == 0 {
		return nil
	}
	if id := goroutineID(); id != 0 && (id == w || id == l) {
		return fmt.Errorf("iam: %s on a postgres Store inside its own Atomic function (or a subscriber) would wait for the write to end, forever: inside Atomic, call the methods of the Tx the function is given (tx.GetUser, not store.GetUser): %w", op, iam.ErrInvalid)
	}
	return nil
}

func writeOne[T any](s *Store, ctx context.Context, fn func(tx iam.Tx) (T, error)) (T, error) {
	var out T
	err := s.Atomic(ctx, func(tx iam.Tx) error {
		var err error
		out, err = fn(tx)
		return err
	})
	if err != nil && !errors.Is(err, iam.ErrDelivery) {
		var zero T
		return zero, err
	}
	return out, err // the write landed, even when a subscriber failed
}

func readOne[T any](s *Store, ctx context.Context, op string, fn func(e iam.Entities) (T, error)) (T, error) {
	var out T
	err := s.read(ctx, op, func(e iam.Entities) error {
		var err error
		out, err = fn(e)
		return err
	})
	return out, err
}
