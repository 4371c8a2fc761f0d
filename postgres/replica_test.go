package postgres

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/iamkit/iam"
)

// seedWorld writes organization acme (owner "owner"), member "ana" and
// project "p" through s.
func seedWorld(t testing.TB, s iam.Store) {
	t.Helper()
	ctx := context.Background()
	err := s.Atomic(ctx, func(tx iam.Tx) error {
		if _, err := tx.CreateOrganization(ctx, iam.Organization{ID: "acme", Name: "Acme"}); err != nil {
			return err
		}
		if _, err := tx.CreateUser(ctx, iam.User{ID: "owner", OrganizationID: "acme", Email: "owner@acme.test", Type: iam.UserOwner}); err != nil {
			return err
		}
		if _, err := tx.CreateUser(ctx, iam.User{ID: "ana", OrganizationID: "acme", Email: "ana@acme.test"}); err != nil {
			return err
		}
		_, err := tx.CreateProject(ctx, iam.Project{ID: "p", OrganizationID: "acme", Name: "p"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

var anaCreatesServers = iam.Request{Principal: iam.UserPrincipal("ana"), ProjectID: "p", Permission: "instance:server:create"}

func grantAna(t testing.TB, s iam.Store) uint64 {
	t.Helper()
	ctx := context.Background()
	if _, err := s.CreatePolicy(ctx, iam.Policy{ID: "ana-instances", OrganizationID: "acme", Principal: iam.UserPrincipal("ana"),
		Rules: []iam.Rule{{Scope: iam.ProjectsScope("p"), PermissionSets: []string{"InstancesFullAccess"}}}}); err != nil {
		t.Fatal(err)
	}
	return revisionOf(t, s)
}

func revokeAna(t testing.TB, s iam.Store) uint64 {
	t.Helper()
	if err := s.DeletePolicy(context.Background(), "ana-instances"); err != nil {
		t.Fatal(err)
	}
	return revisionOf(t, s)
}

func revisionOf(t testing.TB, s iam.Store) uint64 {
	t.Helper()
	rev, err := s.Revision(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return rev
}

// waitAndCheck waits until ev reaches rev, then checks req there.
func waitAndCheck(t testing.TB, ev *iam.Evaluator, rev uint64, req iam.Request) iam.Decision {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := ev.WaitRevision(ctx, rev); err != nil {
		t.Fatal(err)
	}
	dec, err := ev.Check(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if dec.Revision < rev {
		t.Fatalf("answered at revision %d after waiting for %d", dec.Revision, rev)
	}
	return dec
}

// A grant written on one replica is seen by the Evaluators of the others
// once they reach its revision, and so is its revocation, written on
// another; the writing replica sees its own write as soon as it returns.
func TestWriteOnOneReplicaIsSeenByEveryOther(t *testing.T) {
	t.Parallel()
	db := newDatabase(t)
	rs := []replica{newReplica(t, db), newReplica(t, db), newReplica(t, db)}
	seedWorld(t, rs[0].store)
	rev := grantAna(t, rs[0].store)
	if dec, err := rs[0].ev.Check(context.Background(), anaCreatesServers); err != nil || !dec.Allowed {
		t.Fatalf("the writing replica, right after the write: %+v, %v; want allowed", dec, err)
	}
	for i, r := range rs {
		if dec := waitAndCheck(t, r.ev, rev, anaCreatesServers); !dec.Allowed {
			t.Fatalf("replica %d at revision %d: %+v, want allowed", i, rev, dec)
		}
	}
	rev = revokeAna(t, rs[1].store)
	for i, r := range rs {
		if dec := waitAndCheck(t, r.ev, rev, anaCreatesServers); dec.Allowed {
			t.Fatalf("replica %d at revision %d: %+v, want the revoked grant denied", i, rev, dec)
		}
	}
}

// Writers on two replicas update the same group at once, each reading it
// and adding one member in a transaction: no update is lost (the group
// ends with every member), revisions are gap-free (the log holds each
// one, once), and both replicas' Evaluators end at the same revision
// with the same answers.
func TestConcurrentWritersOnTwoReplicasLoseNoUpdateAndLeaveNoGap(t *testing.T) {
	t.Parallel()
	db := newDatabase(t)
	rs := []replica{newReplica(t, db), newReplica(t, db)}
	seedWorld(t, rs[0].store)
	ctx := context.Background()
	const perReplica = 15
	err := rs[0].store.Atomic(ctx, func(tx iam.Tx) error {
		for i := range 2 * perReplica {
			if _, err := tx.CreateUser(ctx, iam.User{ID: fmt.Sprint("m", i), OrganizationID: "acme", Email: fmt.Sprintf("m%d@acme.test", i)}); err != nil {
				return err
			}
		}
		if _, err := tx.CreateGroup(ctx, iam.Group{ID: "team", OrganizationID: "acme", Name: "team"}); err != nil {
			return err
		}
		_, err := tx.CreatePolicy(ctx, iam.Policy{ID: "team-instances", OrganizationID: "acme", Principal: iam.GroupPrincipal("team"),
			Rules: []iam.Rule{{Scope: iam.ProjectsScope("p"), PermissionSets: []string{"InstancesFullAccess"}}}})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	start := revisionOf(t, rs[0].store)
	var wg sync.WaitGroup
	errs := make(chan error, 2*perReplica)
	for i, r := range rs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range perReplica {
				member := fmt.Sprint("m", i*perReplica+j)
				errs <- r.store.Atomic(ctx, func(tx iam.Tx) error {
					g, err := tx.GetGroup(ctx, "team")
					if err != nil {
						return err
					}
					g.UserIDs = append(slices.Clone(g.UserIDs), member)
					_, err = tx.UpdateGroup(ctx, g)
					return err
				})
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	end := revisionOf(t, rs[1].store)
	if end != start+2*perReplica {
		t.Fatalf("revision %d after %d writes from %d", end, 2*perReplica, start)
	}
	changes, err := rs[1].store.Changes(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i, ch := range changes {
		if ch.Revision != uint64(i)+1 {
			t.Fatalf("the log holds revision %d at position %d: a gap", ch.Revision, i)
		}
	}
	if uint64(len(changes)) != end {
		t.Fatalf("the log holds %d changes at revision %d", len(changes), end)
	}
	g, err := rs[0].store.GetGroup(ctx, "team")
	if err != nil {
		t.Fatal(err)
	}
	if len(g.UserIDs) != 2*perReplica {
		t.Fatalf("the group has %d members after %d additions: an update was lost (%v)", len(g.UserIDs), 2*perReplica, g.UserIDs)
	}
	for i, r := range rs {
		for m := range 2 * perReplica {
			req := iam.Request{Principal: iam.UserPrincipal(fmt.Sprint("m", m)), ProjectID: "p", Permission: "instance:server:create"}
			if dec := waitAndCheck(t, r.ev, end, req); !dec.Allowed {
				t.Fatalf("replica %d: member m%d denied at revision %d", i, m, end)
			}
		}
	}
}

// gatedConnect opens listening connections only while the gate is open,
// as a network partition would.
type gatedConnect struct{ closed atomic.Bool }

func (g *gatedConnect) option() Option {
	return func(o *options) {
		o.connect = func(ctx context.Context, cfg *pgx.ConnConfig) (*pgx.Conn, error) {
			if g.closed.Load() {
				return nil, errors.New("the test cut the replica off")
			}
			return pgx.ConnectConfig(ctx, cfg)
		}
	}
}

// A replica cut off from the change feed keeps answering checks from the
// last revision it applied, and says so: the Decision's revision, and
// Feed() reporting the outage. Once the feed is back, it catches up with
// everything it missed, the revocation included, without a rebuild.
func TestChecksAnswerFromTheLastGoodIndexWhileTheFeedIsDownThenConverge(t *testing.T) {
	t.Parallel()
	db := newDatabase(t)
	writer := newReplica(t, db)
	var gate gatedConnect
	s := openStore(t, newPool(t, db, 2), gate.option(), WithPollInterval(50*time.Millisecond))
	ev, err := iam.NewEvaluator(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	defer ev.Close()
	admin := newPool(t, db, 1)
	ctx := context.Background()

	seedWorld(t, writer.store)
	granted := grantAna(t, writer.store)
	if dec := waitAndCheck(t, ev, granted, anaCreatesServers); !dec.Allowed {
		t.Fatalf("before the outage: %+v, want allowed", dec)
	}
	// Cut the replica off: its listening connection dies and cannot come
	// back.
	gate.closed.Store(true)
	if _, err := admin.Exec(ctx, "SELECT pg_terminate_backend($1)", int32(s.listenerPID.Load())); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for s.Feed().Err == nil {
		if time.Now().After(deadline) {
			t.Fatal("Feed() reports no outage after the listening connection was killed")
		}
		time.Sleep(5 * time.Millisecond)
	}
	revoked := revokeAna(t, writer.store)
	for range 3 {
		if _, err := writer.store.CreateProject(ctx, iam.Project{ID: fmt.Sprint("q", revoked), OrganizationID: "acme", Name: "q"}); err != nil {
			t.Fatal(err)
		}
		revoked++
	}
	time.Sleep(200 * time.Millisecond) // several poll intervals: nothing can arrive
	dec, err := ev.Check(ctx, anaCreatesServers)
	if err != nil {
		t.Fatalf("a check during the outage failed: %v", err)
	}
	if dec.Revision != granted {
		t.Fatalf("during the outage the check answered at revision %d, want the last applied, %d", dec.Revision, granted)
	}
	if st := s.Feed(); st.Err == nil || st.Delivered != granted {
		t.Fatalf("Feed() during the outage = %+v, want the error and delivered revision %d", st, granted)
	}
	gate.closed.Store(false)
	if dec := waitAndCheck(t, ev, revoked, anaCreatesServers); dec.Allowed {
		t.Fatalf("after the outage: %+v, want the revoked grant denied", dec)
	}
	deadline = time.Now().Add(10 * time.Second)
	for st := s.Feed(); st.Err != nil || st.Delivered != revoked; st = s.Feed() {
		if time.Now().After(deadline) {
			t.Fatalf("Feed() after the outage = %+v, want no error and revision %d", st, revoked)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// The server restarted while a replica writes: every replica reconnects
// and converges on the database's revision, nothing committed is lost
// (every write that returned success is there, and every replica's
// Evaluator answers as one built afresh), and checks keep answering from
// the last good index meanwhile.
//
// It restarts the server, so it runs alone (never in parallel with the
// other tests of the package), and only where IAMKIT_POSTGRES_RESTART
// names the command that does it (scripts/with-postgres.sh sets it).
func TestServerRestartLosesNothingAndEveryReplicaConverges(t *testing.T) {
	restart := os.Getenv("IAMKIT_POSTGRES_RESTART")
	db := newDatabase(t)
	if restart == "" {
		t.Skip("IAMKIT_POSTGRES_RESTART is not set: run the tests through scripts/with-postgres.sh, which sets it to a command that restarts its server")
	}
	rs := []replica{newReplica(t, db), newReplica(t, db), newReplica(t, db)}
	seedWorld(t, rs[0].store)
	granted := grantAna(t, rs[0].store)
	for _, r := range rs {
		waitAndCheck(t, r.ev, granted, anaCreatesServers)
	}
	ctx := context.Background()

	stop := make(chan struct{})
	var landed []string // users whose creation returned success (or was found landed on a retry)
	var writes sync.WaitGroup
	writes.Add(1)
	go func() {
		defer writes.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			id := fmt.Sprint("w", i)
			for {
				_, err := rs[i%3].store.CreateUser(ctx, iam.User{ID: id, OrganizationID: "acme", Email: id + "@acme.test"})
				if err == nil || errors.Is(err, iam.ErrConflict) { // a conflict: an earlier attempt landed
					landed = append(landed, id)
					break
				}
				time.Sleep(20 * time.Millisecond) // the server is down: retry
			}
			time.Sleep(2 * time.Millisecond)
		}
	}()
	checks := make(chan error, 1)
	go func() {
		n := 0
		for {
			select {
			case <-stop:
				checks <- nil
				return
			default:
			}
			for i, r := range rs {
				if dec, err := r.ev.Check(ctx, anaCreatesServers); err != nil || !dec.Allowed {
					checks <- fmt.Errorf("replica %d, check %d: %+v, %v; want allowed from the last good index", i, n, dec, err)
					return
				}
			}
			n++
			time.Sleep(time.Millisecond)
		}
	}()
	time.Sleep(100 * time.Millisecond)
	if out, err := exec.Command(restart).CombinedOutput(); err != nil {
		t.Fatalf("restarting the server: %v\n%s", err, out)
	}
	time.Sleep(300 * time.Millisecond)
	close(stop)
	writes.Wait()
	if err := <-checks; err != nil {
		t.Fatal(err)
	}

	final := revisionOf(t, rs[0].store)
	users, err := rs[0].store.ListUsers(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, u := range users {
		have[u.ID] = true
	}
	for _, id := range landed {
		if !have[id] {
			t.Fatalf("user %s was written, and is not in the database after the restart", id)
		}
	}
	fresh, err := iam.NewEvaluator(ctx, rs[0].store)
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	for i, r := range rs {
		wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		err := r.ev.WaitRevision(wctx, final)
		cancel()
		if err != nil {
			t.Fatalf("replica %d did not converge: %v (feed: %+v)", i, err, r.store.Feed())
		}
		for _, u := range users {
			req := iam.Request{Principal: iam.UserPrincipal(u.ID), ProjectID: "p", Permission: "instance:server:create"}
			got, gerr := r.ev.Check(ctx, req)
			want, werr := fresh.Check(ctx, req)
			if outcome(got, gerr) != outcome(want, werr) {
				t.Fatalf("replica %d after the restart: %s; an Evaluator built afresh: %s", i, outcome(got, gerr), outcome(want, werr))
			}
		}
	}
	t.Logf("%d writes landed across the restart; every replica at revision %d", len(landed), final)
}

// A replica reading the whole state (an Evaluator building its index)
// reads one consistent snapshot and never makes the writers of the other
// replicas wait for it.
func TestReadingTheWholeStateNeverBlocksWriters(t *testing.T) {
	t.Parallel()
	db := newDatabase(t)
	reader := openStore(t, newPool(t, db, 2))
	writer := openStore(t, newPool(t, db, 2))
	seedWorld(t, writer)
	ctx := context.Background()
	before := revisionOf(t, writer)
	err := reader.ReadSnapshot(ctx, func(tx iam.Tx) error {
		if _, err := tx.ListUsers(ctx, "acme"); err != nil {
			return err
		}
		wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if _, err := writer.CreateUser(wctx, iam.User{ID: "late", OrganizationID: "acme", Email: "late@acme.test"}); err != nil {
			return fmt.Errorf("a write during the read: %w", err)
		}
		users, err := tx.ListUsers(ctx, "acme")
		if err != nil {
			return err
		}
		for _, u := range users {
			if u.ID == "late" {
				return errors.New("the snapshot shows a write committed after it began")
			}
		}
		if tx.Revision() != before {
			return fmt.Errorf("the snapshot is at revision %d, want %d", tx.Revision(), before)
		}
		if _, err := tx.CreateProject(ctx, iam.Project{ID: "nope", OrganizationID: "acme", Name: "nope"}); !errors.Is(err, iam.ErrInvalid) {
			return fmt.Errorf("a write through the snapshot: %v, want ErrInvalid", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// pruneOften prunes the log every few revisions.
func pruneOften(keep uint64) Option {
	return func(o *options) { o.retention, o.pruneEvery = keep, 5 }
}

// A replica away for longer than the change log keeps finds that it
// cannot catch up change by change (the log says the changes are
// compacted): its Evaluator refuses to answer from a state that may lack
// a revocation (ErrStale) rather than skip the gap, rebuilds from the
// whole state, and converges.
func TestReplicaAwayLongerThanTheLogKeepsRebuildsAndConverges(t *testing.T) {
	t.Parallel()
	db := newDatabase(t)
	writer := openStore(t, newPool(t, db, 2), pruneOften(5))
	var gate gatedConnect
	s := openStore(t, newPool(t, db, 2), gate.option(), WithPollInterval(50*time.Millisecond))
	ev, err := iam.NewEvaluator(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	defer ev.Close()
	admin := newPool(t, db, 1)
	ctx := context.Background()
	seedWorld(t, writer)
	granted := grantAna(t, writer)
	if dec := waitAndCheck(t, ev, granted, anaCreatesServers); !dec.Allowed {
		t.Fatalf("before the outage: %+v, want allowed", dec)
	}
	gate.closed.Store(true)
	if _, err := admin.Exec(ctx, "SELECT pg_terminate_backend($1)", int32(s.listenerPID.Load())); err != nil {
		t.Fatal(err)
	}
	revokeAna(t, writer)
	for i := range 20 {
		if _, err := writer.CreateProject(ctx, iam.Project{ID: fmt.Sprint("q", i), OrganizationID: "acme", Name: "q"}); err != nil {
			t.Fatal(err)
		}
	}
	final := revisionOf(t, writer)
	if _, err := writer.Changes(ctx, granted); !errors.Is(err, iam.ErrCompacted) {
		t.Fatalf("Changes(%d) after pruning: %v, want ErrCompacted", granted, err)
	}
	gate.closed.Store(false)
	if dec := waitAndCheck(t, ev, final, anaCreatesServers); dec.Allowed {
		t.Fatalf("after rebuilding: %+v, want the revoked grant denied", dec)
	}
}
