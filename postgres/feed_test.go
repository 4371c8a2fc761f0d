package postgres

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/iamkit/iam"
)

// openFeed opens a Store without write rules, for the tests of the feed,
// which write with rawWrite.
func openFeed(t testing.TB, pool *pgxpool.Pool, opts ...Option) *Store {
	t.Helper()
	o := options{poll: time.Second, retention: 100_000, pruneEvery: pruneEvery}
	for _, opt := range opts {
		opt(&o)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := open(ctx, pool, nil, o)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// recorder collects the changes a subscriber is given.
type recorder struct {
	mu      sync.Mutex
	changes []iam.Change
	wake    chan struct{}
}

func record(s *Store) *recorder {
	r := &recorder{wake: make(chan struct{}, 1)}
	s.Subscribe(func(ch iam.Change) {
		r.mu.Lock()
		r.changes = append(r.changes, ch)
		r.mu.Unlock()
		select {
		case r.wake <- struct{}{}:
		default:
		}
	})
	return r
}

func (r *recorder) last() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.changes) == 0 {
		return 0
	}
	return r.changes[len(r.changes)-1].Revision
}

// waitFor waits until the recorder has revision rev, or fails the test.
func (r *recorder) waitFor(t testing.TB, rev uint64, within time.Duration) {
	t.Helper()
	deadline := time.After(within)
	for r.last() < rev {
		select {
		case <-r.wake:
		case <-deadline:
			t.Fatalf("revision %d not delivered within %v (last: %d)", rev, within, r.last())
		}
	}
}

// revisions checks that the recorder holds exactly revisions from+1..to,
// in order, each with the events the log holds.
func (r *recorder) check(t testing.TB, s *Store, from, to uint64) {
	t.Helper()
	r.mu.Lock()
	got := append([]iam.Change(nil), r.changes...)
	r.mu.Unlock()
	want, err := s.Changes(context.Background(), from)
	if err != nil {
		t.Fatal(err)
	}
	if uint64(len(want)) != to-from {
		t.Fatalf("the log holds %d changes after %d, want %d", len(want), from, to-from)
	}
	if len(got) != len(want) {
		t.Fatalf("delivered %d changes, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].Revision != from+1+uint64(i) {
			t.Fatalf("change %d delivered as revision %d, want %d", i, got[i].Revision, from+1+uint64(i))
		}
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Fatalf("revision %d delivered as %+v, the log holds %+v", got[i].Revision, got[i], want[i])
		}
	}
}

func orgEvent(id string) iam.Event {
	return iam.Event{Op: iam.OpPut, Kind: iam.KindOrganization, ID: id, OrganizationID: id, Value: iam.Organization{ID: id, Name: id}}
}

// Writers on three replicas at once: every replica's subscribers get every
// revision, 1 to N, once each and in order, with the events committed.
func TestFeedDeliversEveryReplicasWritesInOrderWithoutGaps(t *testing.T) {
	t.Parallel()
	db := newDatabase(t)
	const replicas, writes = 3, 40
	var stores []*Store
	var recs []*recorder
	for range replicas {
		s := openFeed(t, newPool(t, db, 4), WithPollInterval(time.Hour))
		stores = append(stores, s)
		recs = append(recs, record(s))
	}
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, replicas*writes)
	for i, s := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range writes {
				if _, err := rawWrite(ctx, s, orgEvent(fmt.Sprintf("o%d-%d", i, j))); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for i, r := range recs {
		r.waitFor(t, replicas*writes, 10*time.Second)
		r.check(t, stores[i], 0, replicas*writes)
	}
}

// A replica's own write reaches its subscribers before the write returns,
// after every earlier write of other replicas, whether its feed had read
// them yet or not (b polls once an hour; announcements may or may not
// have reached it).
func TestOwnWriteIsDeliveredBeforeItReturnsAfterEveryEarlierRevision(t *testing.T) {
	t.Parallel()
	db := newDatabase(t)
	a := openFeed(t, newPool(t, db, 2))
	b := openFeed(t, newPool(t, db, 2), WithPollInterval(time.Hour))
	ctx := context.Background()
	rb := record(b)
	for i := range 5 {
		if _, err := rawWrite(ctx, a, orgEvent(fmt.Sprintf("a%d", i))); err != nil {
			t.Fatal(err)
		}
	}
	rev, err := rawWrite(ctx, b, orgEvent("b"))
	if err != nil {
		t.Fatal(err)
	}
	if rev != 6 {
		t.Fatalf("b's write committed as revision %d, want 6", rev)
	}
	if got := rb.last(); got != 6 {
		t.Fatalf("b's subscriber has revision %d when b's write returns, want 6", got)
	}
	rb.check(t, b, 0, 6)
}

// A change whose announcement was lost (here, committed without one) is
// delivered all the same, by the poll of the log.
func TestLostNotificationIsCaughtUpByThePoll(t *testing.T) {
	t.Parallel()
	db := newDatabase(t)
	pool := newPool(t, db, 2)
	s := openFeed(t, pool, WithPollInterval(50*time.Millisecond))
	r := record(s)
	ctx := context.Background()
	doc, err := encodeEvents([]iam.Event{orgEvent("silent")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `WITH r AS (UPDATE iam_revision SET revision = revision + 1 RETURNING revision)
		INSERT INTO iam_changes (revision, events) SELECT revision, $1 FROM r`, string(doc)); err != nil {
		t.Fatal(err)
	}
	r.waitFor(t, 1, 5*time.Second)
	r.check(t, s, 0, 1)
}

// The listening connection killed again and again while another replica
// writes: the replica reports the outage (Feed().Err), reconnects, and
// ends up with every revision, in order, none twice.
func TestFeedSurvivesItsListeningConnectionKilledMidStream(t *testing.T) {
	t.Parallel()
	db := newDatabase(t)
	writer := openFeed(t, newPool(t, db, 2))
	admin := newPool(t, db, 1)
	var mu sync.Mutex
	var reported []error
	follower := openFeed(t, newPool(t, db, 2), WithPollInterval(100*time.Millisecond),
		WithErrorHandler(func(err error) { mu.Lock(); reported = append(reported, err); mu.Unlock() }))
	r := record(follower)
	ctx := context.Background()
	const writes = 60
	done := make(chan error)
	go func() {
		for i := range writes {
			if _, err := rawWrite(ctx, writer, orgEvent(fmt.Sprintf("o%d", i))); err != nil {
				done <- err
				return
			}
			time.Sleep(2 * time.Millisecond)
		}
		done <- nil
	}()
	kills := 0
	for running := true; running; {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			running = false
		case <-time.After(15 * time.Millisecond):
			pid := follower.listenerPID.Load()
			if _, err := admin.Exec(ctx, "SELECT pg_terminate_backend($1)", int32(pid)); err != nil {
				t.Fatal(err)
			}
			kills++
		}
	}
	r.waitFor(t, writes, 20*time.Second)
	r.check(t, follower, 0, writes)
	mu.Lock()
	defer mu.Unlock()
	if kills == 0 || len(reported) == 0 {
		t.Fatalf("%d kills, %d outages reported: the test killed nothing", kills, len(reported))
	}
	if st := follower.Feed(); st.Delivered != writes || st.Latest != writes {
		t.Fatalf("Feed() = %+v after catching up, want delivered and latest %d", st, writes)
	}
}

// A log pruned past what a reader asks for says so (ErrCompacted), and a
// replica that was behind the pruned part still delivers what the log
// holds, in order, so that its subscribers see the gap.
func TestChangesPrunedFromTheLogAreReportedCompacted(t *testing.T) {
	t.Parallel()
	db := newDatabase(t)
	s := openFeed(t, newPool(t, db, 2), WithRetention(10))
	ctx := context.Background()
	for i := range pruneEvery {
		if _, err := rawWrite(ctx, s, orgEvent(fmt.Sprintf("o%d", i))); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Changes(ctx, 0); !errors.Is(err, iam.ErrCompacted) {
		t.Fatalf("Changes(0) after pruning: %v, want ErrCompacted", err)
	}
	got, err := s.Changes(ctx, pruneEvery-10)
	if err != nil || len(got) != 10 || got[0].Revision != pruneEvery-9 {
		t.Fatalf("Changes(%d) = %d changes, %v; want the last 10", pruneEvery-10, len(got), err)
	}
}
