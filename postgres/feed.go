package postgres

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/iamkit/iam"
)

// channel is the NOTIFY channel of the change log; a notification's
// payload is the revision committed.
const channel = "iam_changes"

// catchUpBatch is how many changes the feed reads from the log at a time.
const catchUpBatch = 1000

// readTimeout bounds each read of the log by the feed, so that a listening
// connection that died silently is noticed and replaced.
const readTimeout = 30 * time.Second

type subscription struct {
	fn        func(iam.Change)
	cancelled atomic.Bool
}

// Subscribe calls fn with every Change committed from now on, by this
// replica or any other, in revision order; see iam.Store. This replica's
// own writes reach fn before they return; other replicas' writes reach it
// once the feed has read them from the change log (within milliseconds
// while the listening connection is up, within the poll interval
// otherwise). fn runs on the writing goroutine or on the feed's, one
// change at a time; it must not call back into the store except Changes.
func (s *Store) Subscribe(fn func(iam.Change)) (cancel func()) {
	sub := &subscription{fn: fn}
	s.subsMu.Lock()
	s.subs = append(s.subs, sub)
	s.subsMu.Unlock()
	return func() {
		if sub.cancelled.Swap(true) {
			return
		}
		s.subsMu.Lock()
		defer s.subsMu.Unlock()
		for i, x := range s.subs {
			if x == sub {
				s.subs = append(s.subs[:i:i], s.subs[i+1:]...)
				break
			}
		}
	}
}

// tell gives ch to every subscriber, whatever one of them does, and
// returns one error per subscriber that panicked.
func (s *Store) tell(ch iam.Change) []error {
	s.subsMu.Lock()
	subs := s.subs
	s.subsMu.Unlock()
	var failures []error
	for _, sub := range subs {
		if sub.cancelled.Load() {
			continue
		}
		if err := tellOne(sub.fn, ch); err != nil {
			failures = append(failures, err)
		}
	}
	return failures
}

func tellOne(fn func(iam.Change), ch iam.Change) (err error) {
	defer func() {
		if p := recover(); p != nil {
			if perr, ok := p.(error); ok {
				err = fmt.Errorf("iam: a subscriber panicked on revision %d: %w", ch.Revision, perr)
			} else {
				err = fmt.Errorf("iam: a subscriber panicked on revision %d: %v", ch.Revision, p)
			}
		}
	}()
	fn(ch)
	return nil
}

// deliverOwn gives this replica's own write to the subscribers, after the
// changes of other replicas that came before it and that the feed has not
// delivered yet, so that subscribers see every revision in order. Only
// the failures on its own change make the write's error. The caller holds
// deliverMu.
func (s *Store) deliverOwn(ctx context.Context, ch iam.Change) error {
	if last := s.delivered.Load(); last+1 < ch.Revision {
		earlier, err := s.Changes(context.WithoutCancel(ctx), last)
		if err != nil {
			// Deliver ch all the same: a subscriber sees the gap and reads
			// what it missed (or the whole state) itself.
			s.report(fmt.Errorf("iam: postgres: reading revisions %d to %d before delivering revision %d: %w", last+1, ch.Revision-1, ch.Revision, err))
		}
		for _, c := range earlier {
			if c.Revision >= ch.Revision {
				break
			}
			s.deliverLocked(c)
		}
	}
	failures := s.tell(ch)
	s.delivered.Store(ch.Revision)
	if failures != nil {
		return &iam.DeliveryError{Revision: ch.Revision, Failures: failures}
	}
	return nil
}

// deliverLocked gives another replica's change to the subscribers, unless
// they have had it.
func (s *Store) deliverLocked(ch iam.Change) {
	if ch.Revision <= s.delivered.Load() {
		return
	}
	if failures := s.tell(ch); failures != nil {
		s.report(&iam.DeliveryError{Revision: ch.Revision, Failures: failures})
	}
	s.delivered.Store(ch.Revision)
	s.noteLatest(ch.Revision)
}

// Changes returns every committed change after revision after, in order,
// read from the change log; see iam.Store. When the log no longer holds
// them (see WithRetention) it returns an error wrapping iam.ErrCompacted.
func (s *Store) Changes(ctx context.Context, after uint64) ([]iam.Change, error) {
	return s.changes(ctx, s.pool, after, 0)
}

// changes reads the log after revision after, at most limit changes (0:
// all), in one statement (one snapshot of the log and of its bound).
func (s *Store) changes(ctx context.Context, q interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}, after uint64, limit int) ([]iam.Change, error) {
	if after > 1<<63-1 {
		return nil, nil
	}
	sql := `SELECT r.pruned_through, c.revision, c.events FROM iam_revision r
		LEFT JOIN iam_changes c ON c.revision > $1 ORDER BY c.revision`
	args := []any{int64(after)}
	if limit > 0 {
		sql += " LIMIT $2"
		args = append(args, limit)
	}
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("iam: postgres: reading the change log after revision %d: %w", after, err)
	}
	defer rows.Close()
	var out []iam.Change
	for rows.Next() {
		var pruned int64
		var rev *int64
		var doc []byte
		if err := rows.Scan(&pruned, &rev, &doc); err != nil {
			return nil, fmt.Errorf("iam: postgres: reading the change log after revision %d: %w", after, err)
		}
		if after < uint64(pruned) {
			return nil, fmt.Errorf("iam: changes after revision %d: the change log keeps only the revisions after %d: %w", after, pruned, iam.ErrCompacted)
		}
		if rev == nil {
			break // no change after
		}
		evs, err := decodeEvents(doc)
		if err != nil {
			return nil, fmt.Errorf("iam: postgres: revision %d: %w", *rev, err)
		}
		out = append(out, iam.Change{Revision: uint64(*rev), Events: evs})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("iam: postgres: reading the change log after revision %d: %w", after, err)
	}
	if n := len(out); n > 0 {
		s.noteLatest(out[n-1].Revision)
	}
	return out, nil
}

// FeedState says how current a Store's feed is: what its subscribers (an
// Evaluator) have been given, against what the replica knows of the
// database.
type FeedState struct {
	// Delivered is the last revision given to the subscribers.
	Delivered uint64
	// Latest is the highest revision this replica knows to be committed
	// (by its own writes, the announcements, and its reads of the log).
	// Latest > Delivered means changes are on their way.
	Latest uint64
	// CheckedAt is when the feed last read the change log to its end:
	// every change committed before then has been delivered.
	CheckedAt time.Time
	// Err is why the listening connection is down (it is being
	// reconnected), nil while it is up. While it is down, subscribers
	// hear only of this replica's own writes, and an Evaluator keeps
	// answering from the last revision it was given.
	Err error
}

// Feed reports how current the store's feed is. An Evaluator following
// the store answers from revision ev.Revision(); Feed says whether that
// is the database's latest, and as of when.
func (s *Store) Feed() FeedState {
	s.stateMu.Lock()
	defer s.stateMu.Unlock()
	return FeedState{Delivered: s.delivered.Load(), Latest: s.latest.Load(), CheckedAt: s.checkedAt, Err: s.feedErr}
}

// noteLatest raises the highest revision known to be committed.
func (s *Store) noteLatest(rev uint64) {
	for {
		cur := s.latest.Load()
		if rev <= cur || s.latest.CompareAndSwap(cur, rev) {
			return
		}
	}
}

func (s *Store) report(err error) {
	if s.o.onError != nil {
		s.o.onError(err)
	}
}

func (s *Store) setFeedErr(err error) {
	s.stateMu.Lock()
	s.feedErr = err
	s.stateMu.Unlock()
}

// listen is the feed's goroutine: it follows the change log until ctx
// ends, reconnecting after any failure with a growing delay. It sends on
// ready the outcome of its first attempt to listen.
func (s *Store) listen(ctx context.Context, ready chan<- error) {
	defer close(s.done)
	s.listener.Store(goroutineID())
	delay := 10 * time.Millisecond
	first := true
	for {
		err := s.follow(ctx, func() {
			delay = 10 * time.Millisecond
			if first {
				first = false
				ready <- nil
			}
		})
		if ctx.Err() != nil {
			return
		}
		if first {
			first = false
			ready <- err
		}
		err = fmt.Errorf("iam: postgres: the change feed lost its connection (reconnecting): %w", err)
		s.setFeedErr(err)
		s.report(err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
		delay = min(2*delay, 2*time.Second)
	}
}

// follow opens a listening connection and reads the log on each
// announcement and every poll interval, until the connection fails or ctx
// ends.
func (s *Store) follow(ctx context.Context, connected func()) error {
	cfg := s.pool.Config().ConnConfig.Copy()
	conn, err := s.o.connect(ctx, cfg)
	if err != nil {
		return err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		conn.Close(cctx) //nolint:errcheck // the connection is done with, broken or not
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+channel); err != nil {
		return err
	}
	s.listenerPID.Store(conn.PgConn().PID())
	connected()
	for {
		// Read first: what was committed while the connection was down or
		// before it listened is in the log.
		if err := s.catchUp(ctx, conn); err != nil {
			return err
		}
		s.setFeedErr(nil)
		wctx, cancel := context.WithTimeout(ctx, s.o.poll)
		n, err := conn.WaitForNotification(wctx)
		polled := wctx.Err() != nil
		cancel()
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case err == nil:
			if rev, perr := strconv.ParseUint(n.Payload, 10, 64); perr == nil {
				s.noteLatest(rev)
			}
		case polled && !conn.IsClosed():
			// The poll interval passed without an announcement: read the
			// log all the same, in case one was lost.
		default:
			return err
		}
	}
}

// catchUp reads the log from the last revision delivered to its end, and
// delivers what it finds.
func (s *Store) catchUp(ctx context.Context, conn *pgx.Conn) error {
	for {
		rctx, cancel := context.WithTimeout(ctx, readTimeout)
		chs, err := s.changes(rctx, conn, s.delivered.Load(), catchUpBatch)
		cancel()
		if errors.Is(err, iam.ErrCompacted) {
			// The log lost what this replica missed: deliver from the
			// oldest it holds; the subscribers see the gap and read the
			// whole state (an Evaluator rebuilds).
			s.report(err)
			if chs, err = s.oldest(ctx, conn); err != nil {
				return err
			}
		} else if err != nil {
			return err
		}
		s.deliverMu.Lock()
		for _, ch := range chs {
			s.deliverLocked(ch)
		}
		s.deliverMu.Unlock()
		if len(chs) < catchUpBatch {
			s.stateMu.Lock()
			s.checkedAt = time.Now()
			s.stateMu.Unlock()
			return nil
		}
	}
}

// oldest reads the first batch of the log that the log still holds.
func (s *Store) oldest(ctx context.Context, conn *pgx.Conn) ([]iam.Change, error) {
	rctx, cancel := context.WithTimeout(ctx, readTimeout)
	defer cancel()
	var pruned int64
	if err := conn.QueryRow(rctx, "SELECT pruned_through FROM iam_revision").Scan(&pruned); err != nil {
		return nil, err
	}
	return s.changes(rctx, conn, uint64(pruned), catchUpBatch)
}

// goroutineID returns the calling goroutine's ID, read from the first line
// of its stack trace ("goroutine 42 [running]:"), or 0.
func goroutineID() uint64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	const prefix = "goroutine "
	if len(b) < len(prefix) {
		return 0
	}
	var n uint64
	for _, c := range b[len(prefix):] {
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + uint64(c-'0')
	}
	return n
}
