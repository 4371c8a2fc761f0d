package iam

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
)

// MemoryStore is a Store held in memory. It is safe for concurrent use:
// writes are serialized, reads run in parallel with each other. Every
// committed write reaches the subscribers (Evaluators) before it returns,
// so a check made after a write returns sees it. The zero value is not
// usable; call NewMemoryStore.
//
// It keeps a log of its recent changes for Changes: the last 1024 changes,
// and fewer when they are large (at most 65,536 events in all, the newest
// change always kept whatever its size). A subscriber that falls further
// behind gets ErrCompacted and reads the whole state again.
type MemoryStore struct {
	mu       sync.RWMutex
	writer   atomic.Pointer[writerID] // the Atomic call that holds mu; nil: none
	dropSubs []int                    // subscriptions cancelled while mu was held by their delivery
	st       memState
	rev      uint64
	subs     map[int]func(Change)
	nextSub  int
	rules    *WriteRules // validates every write and plans its cascades

	// The log of recent changes, under its own lock, so that a subscriber
	// can read it while the store's lock is held for the delivery.
	logMu     sync.Mutex
	log       []Change
	logEvents int // events in log
}

// The bounds of the log of recent changes.
const (
	changeLogChanges = 1024
	changeLogEvents  = 1 << 16
)

var (
	_ Store           = (*MemoryStore)(nil)
	_ ConditionSource = (*MemoryStore)(nil)
)

// NewMemoryStore returns an empty store. Its writes follow the write rules
// that opts configure (see NewWriteRules); it panics on an invalid
// catalogue, as that is a programming error.
func NewMemoryStore(opts ...Option) *MemoryStore {
	rules, err := NewWriteRules(opts...)
	if err != nil {
		panic(err)
	}
	return &MemoryStore{st: newMemState(), subs: map[int]func(Change){}, rules: rules}
}

// Atomic runs fn as one transaction; see Store.Atomic. fn runs under the
// store's write lock: every other read and write waits for it, so the
// slow work of a write (compiling conditions, say) is better done before;
// CreatePolicy and UpdatePolicy compile their conditions before they take
// the lock, but the writes fn makes through tx compile under it. Inside fn,
// read and write through tx: a method called on the store itself from fn (or from a
// subscriber, which runs inside the write) returns an error wrapping
// ErrInvalid, where it would otherwise wait for the transaction forever.
func (s *MemoryStore) Atomic(ctx context.Context, fn func(tx Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := s.lock("a write"); err != nil {
		return err
	}
	defer s.unlock()
	tx := &memTx{memState: &s.st}
	events, err := tx.run(s.rules.Tx(ctx, tx, s.rev), fn)
	if err != nil {
		return err
	}
	if len(events) == 0 {
		return nil
	}
	s.rev++
	ch := Change{Revision: s.rev, Events: events}
	s.record(Change{Revision: s.rev, Events: logged(events, tx.packed)})
	return s.deliver(ch)
}

// deliver tells every subscriber of ch, whatever one of them does: a
// subscriber's panic is recovered and reported in a *DeliveryError, after
// the others have been told.
func (s *MemoryStore) deliver(ch Change) error {
	var failures []error
	for _, id := range sortedKeys(s.subs) {
		if err := tell(s.subs[id], ch); err != nil {
			failures = append(failures, err)
		}
	}
	if failures != nil {
		return &DeliveryError{Revision: ch.Revision, Failures: failures}
	}
	return nil
}

// tell calls one subscriber, turning its panic into an error.
func tell(fn func(Change), ch Change) (err error) {
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

// record appends ch to the log of recent changes, dropping the oldest
// beyond the log's bounds.
func (s *MemoryStore) record(ch Change) {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	s.log = append(s.log, ch)
	s.logEvents += len(ch.Events)
	drop := 0
	for n := len(s.log); n-drop > 1 && (n-drop > changeLogChanges || s.logEvents > changeLogEvents); drop++ {
		s.logEvents -= len(s.log[drop].Events)
	}
	if drop > 0 {
		s.log = slices.Delete(s.log, 0, drop)
	}
}

// Changes returns the committed changes after revision after, from the
// log of recent changes; see Store.Changes. It takes only the log's own
// lock, so a subscriber may call it during a delivery. The values of the
// events it returns are copies, the caller's own.
func (s *MemoryStore) Changes(ctx context.Context, after uint64) ([]Change, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.logMu.Lock()
	defer s.logMu.Unlock()
	if len(s.log) == 0 || after >= s.log[len(s.log)-1].Revision {
		return nil, nil
	}
	first := s.log[0].Revision
	if after+1 < first {
		return nil, fmt.Errorf("iam: changes after revision %d: the store's log keeps only revisions %d to %d: %w", after, first, s.log[len(s.log)-1].Revision, ErrCompacted)
	}
	out := slices.Clone(s.log[after+1-first:])
	for i := range out {
		out[i] = ownedChange(out[i])
	}
	return out, nil
}

// ConditionEngine returns the engine given with WithConditions, or nil:
// see ConditionSource and WriteRules.ConditionEngine.
func (s *MemoryStore) ConditionEngine() ConditionEngine { return s.rules.ConditionEngine() }

// Revision returns the number of successful writes so far.
func (s *MemoryStore) Revision(ctx context.Context) (uint64, error) {
	if err := s.rlock("Revision"); err != nil {
		return 0, err
	}
	defer s.mu.RUnlock()
	return s.rev, nil
}

// Subscribe registers fn for every later Change; see Store.Subscribe. It
// may be called from inside an Atomic function or a subscriber of this
// store: fn then receives every change committed after the call, the one
// that Atomic function is making included.
func (s *MemoryStore) Subscribe(fn func(Change)) (cancel func()) {
	held := s.lockUnlessHeld()
	id := s.nextSub
	s.nextSub++
	s.subs[id] = fn
	if !held {
		s.mu.Unlock()
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			if s.lockUnlessHeld() {
				// Inside a write of this store, maybe a delivery that is
				// iterating over the subscribers: fn is silenced now and
				// removed when the write ends.
				s.subs[id] = func(Change) {}
				s.dropSubs = append(s.dropSubs, id)
				return
			}
			defer s.mu.Unlock()
			delete(s.subs, id)
		})
	}
}

// read runs fn under the read lock on a transaction that cannot write.
func (s *MemoryStore) read(ctx context.Context, fn func(tx Entities) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := s.rlock("a read"); err != nil {
		return err
	}
	defer s.mu.RUnlock()
	return fn(s.rules.Reader(&s.st))
}

// The store's lock is not reentrant: a store method called on the store
// from inside its own Atomic function (or from a subscriber, which runs
// inside the write) would wait for itself forever. Such a call is an error
// instead, that says to use the Tx. To tell it from a call of another
// goroutine, which must wait, Atomic records the ID of the goroutine that
// holds the lock, and a call that finds the lock taken compares it with
// its own; a call that takes the lock at once pays nothing for it.

// writerID identifies the goroutine of an Atomic call: a goroutine that
// Atomic starts finds it in its own stack trace ("created by ... in
// goroutine 42"), at a cost that does not grow with the caller's stack,
// in parallel with the write.
type writerID struct {
	done chan struct{} // closed once id is set
	id   uint64        // 0 when it could not be read
}

// lock takes the write lock for an Atomic call.
func (s *MemoryStore) lock(op string) error {
	if !s.mu.TryLock() {
		if s.heldHere() {
			return errInsideAtomic(op)
		}
		s.mu.Lock()
	}
	w := &writerID{done: make(chan struct{})}
	go w.find()
	s.writer.Store(w)
	return nil
}

// traceBuffers holds buffers for writerID.find.
var traceBuffers = sync.Pool{New: func() any { return new([4096]byte) }}

// find sets w.id to the ID of the goroutine that started it, read from
// the end of its own stack trace ("created by ... in goroutine 42"), and
// closes w.done. w.id stays 0 if the trace does not say.
func (w *writerID) find() {
	defer close(w.done)
	buf := traceBuffers.Get().(*[4096]byte)
	defer traceBuffers.Put(buf)
	b := buf[:runtime.Stack(buf[:], false)]
	const in = " in goroutine "
	if i := bytes.LastIndex(b, []byte(in)); i >= 0 {
		w.id = leadingNumber(b[i+len(in):])
	}
}

// unlock releases the write lock taken by lock.
func (s *MemoryStore) unlock() {
	w := s.writer.Swap(nil)
	for _, id := range s.dropSubs {
		delete(s.subs, id)
	}
	s.dropSubs = nil
	s.mu.Unlock()
	<-w.done // no goroutine outlives the write
}

// lockUnlessHeld takes the write lock, unless an Atomic call of the calling
// goroutine holds it already: it then takes nothing and reports true.
func (s *MemoryStore) lockUnlessHeld() (held bool) {
	if s.mu.TryLock() {
		return false
	}
	if s.heldHere() {
		return true
	}
	s.mu.Lock()
	return false
}

// rlock takes the read lock.
func (s *MemoryStore) rlock(op string) error {
	if !s.mu.TryRLock() {
		if s.heldHere() {
			return errInsideAtomic(op)
		}
		s.mu.RLock()
	}
	return nil
}

// heldHere reports whether the write lock is held by an Atomic call of the
// calling goroutine.
func (s *MemoryStore) heldHere() bool {
	w := s.writer.Load()
	if w == nil {
		return false
	}
	<-w.done
	return w.id != 0 && w.id == goroutineID()
}

func errInsideAtomic(op string) error {
	return fmt.Errorf("iam: %s on a MemoryStore inside its own Atomic function (or a subscriber) would wait for the write to end, forever: inside Atomic, call the methods of the Tx the function is given (tx.GetUser, not store.GetUser): %w", op, ErrInvalid)
}

// goroutineID returns the calling goroutine's ID, read from the first line
// of its stack trace ("goroutine 42 [running]:").
func goroutineID() uint64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	return leadingNumber(b[min(len(b), len("goroutine ")):])
}

func leadingNumber(b []byte) uint64 {
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + uint64(c-'0')
	}
	return n
}

func sortedKeys[K interface{ ~int | ~string }, V any](m map[K]V) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
