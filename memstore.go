package iam

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
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
	mu        sync.RWMutex
	writer    atomic.Pointer[writerID] // the Atomic call that holds mu; nil: none
	dropSubs  []int                    // subscriptions cancelled while mu was held by their delivery
	st        memState
	rev       uint64
	subs      map[int]func(Change)
	nextSub   int
	catalogue []PermissionSet
	catByName map[string]int
	cond      *storeConditions // nil: conditions are switched off

	builtinServices map[string]*servicePatterns // the built-in catalogue by service

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

var _ Store = (*MemoryStore)(nil)

// Option configures a store.
type Option func(*storeOptions)

type storeOptions struct {
	catalogue    []PermissionSet
	catalogueSet bool
	cond         ConditionEngine
}

// WithCatalogue replaces the built-in permission-set catalogue (by default
// ScalewayCatalogue()) with sets, which must have an empty OrganizationID.
// WithCatalogue(nil) turns the built-in catalogue off: organizations then
// have only their own sets. NewMemoryStore panics on an invalid catalogue,
// as it is a programming error.
func WithCatalogue(sets []PermissionSet) Option {
	return func(o *storeOptions) { o.catalogue, o.catalogueSet = sets, true }
}

// WithConditions switches rule conditions on, compiled by engine.
//
// CreatePolicy and UpdatePolicy compile a policy's conditions before they
// take the store's lock, so that a slow compilation never delays the
// reads and writes of others; inside Atomic (and so in LoadFile) the
// function runs under the lock, compilations included. An Evaluator that
// takes its engine from the store (the default) reuses what the store
// compiled for a write rather than compiling it again.
func WithConditions(engine ConditionEngine) Option {
	return func(o *storeOptions) { o.cond = engine }
}

// NewMemoryStore returns an empty store.
func NewMemoryStore(opts ...Option) *MemoryStore {
	var o storeOptions
	for _, opt := range opts {
		opt(&o)
	}
	if !o.catalogueSet {
		o.catalogue = ScalewayCatalogue()
	}
	s := &MemoryStore{
		st:        newMemState(),
		subs:      map[int]func(Change){},
		catalogue: make([]PermissionSet, len(o.catalogue)),
		catByName: make(map[string]int, len(o.catalogue)),
	}
	if o.cond != nil {
		s.cond = &storeConditions{engine: o.cond, pinned: map[string]*pinnedCondition{}}
	}
	for i, ps := range o.catalogue {
		s.catalogue[i] = clonePermissionSet(ps)
		s.catByName[ps.Name] = i
	}
	var err error
	if o.catalogueSet {
		if err = validateCatalogue(s.catalogue, s.catByName); err == nil {
			s.builtinServices = indexServices(s.catalogue)
		}
	} else {
		s.builtinServices, err = scalewayIndex() // validated once per process
	}
	if err != nil {
		panic(err)
	}
	return s
}

// memState is the store's contents, with the indexes the cascades need.
type memState struct {
	orgs map[string]*memOrg
	ids  map[string]memRef // every ID but organizations'; a default project is here too
}

type memRef struct {
	kind Kind
	org  string
}

type memOrg struct {
	org      Organization
	projects map[string]Project
	users    map[string]User
	apps     map[string]Application
	groups   map[string]Group
	policies map[string]Policy
	sets     map[string]PermissionSet
	keys     map[string]APIKey
	owner    string            // the owner's user ID, or ""
	emails   map[string]string // lower-cased email → user ID
	gnames   map[string]string // group name → group ID
}

func newMemState() memState {
	return memState{orgs: map[string]*memOrg{}, ids: map[string]memRef{}}
}

func newMemOrg(o Organization) *memOrg {
	return &memOrg{
		org:      o,
		projects: map[string]Project{},
		users:    map[string]User{},
		apps:     map[string]Application{},
		groups:   map[string]Group{},
		policies: map[string]Policy{},
		sets:     map[string]PermissionSet{},
		keys:     map[string]APIKey{},
		emails:   map[string]string{},
		gnames:   map[string]string{},
	}
}

// putUser stores u, keeping the email index.
func (tx *memTx) putUser(mo *memOrg, u User) {
	if old, ok := mo.users[u.ID]; ok {
		setMap(tx, mo.emails, strings.ToLower(old.Email), "", true)
	}
	setMap(tx, mo.emails, strings.ToLower(u.Email), u.ID, false)
	setMap(tx, mo.users, u.ID, u, false)
}

func (tx *memTx) deleteUser(mo *memOrg, id string) {
	setMap(tx, mo.emails, strings.ToLower(mo.users[id].Email), "", true)
	setMap(tx, mo.users, id, User{}, true)
}

// putGroup stores g, keeping the name index.
func (tx *memTx) putGroup(mo *memOrg, g Group) {
	if old, ok := mo.groups[g.ID]; ok {
		setMap(tx, mo.gnames, old.Name, "", true)
	}
	setMap(tx, mo.gnames, g.Name, g.ID, false)
	setMap(tx, mo.groups, g.ID, g, false)
}

func (tx *memTx) deleteGroup(mo *memOrg, id string) {
	setMap(tx, mo.gnames, mo.groups[id].Name, "", true)
	setMap(tx, mo.groups, id, Group{}, true)
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
	tx := &memTx{s: s, ctx: ctx}
	if err := tx.run(fn); err != nil {
		return err
	}
	if len(tx.events) == 0 {
		return nil
	}
	s.rev++
	ch := Change{Revision: s.rev, Events: tx.events}
	s.record(ch)
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
// lock, so a subscriber may call it during a delivery.
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
	return slices.Clone(s.log[after+1-first:]), nil
}

// run calls fn and checks the end-of-transaction invariants, rolling back
// on an error or a panic (which it re-raises). Once run returns nil the
// transaction is committed and can no longer be rolled back.
func (tx *memTx) run(fn func(tx Tx) error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			tx.rollback()
			panic(p)
		}
	}()
	if err := fn(tx); err != nil {
		tx.rollback()
		return err
	}
	if err := tx.checkCommit(); err != nil {
		tx.rollback()
		return err
	}
	tx.done, tx.undo = true, nil
	return nil
}

// ConditionEngine returns the engine given with WithConditions, or nil.
// An Evaluator built on the store compiles conditions with it. The engine
// returned answers from the store's own compilation for the conditions of
// a write in progress, so that an Evaluator following the store does not
// compile them again while the store's lock is held; other expressions it
// passes to the engine given.
func (s *MemoryStore) ConditionEngine() ConditionEngine {
	if s.cond == nil {
		return nil
	}
	return s.cond
}

// storeConditions is a MemoryStore's condition engine: the engine given
// with WithConditions, and the conditions compiled for the writes in
// progress, pinned from before the write takes the store's lock until the
// subscribers have seen it. It has its own lock, never held while
// compiling, and is safe for concurrent use.
type storeConditions struct {
	engine ConditionEngine

	mu     sync.Mutex
	pinned map[string]*pinnedCondition // by expression
}

type pinnedCondition struct {
	c    Condition
	refs int // writes in progress that compiled it
}

// Compile returns the pinned condition of a write in progress, or compiles
// expr.
func (sc *storeConditions) Compile(expr string) (Condition, error) {
	sc.mu.Lock()
	p := sc.pinned[expr]
	sc.mu.Unlock()
	if p != nil {
		return p.c, nil
	}
	return sc.engine.Compile(expr)
}

// compiled is the outcome of compiling one expression ahead of a write.
type compiled struct {
	c   Condition
	err error
}

// precompiled holds the conditions one write compiled before taking the
// store's lock; its transaction reads them instead of compiling.
type precompiled map[string]compiled

// precompile compiles the conditions of rules, outside any lock, and pins
// those that compile until release. It skips what the write's validation
// rejects anyway (a policy or a condition over the bounds), so that no
// oversized input is compiled.
func (s *MemoryStore) precompile(ctx context.Context, rules []Rule) precompiled {
	if s.cond == nil || len(rules) > MaxRulesPerPolicy {
		return nil
	}
	var pre precompiled
	for _, r := range rules {
		expr := r.Condition
		if expr == "" || runesOver(expr, MaxConditionLength) || ctx.Err() != nil {
			continue
		}
		if _, ok := pre[expr]; ok {
			continue
		}
		c, err := s.cond.engine.Compile(expr)
		if pre == nil {
			pre = precompiled{}
		}
		pre[expr] = compiled{c, err}
		if err != nil {
			continue
		}
		s.cond.mu.Lock()
		if p := s.cond.pinned[expr]; p != nil {
			p.refs++
		} else {
			s.cond.pinned[expr] = &pinnedCondition{c: c, refs: 1}
		}
		s.cond.mu.Unlock()
	}
	return pre
}

// release unpins what precompile pinned.
func (s *MemoryStore) release(pre precompiled) {
	if len(pre) == 0 {
		return
	}
	s.cond.mu.Lock()
	defer s.cond.mu.Unlock()
	for expr, r := range pre {
		if r.err != nil {
			continue
		}
		if p := s.cond.pinned[expr]; p != nil {
			if p.refs--; p.refs == 0 {
				delete(s.cond.pinned, expr)
			}
		}
	}
}

// compile compiles a rule's condition, or takes it from what the write
// compiled before taking the lock. Conditions must be switched on.
func (tx *memTx) compile(expr string) (Condition, error) {
	if r, ok := tx.pre[expr]; ok {
		return r.c, r.err
	}
	return tx.s.cond.Compile(expr)
}

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
func (s *MemoryStore) read(ctx context.Context, fn func(tx *memTx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := s.rlock("a read"); err != nil {
		return err
	}
	defer s.mu.RUnlock()
	return fn(&memTx{s: s, ctx: ctx, readOnly: true})
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

// memTx is a transaction over the store's state: it mutates in place and
// keeps an undo log, so that a failed transaction leaves nothing behind.
type memTx struct {
	s        *MemoryStore
	ctx      context.Context
	readOnly bool
	done     bool
	undo     []func()
	events   []Event
	demoted  map[string]bool // organizations whose owner was demoted
	pre      precompiled     // conditions compiled before the lock was taken

	catalogues map[string]bool // organizations whose own permission sets changed
}

var _ Tx = (*memTx)(nil)

func (tx *memTx) Revision() uint64 { return tx.s.rev }

func (tx *memTx) rollback() {
	for i := len(tx.undo) - 1; i >= 0; i-- {
		tx.undo[i]()
	}
	tx.undo, tx.events = nil, nil
	tx.done = true
}

// usable reports an error when the transaction cannot take a write.
func (tx *memTx) usable(write bool) error {
	if tx.done {
		return fmt.Errorf("iam: transaction used after its function returned: %w", ErrInvalid)
	}
	if write && tx.readOnly {
		return fmt.Errorf("iam: write in a read-only transaction: %w", ErrInvalid)
	}
	return tx.ctx.Err()
}

// checkCommit enforces the invariants that only hold at the end of a
// transaction: an organization whose owner was demoted has a new owner.
func (tx *memTx) checkCommit() error {
	for _, orgID := range sortedKeys(tx.demoted) {
		if o := tx.s.st.orgs[orgID]; o != nil && o.owner == "" {
			return fmt.Errorf("iam: organization %q would be left without an owner: promote another user to owner in the same Atomic write: %w", orgID, ErrForbidden)
		}
	}
	for _, orgID := range sortedKeys(tx.catalogues) {
		if err := tx.checkCatalogue(orgID); err != nil {
			return err
		}
	}
	return nil
}

func (tx *memTx) emit(op Op, kind Kind, id, org string, v any) {
	tx.events = append(tx.events, Event{Op: op, Kind: kind, ID: id, OrganizationID: org, Value: v})
}

// setMap writes m[k] = v (or deletes k when del), recording the undo.
func setMap[K comparable, V any](tx *memTx, m map[K]V, k K, v V, del bool) {
	old, had := m[k]
	if del {
		delete(m, k)
	} else {
		m[k] = v
	}
	tx.undo = append(tx.undo, func() {
		if had {
			m[k] = old
		} else {
			delete(m, k)
		}
	})
}

func (tx *memTx) setOwner(o *memOrg, userID string) {
	old := o.owner
	o.owner = userID
	tx.undo = append(tx.undo, func() { o.owner = old })
}

// org returns the organization or a NotFound error naming what referred
// to it.
func (tx *memTx) org(id string) (*memOrg, error) {
	if o := tx.s.st.orgs[id]; o != nil {
		return o, nil
	}
	return nil, notFound(KindOrganization, id)
}

func notFound(k Kind, id string) error {
	return fmt.Errorf("iam: %s %q: %w", k, id, ErrNotFound)
}

// lookup finds the organization holding the entity id of kind k.
func (tx *memTx) lookup(k Kind, id string) (*memOrg, error) {
	ref, ok := tx.s.st.ids[id]
	if !ok || ref.kind != k {
		return nil, notFound(k, id)
	}
	return tx.s.st.orgs[ref.org], nil
}

// claimID reserves a new entity ID of organization org, or reports the
// conflict. IDs are unique across the store, so an ID that another
// organization holds cannot be claimed either; that conflict names neither
// the organization nor the kind that holds the ID (idUnavailable), so that
// a message passed on to a tenant tells it nothing about another. An ID
// that org itself holds is named with its kind.
func (tx *memTx) claimID(k Kind, id, org string) error {
	if ref, ok := tx.s.st.ids[id]; ok {
		if ref.org != org {
			return idUnavailable(k, id, "")
		}
		return fmt.Errorf("iam: %s %q: the ID is already used by %s of organization %q: %w", k, id, ref.kind.withArticle(), ref.org, ErrConflict)
	}
	if _, ok := tx.s.st.orgs[id]; ok && !(k == KindProject && id == org) {
		if id != org {
			return idUnavailable(k, id, "")
		}
		return fmt.Errorf("iam: %s %q: the ID is already used by an organization: %w", k, id, ErrConflict)
	}
	setMap(tx, tx.s.st.ids, id, memRef{kind: k, org: org}, false)
	return nil
}

// idUnavailable is the conflict of a new entity of kind k whose ID id is
// held by something the caller may not learn about: it says that the ID is
// taken, and nothing of who holds it. hint, when not empty, says what to do.
func idUnavailable(k Kind, id, hint string) error {
	what := "ID"
	if k == KindAPIKey {
		what = "access key"
	}
	if hint != "" {
		hint = "; " + hint
	}
	return fmt.Errorf("iam: %s %q: the %s is not available%s: %w", k, id, what, hint, ErrConflict)
}

func (tx *memTx) releaseID(id string) {
	setMap(tx, tx.s.st.ids, id, memRef{}, true)
}

// ----- organizations -----

func (tx *memTx) CreateOrganization(ctx context.Context, o Organization) (Organization, error) {
	if err := tx.usable(true); err != nil {
		return Organization{}, err
	}
	if o.ID == "" {
		o.ID = newID()
	}
	if err := validateOrganization(o); err != nil {
		return Organization{}, err
	}
	if _, ok := tx.s.st.orgs[o.ID]; ok {
		return Organization{}, fmt.Errorf("iam: organization %q already exists: %w", o.ID, ErrConflict)
	}
	if ref, ok := tx.s.st.ids[o.ID]; ok {
		return Organization{}, fmt.Errorf("iam: organization %q: the ID is already used by %s: %w", o.ID, ref.kind.withArticle(), ErrConflict)
	}
	mo := newMemOrg(o)
	setMap(tx, tx.s.st.orgs, o.ID, mo, false)
	tx.emit(OpPut, KindOrganization, o.ID, o.ID, o)
	if _, err := tx.CreateProject(ctx, Project{ID: o.ID, OrganizationID: o.ID, Name: "default"}); err != nil {
		return Organization{}, err
	}
	return o, nil
}

func (tx *memTx) GetOrganization(ctx context.Context, id string) (Organization, error) {
	if err := tx.usable(false); err != nil {
		return Organization{}, err
	}
	o, err := tx.org(id)
	if err != nil {
		return Organization{}, err
	}
	return o.org, nil
}

func (tx *memTx) ListOrganizations(ctx context.Context) ([]Organization, error) {
	if err := tx.usable(false); err != nil {
		return nil, err
	}
	out := make([]Organization, 0, len(tx.s.st.orgs))
	for _, id := range sortedKeys(tx.s.st.orgs) {
		out = append(out, tx.s.st.orgs[id].org)
	}
	return out, nil
}

func (tx *memTx) UpdateOrganization(ctx context.Context, o Organization) (Organization, error) {
	if err := tx.usable(true); err != nil {
		return Organization{}, err
	}
	mo, err := tx.org(o.ID)
	if err != nil {
		return Organization{}, err
	}
	if err := validateOrganization(o); err != nil {
		return Organization{}, err
	}
	old := mo.org
	mo.org = o
	tx.undo = append(tx.undo, func() { mo.org = old })
	tx.emit(OpPut, KindOrganization, o.ID, o.ID, o)
	return o, nil
}

func (tx *memTx) DeleteOrganization(ctx context.Context, id string) error {
	if err := tx.usable(true); err != nil {
		return err
	}
	mo, err := tx.org(id)
	if err != nil {
		return err
	}
	// Children first, so that the change reads in dependency order.
	for _, k := range sortedKeys(mo.keys) {
		setMap(tx, mo.keys, k, APIKey{}, true)
		tx.releaseID(k)
		tx.emit(OpDelete, KindAPIKey, k, id, nil)
	}
	for _, k := range sortedKeys(mo.policies) {
		setMap(tx, mo.policies, k, Policy{}, true)
		tx.releaseID(k)
		tx.emit(OpDelete, KindPolicy, k, id, nil)
	}
	for _, k := range sortedKeys(mo.groups) {
		tx.deleteGroup(mo, k)
		tx.releaseID(k)
		tx.emit(OpDelete, KindGroup, k, id, nil)
	}
	for _, k := range sortedKeys(mo.apps) {
		setMap(tx, mo.apps, k, Application{}, true)
		tx.releaseID(k)
		tx.emit(OpDelete, KindApplication, k, id, nil)
	}
	for _, k := range sortedKeys(mo.users) {
		tx.deleteUser(mo, k)
		tx.releaseID(k)
		tx.emit(OpDelete, KindUser, k, id, nil)
	}
	tx.setOwner(mo, "")
	for _, k := range sortedKeys(mo.sets) {
		setMap(tx, mo.sets, k, PermissionSet{}, true)
		tx.emit(OpDelete, KindPermissionSet, k, id, nil)
	}
	for _, k := range sortedKeys(mo.projects) {
		setMap(tx, mo.projects, k, Project{}, true)
		tx.releaseID(k)
		tx.emit(OpDelete, KindProject, k, id, nil)
	}
	setMap(tx, tx.s.st.orgs, id, nil, true)
	tx.emit(OpDelete, KindOrganization, id, id, nil)
	return nil
}

// ----- projects -----

func (tx *memTx) CreateProject(ctx context.Context, p Project) (Project, error) {
	if err := tx.usable(true); err != nil {
		return Project{}, err
	}
	mo, err := tx.org(p.OrganizationID)
	if err != nil {
		return Project{}, refError(KindProject, p.ID, "organization_id", err)
	}
	if p.ID == "" {
		p.ID = newID()
	}
	if err := validateProject(p); err != nil {
		return Project{}, err
	}
	if err := tx.claimID(KindProject, p.ID, mo.org.ID); err != nil {
		return Project{}, err
	}
	setMap(tx, mo.projects, p.ID, p, false)
	tx.emit(OpPut, KindProject, p.ID, p.OrganizationID, p)
	return p, nil
}

func (tx *memTx) GetProject(ctx context.Context, id string) (Project, error) {
	if err := tx.usable(false); err != nil {
		return Project{}, err
	}
	mo, err := tx.lookup(KindProject, id)
	if err != nil {
		return Project{}, err
	}
	return mo.projects[id], nil
}

func (tx *memTx) ListProjects(ctx context.Context, organizationID string) ([]Project, error) {
	if err := tx.usable(false); err != nil {
		return nil, err
	}
	mo, err := tx.org(organizationID)
	if err != nil {
		return nil, err
	}
	return listSorted(mo.projects, func(p Project) Project { return p }), nil
}

func (tx *memTx) UpdateProject(ctx context.Context, p Project) (Project, error) {
	if err := tx.usable(true); err != nil {
		return Project{}, err
	}
	mo, err := tx.lookup(KindProject, p.ID)
	if err != nil {
		return Project{}, err
	}
	if err := immutable(KindProject, p.ID, "organization_id", mo.org.ID, p.OrganizationID); err != nil {
		return Project{}, err
	}
	if err := validateProject(p); err != nil {
		return Project{}, err
	}
	setMap(tx, mo.projects, p.ID, p, false)
	tx.emit(OpPut, KindProject, p.ID, p.OrganizationID, p)
	return p, nil
}

func (tx *memTx) DeleteProject(ctx context.Context, id string) error {
	if err := tx.usable(true); err != nil {
		return err
	}
	mo, err := tx.lookup(KindProject, id)
	if err != nil {
		return err
	}
	if id == mo.org.ID {
		return fmt.Errorf("iam: project %q is the default project of organization %q and cannot be deleted (delete the organization instead): %w", id, mo.org.ID, ErrForbidden)
	}
	for _, pid := range sortedKeys(mo.policies) {
		pol := mo.policies[pid]
		rules, changed := withoutProject(pol.Rules, id)
		if changed {
			pol = clonePolicy(pol)
			pol.Rules = rules
			setMap(tx, mo.policies, pid, pol, false)
			tx.emit(OpPut, KindPolicy, pid, mo.org.ID, pol)
		}
	}
	for _, k := range sortedKeys(mo.keys) {
		key := mo.keys[k]
		if key.DefaultProjectID == id {
			key.DefaultProjectID = mo.org.ID
			setMap(tx, mo.keys, k, key, false)
			tx.emit(OpPut, KindAPIKey, k, mo.org.ID, key)
		}
	}
	setMap(tx, mo.projects, id, Project{}, true)
	tx.releaseID(id)
	tx.emit(OpDelete, KindProject, id, mo.org.ID, nil)
	return nil
}

// withoutProject removes project id from every rule, dropping the rules
// left with no project.
func withoutProject(rules []Rule, id string) ([]Rule, bool) {
	changed := false
	out := make([]Rule, 0, len(rules))
	for _, r := range rules {
		if slices.Contains(r.Scope.ProjectIDs, id) {
			changed = true
			r.Scope.ProjectIDs = slices.DeleteFunc(slices.Clone(r.Scope.ProjectIDs), func(p string) bool { return p == id })
			if len(r.Scope.ProjectIDs) == 0 {
				continue
			}
		}
		out = append(out, r)
	}
	return out, changed
}

// ----- users -----

func (tx *memTx) CreateUser(ctx context.Context, u User) (User, error) {
	if err := tx.usable(true); err != nil {
		return User{}, err
	}
	mo, err := tx.org(u.OrganizationID)
	if err != nil {
		return User{}, refError(KindUser, u.ID, "organization_id", err)
	}
	u = cloneUser(u)
	if u.ID == "" {
		u.ID = newID()
	}
	if u.Type == "" {
		u.Type = UserMember
	}
	if err := validateUser(u); err != nil {
		return User{}, err
	}
	if err := tx.checkUserUnique(mo, u); err != nil {
		return User{}, err
	}
	if err := tx.claimID(KindUser, u.ID, mo.org.ID); err != nil {
		return User{}, err
	}
	if u.IsOwner() {
		tx.setOwner(mo, u.ID)
	}
	tx.putUser(mo, u)
	tx.emit(OpPut, KindUser, u.ID, u.OrganizationID, u)
	return cloneUser(u), nil
}

// checkUserUnique rejects a second owner and an email used by another user
// of the organization.
func (tx *memTx) checkUserUnique(mo *memOrg, u User) error {
	if u.IsOwner() && mo.owner != "" && mo.owner != u.ID {
		return fmt.Errorf("iam: user %q: organization %q already has an owner, %q: demote it in the same Atomic write to move ownership: %w", u.ID, mo.org.ID, mo.owner, ErrConflict)
	}
	if id, ok := mo.emails[strings.ToLower(u.Email)]; ok && id != u.ID {
		return fmt.Errorf("iam: user %q: email %q is already used by user %q: %w", u.ID, u.Email, id, ErrConflict)
	}
	return nil
}

func (tx *memTx) GetUser(ctx context.Context, id string) (User, error) {
	if err := tx.usable(false); err != nil {
		return User{}, err
	}
	mo, err := tx.lookup(KindUser, id)
	if err != nil {
		return User{}, err
	}
	return cloneUser(mo.users[id]), nil
}

func (tx *memTx) ListUsers(ctx context.Context, organizationID string) ([]User, error) {
	if err := tx.usable(false); err != nil {
		return nil, err
	}
	mo, err := tx.org(organizationID)
	if err != nil {
		return nil, err
	}
	return listSorted(mo.users, cloneUser), nil
}

func (tx *memTx) UpdateUser(ctx context.Context, u User) (User, error) {
	if err := tx.usable(true); err != nil {
		return User{}, err
	}
	mo, err := tx.lookup(KindUser, u.ID)
	if err != nil {
		return User{}, err
	}
	if err := immutable(KindUser, u.ID, "organization_id", mo.org.ID, u.OrganizationID); err != nil {
		return User{}, err
	}
	u = cloneUser(u)
	if u.Type == "" {
		u.Type = UserMember
	}
	if err := validateUser(u); err != nil {
		return User{}, err
	}
	if err := tx.checkUserUnique(mo, u); err != nil {
		return User{}, err
	}
	wasOwner := mo.owner == u.ID
	switch {
	case u.IsOwner() && !wasOwner:
		tx.setOwner(mo, u.ID)
	case !u.IsOwner() && wasOwner:
		tx.setOwner(mo, "")
		if tx.demoted == nil {
			tx.demoted = map[string]bool{}
		}
		tx.demoted[mo.org.ID] = true
	}
	tx.putUser(mo, u)
	tx.emit(OpPut, KindUser, u.ID, u.OrganizationID, u)
	return cloneUser(u), nil
}

func (tx *memTx) DeleteUser(ctx context.Context, id string) error {
	if err := tx.usable(true); err != nil {
		return err
	}
	mo, err := tx.lookup(KindUser, id)
	if err != nil {
		return err
	}
	if mo.owner == id {
		return fmt.Errorf("iam: user %q is the owner of organization %q and cannot be deleted: move ownership to another user first: %w", id, mo.org.ID, ErrForbidden)
	}
	tx.forgetPrincipal(mo, UserPrincipal(id))
	tx.deleteUser(mo, id)
	tx.releaseID(id)
	tx.emit(OpDelete, KindUser, id, mo.org.ID, nil)
	return nil
}

// forgetPrincipal applies the cascade of deleting a user, application or
// group: its keys go, it leaves every group, its policies lose their
// principal.
func (tx *memTx) forgetPrincipal(mo *memOrg, p Principal) {
	org := mo.org.ID
	for _, k := range sortedKeys(mo.keys) {
		if mo.keys[k].Bearer == p {
			setMap(tx, mo.keys, k, APIKey{}, true)
			tx.releaseID(k)
			tx.emit(OpDelete, KindAPIKey, k, org, nil)
		}
	}
	if p.Type != PrincipalGroup {
		for _, gid := range sortedKeys(mo.groups) {
			g := mo.groups[gid]
			members := g.UserIDs
			if p.Type == PrincipalApplication {
				members = g.ApplicationIDs
			}
			if !slices.Contains(members, p.ID) {
				continue
			}
			g = cloneGroup(g)
			drop := func(id string) bool { return id == p.ID }
			if p.Type == PrincipalUser {
				g.UserIDs = slices.DeleteFunc(g.UserIDs, drop)
			} else {
				g.ApplicationIDs = slices.DeleteFunc(g.ApplicationIDs, drop)
			}
			tx.putGroup(mo, g)
			tx.emit(OpPut, KindGroup, gid, org, g)
		}
	}
	for _, pid := range sortedKeys(mo.policies) {
		pol := mo.policies[pid]
		if pol.Principal != p {
			continue
		}
		pol = clonePolicy(pol)
		pol.Principal = Principal{}
		setMap(tx, mo.policies, pid, pol, false)
		tx.emit(OpPut, KindPolicy, pid, org, pol)
	}
}

// ----- applications -----

func (tx *memTx) CreateApplication(ctx context.Context, a Application) (Application, error) {
	if err := tx.usable(true); err != nil {
		return Application{}, err
	}
	mo, err := tx.org(a.OrganizationID)
	if err != nil {
		return Application{}, refError(KindApplication, a.ID, "organization_id", err)
	}
	a = cloneApplication(a)
	if a.ID == "" {
		a.ID = newID()
	}
	if err := validateApplication(a); err != nil {
		return Application{}, err
	}
	if err := tx.claimID(KindApplication, a.ID, mo.org.ID); err != nil {
		return Application{}, err
	}
	setMap(tx, mo.apps, a.ID, a, false)
	tx.emit(OpPut, KindApplication, a.ID, a.OrganizationID, a)
	return cloneApplication(a), nil
}

func (tx *memTx) GetApplication(ctx context.Context, id string) (Application, error) {
	if err := tx.usable(false); err != nil {
		return Application{}, err
	}
	mo, err := tx.lookup(KindApplication, id)
	if err != nil {
		return Application{}, err
	}
	return cloneApplication(mo.apps[id]), nil
}

func (tx *memTx) ListApplications(ctx context.Context, organizationID string) ([]Application, error) {
	if err := tx.usable(false); err != nil {
		return nil, err
	}
	mo, err := tx.org(organizationID)
	if err != nil {
		return nil, err
	}
	return listSorted(mo.apps, cloneApplication), nil
}

func (tx *memTx) UpdateApplication(ctx context.Context, a Application) (Application, error) {
	if err := tx.usable(true); err != nil {
		return Application{}, err
	}
	mo, err := tx.lookup(KindApplication, a.ID)
	if err != nil {
		return Application{}, err
	}
	if err := immutable(KindApplication, a.ID, "organization_id", mo.org.ID, a.OrganizationID); err != nil {
		return Application{}, err
	}
	a = cloneApplication(a)
	if err := validateApplication(a); err != nil {
		return Application{}, err
	}
	setMap(tx, mo.apps, a.ID, a, false)
	tx.emit(OpPut, KindApplication, a.ID, a.OrganizationID, a)
	return cloneApplication(a), nil
}

func (tx *memTx) DeleteApplication(ctx context.Context, id string) error {
	if err := tx.usable(true); err != nil {
		return err
	}
	mo, err := tx.lookup(KindApplication, id)
	if err != nil {
		return err
	}
	tx.forgetPrincipal(mo, ApplicationPrincipal(id))
	setMap(tx, mo.apps, id, Application{}, true)
	tx.releaseID(id)
	tx.emit(OpDelete, KindApplication, id, mo.org.ID, nil)
	return nil
}

// ----- groups -----

func (tx *memTx) CreateGroup(ctx context.Context, g Group) (Group, error) {
	if err := tx.usable(true); err != nil {
		return Group{}, err
	}
	mo, err := tx.org(g.OrganizationID)
	if err != nil {
		return Group{}, refError(KindGroup, g.ID, "organization_id", err)
	}
	if err := checkGroupSize(g); err != nil {
		return Group{}, err
	}
	g = normalizeGroup(g)
	if g.ID == "" {
		g.ID = newID()
	}
	if err := tx.validateGroup(mo, g); err != nil {
		return Group{}, err
	}
	if err := tx.claimID(KindGroup, g.ID, mo.org.ID); err != nil {
		return Group{}, err
	}
	tx.putGroup(mo, g)
	tx.emit(OpPut, KindGroup, g.ID, g.OrganizationID, g)
	return cloneGroup(g), nil
}

func (tx *memTx) GetGroup(ctx context.Context, id string) (Group, error) {
	if err := tx.usable(false); err != nil {
		return Group{}, err
	}
	mo, err := tx.lookup(KindGroup, id)
	if err != nil {
		return Group{}, err
	}
	return cloneGroup(mo.groups[id]), nil
}

func (tx *memTx) ListGroups(ctx context.Context, organizationID string) ([]Group, error) {
	if err := tx.usable(false); err != nil {
		return nil, err
	}
	mo, err := tx.org(organizationID)
	if err != nil {
		return nil, err
	}
	return listSorted(mo.groups, cloneGroup), nil
}

func (tx *memTx) UpdateGroup(ctx context.Context, g Group) (Group, error) {
	if err := tx.usable(true); err != nil {
		return Group{}, err
	}
	mo, err := tx.lookup(KindGroup, g.ID)
	if err != nil {
		return Group{}, err
	}
	if err := immutable(KindGroup, g.ID, "organization_id", mo.org.ID, g.OrganizationID); err != nil {
		return Group{}, err
	}
	if err := checkGroupSize(g); err != nil {
		return Group{}, err
	}
	g = normalizeGroup(g)
	if err := tx.validateGroup(mo, g); err != nil {
		return Group{}, err
	}
	tx.putGroup(mo, g)
	tx.emit(OpPut, KindGroup, g.ID, g.OrganizationID, g)
	return cloneGroup(g), nil
}

func (tx *memTx) DeleteGroup(ctx context.Context, id string) error {
	if err := tx.usable(true); err != nil {
		return err
	}
	mo, err := tx.lookup(KindGroup, id)
	if err != nil {
		return err
	}
	tx.forgetPrincipal(mo, GroupPrincipal(id))
	tx.deleteGroup(mo, id)
	tx.releaseID(id)
	tx.emit(OpDelete, KindGroup, id, mo.org.ID, nil)
	return nil
}

// normalizeGroup copies g and drops repeated members, keeping first-seen
// order.
func normalizeGroup(g Group) Group {
	g = cloneGroup(g)
	g.UserIDs = dedupe(g.UserIDs)
	g.ApplicationIDs = dedupe(g.ApplicationIDs)
	return g
}

func dedupe(ids []string) []string {
	if len(ids) < 2 {
		return ids
	}
	seen := make(map[string]bool, len(ids))
	out := ids[:0]
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// ----- policies -----

func (tx *memTx) CreatePolicy(ctx context.Context, p Policy) (Policy, error) {
	if err := tx.usable(true); err != nil {
		return Policy{}, err
	}
	mo, err := tx.org(p.OrganizationID)
	if err != nil {
		return Policy{}, refError(KindPolicy, p.ID, "organization_id", err)
	}
	p = clonePolicy(p)
	if p.ID == "" {
		p.ID = newID()
	}
	if err := tx.validatePolicy(mo, p); err != nil {
		return Policy{}, err
	}
	if err := tx.claimID(KindPolicy, p.ID, mo.org.ID); err != nil {
		return Policy{}, err
	}
	setMap(tx, mo.policies, p.ID, p, false)
	tx.emit(OpPut, KindPolicy, p.ID, p.OrganizationID, p)
	return clonePolicy(p), nil
}

func (tx *memTx) GetPolicy(ctx context.Context, id string) (Policy, error) {
	if err := tx.usable(false); err != nil {
		return Policy{}, err
	}
	mo, err := tx.lookup(KindPolicy, id)
	if err != nil {
		return Policy{}, err
	}
	return clonePolicy(mo.policies[id]), nil
}

func (tx *memTx) ListPolicies(ctx context.Context, organizationID string) ([]Policy, error) {
	if err := tx.usable(false); err != nil {
		return nil, err
	}
	mo, err := tx.org(organizationID)
	if err != nil {
		return nil, err
	}
	return listSorted(mo.policies, clonePolicy), nil
}

func (tx *memTx) UpdatePolicy(ctx context.Context, p Policy) (Policy, error) {
	if err := tx.usable(true); err != nil {
		return Policy{}, err
	}
	mo, err := tx.lookup(KindPolicy, p.ID)
	if err != nil {
		return Policy{}, err
	}
	if err := immutable(KindPolicy, p.ID, "organization_id", mo.org.ID, p.OrganizationID); err != nil {
		return Policy{}, err
	}
	p = clonePolicy(p)
	if err := tx.validatePolicy(mo, p); err != nil {
		return Policy{}, err
	}
	setMap(tx, mo.policies, p.ID, p, false)
	tx.emit(OpPut, KindPolicy, p.ID, p.OrganizationID, p)
	return clonePolicy(p), nil
}

func (tx *memTx) DeletePolicy(ctx context.Context, id string) error {
	if err := tx.usable(true); err != nil {
		return err
	}
	mo, err := tx.lookup(KindPolicy, id)
	if err != nil {
		return err
	}
	setMap(tx, mo.policies, id, Policy{}, true)
	tx.releaseID(id)
	tx.emit(OpDelete, KindPolicy, id, mo.org.ID, nil)
	return nil
}

// ----- permission sets -----

func (tx *memTx) CreatePermissionSet(ctx context.Context, ps PermissionSet) (PermissionSet, error) {
	if err := tx.usable(true); err != nil {
		return PermissionSet{}, err
	}
	mo, err := tx.org(ps.OrganizationID)
	if err != nil {
		return PermissionSet{}, refError(KindPermissionSet, ps.Name, "organization_id", err)
	}
	ps = clonePermissionSet(ps)
	if err := tx.validatePermissionSet(mo, ps); err != nil {
		return PermissionSet{}, err
	}
	if _, ok := tx.s.catByName[ps.Name]; ok {
		return PermissionSet{}, fmt.Errorf("iam: permission set %q: the name is taken by the built-in catalogue: choose another name: %w", ps.Name, ErrConflict)
	}
	if _, ok := mo.sets[ps.Name]; ok {
		return PermissionSet{}, fmt.Errorf("iam: permission set %q already exists in organization %q: %w", ps.Name, mo.org.ID, ErrConflict)
	}
	setMap(tx, mo.sets, ps.Name, ps, false)
	tx.emit(OpPut, KindPermissionSet, ps.Name, mo.org.ID, ps)
	return clonePermissionSet(ps), nil
}

func (tx *memTx) GetPermissionSet(ctx context.Context, organizationID, name string) (PermissionSet, error) {
	if err := tx.usable(false); err != nil {
		return PermissionSet{}, err
	}
	if organizationID == "" {
		if i, ok := tx.s.catByName[name]; ok {
			return clonePermissionSet(tx.s.catalogue[i]), nil
		}
		return PermissionSet{}, notFound(KindPermissionSet, name)
	}
	mo, err := tx.org(organizationID)
	if err != nil {
		return PermissionSet{}, err
	}
	ps, ok := mo.sets[name]
	if !ok {
		return PermissionSet{}, notFound(KindPermissionSet, name)
	}
	return clonePermissionSet(ps), nil
}

func (tx *memTx) ListPermissionSets(ctx context.Context, organizationID string) ([]PermissionSet, error) {
	if err := tx.usable(false); err != nil {
		return nil, err
	}
	if organizationID == "" {
		out := make([]PermissionSet, len(tx.s.catalogue))
		for i, ps := range tx.s.catalogue {
			out[i] = clonePermissionSet(ps)
		}
		return out, nil
	}
	mo, err := tx.org(organizationID)
	if err != nil {
		return nil, err
	}
	return listSorted(mo.sets, clonePermissionSet), nil
}

func (tx *memTx) UpdatePermissionSet(ctx context.Context, ps PermissionSet) (PermissionSet, error) {
	if err := tx.usable(true); err != nil {
		return PermissionSet{}, err
	}
	if ps.OrganizationID == "" {
		return PermissionSet{}, fmt.Errorf("iam: permission set %q: the built-in catalogue cannot be changed: %w", ps.Name, ErrForbidden)
	}
	mo, err := tx.org(ps.OrganizationID)
	if err != nil {
		return PermissionSet{}, err
	}
	old, ok := mo.sets[ps.Name]
	if !ok {
		return PermissionSet{}, notFound(KindPermissionSet, ps.Name)
	}
	ps = clonePermissionSet(ps)
	if err := tx.validatePermissionSet(mo, ps); err != nil {
		return PermissionSet{}, err
	}
	if ps.ScopeType != old.ScopeType {
		if ref := tx.setReferrer(mo, ps.Name); ref != "" {
			return PermissionSet{}, fmt.Errorf("iam: permission set %q: its scope type cannot change while %s refers to it: %w", ps.Name, ref, ErrConflict)
		}
	}
	setMap(tx, mo.sets, ps.Name, ps, false)
	tx.emit(OpPut, KindPermissionSet, ps.Name, mo.org.ID, ps)
	return clonePermissionSet(ps), nil
}

func (tx *memTx) DeletePermissionSet(ctx context.Context, organizationID, name string) error {
	if err := tx.usable(true); err != nil {
		return err
	}
	if organizationID == "" {
		return fmt.Errorf("iam: permission set %q: the built-in catalogue cannot be changed: %w", name, ErrForbidden)
	}
	mo, err := tx.org(organizationID)
	if err != nil {
		return err
	}
	if _, ok := mo.sets[name]; !ok {
		return notFound(KindPermissionSet, name)
	}
	if ref := tx.setReferrer(mo, name); ref != "" {
		return fmt.Errorf("iam: permission set %q cannot be deleted while %s refers to it: %w", name, ref, ErrConflict)
	}
	setMap(tx, mo.sets, name, PermissionSet{}, true)
	tx.markCatalogue(mo.org.ID)
	tx.emit(OpDelete, KindPermissionSet, name, mo.org.ID, nil)
	return nil
}

// setReferrer names the first policy rule or set that refers to set name,
// or returns "".
func (tx *memTx) setReferrer(mo *memOrg, name string) string {
	for _, pid := range sortedKeys(mo.policies) {
		for i, r := range mo.policies[pid].Rules {
			if slices.Contains(r.PermissionSets, name) {
				return fmt.Sprintf("policy %q (rule %d)", pid, i)
			}
		}
	}
	for _, other := range sortedKeys(mo.sets) {
		if other != name && slices.Contains(mo.sets[other].Includes, name) {
			return fmt.Sprintf("permission set %q", other)
		}
	}
	return ""
}

// findSet resolves a set name in an organization: its own sets, then the
// built-in catalogue.
func (tx *memTx) findSet(mo *memOrg, name string) (PermissionSet, bool) {
	if ps, ok := mo.sets[name]; ok {
		return ps, true
	}
	if i, ok := tx.s.catByName[name]; ok {
		return tx.s.catalogue[i], true
	}
	return PermissionSet{}, false
}

// setNames lists every set name an organization can use, for suggestions.
func (tx *memTx) setNames(mo *memOrg) []string {
	names := make([]string, 0, len(tx.s.catalogue)+len(mo.sets))
	for _, ps := range tx.s.catalogue {
		names = append(names, ps.Name)
	}
	for n := range mo.sets {
		names = append(names, n)
	}
	return names
}

// ----- API keys -----

func (tx *memTx) CreateAPIKey(ctx context.Context, k APIKey) (APIKey, error) {
	if err := tx.usable(true); err != nil {
		return APIKey{}, err
	}
	mo, err := tx.org(k.OrganizationID)
	if err != nil {
		return APIKey{}, refError(KindAPIKey, k.AccessKey, "organization_id", err)
	}
	if k.AccessKey == "" {
		k.AccessKey = newAccessKey()
	}
	secret := k.Secret
	switch {
	case secret != "" && k.SecretSHA256 != "":
		return APIKey{}, &ValidationError{Entity: "API key", ID: k.AccessKey, Field: "secret", Reason: "give either the secret or its SHA-256, not both"}
	case len(secret) > MaxSecretLength:
		return APIKey{}, &ValidationError{Entity: "API key", ID: k.AccessKey, Field: "secret", Reason: fmt.Sprintf("a secret has at most %d bytes (got %d)", MaxSecretLength, len(secret)), Hint: "leave it empty and the store generates one"}
	case secret == "" && k.SecretSHA256 == "":
		secret = newSecret()
		fallthrough
	case secret != "":
		k.SecretSHA256 = hashSecret(secret)
	}
	k.Secret = ""
	if k.DefaultProjectID == "" {
		k.DefaultProjectID = mo.org.ID
	}
	if err := tx.validateAPIKey(mo, k); err != nil {
		return APIKey{}, err
	}
	if err := tx.claimID(KindAPIKey, k.AccessKey, mo.org.ID); err != nil {
		return APIKey{}, err
	}
	setMap(tx, mo.keys, k.AccessKey, k, false)
	tx.emit(OpPut, KindAPIKey, k.AccessKey, mo.org.ID, k)
	k.Secret = secret
	return k, nil
}

func (tx *memTx) GetAPIKey(ctx context.Context, accessKey string) (APIKey, error) {
	if err := tx.usable(false); err != nil {
		return APIKey{}, err
	}
	mo, err := tx.lookup(KindAPIKey, accessKey)
	if err != nil {
		return APIKey{}, err
	}
	return mo.keys[accessKey], nil
}

func (tx *memTx) ListAPIKeys(ctx context.Context, organizationID string) ([]APIKey, error) {
	if err := tx.usable(false); err != nil {
		return nil, err
	}
	mo, err := tx.org(organizationID)
	if err != nil {
		return nil, err
	}
	return listSorted(mo.keys, func(k APIKey) APIKey { return k }), nil
}

func (tx *memTx) UpdateAPIKey(ctx context.Context, k APIKey) (APIKey, error) {
	if err := tx.usable(true); err != nil {
		return APIKey{}, err
	}
	mo, err := tx.lookup(KindAPIKey, k.AccessKey)
	if err != nil {
		return APIKey{}, err
	}
	old := mo.keys[k.AccessKey]
	if err := immutable(KindAPIKey, k.AccessKey, "organization_id", old.OrganizationID, k.OrganizationID); err != nil {
		return APIKey{}, err
	}
	if k.Bearer != old.Bearer {
		return APIKey{}, &ValidationError{Entity: "API key", ID: k.AccessKey, Field: "bearer", Value: k.Bearer.String(), Reason: "the bearer of a key never changes", Hint: "create a new key for the other principal"}
	}
	if k.Secret != "" || (k.SecretSHA256 != "" && k.SecretSHA256 != old.SecretSHA256) {
		return APIKey{}, &ValidationError{Entity: "API key", ID: k.AccessKey, Field: "secret", Reason: "the secret of a key never changes", Hint: "create a new key and delete this one"}
	}
	k.SecretSHA256 = old.SecretSHA256
	if k.DefaultProjectID == "" {
		k.DefaultProjectID = mo.org.ID
	}
	if err := tx.validateAPIKey(mo, k); err != nil {
		return APIKey{}, err
	}
	setMap(tx, mo.keys, k.AccessKey, k, false)
	tx.emit(OpPut, KindAPIKey, k.AccessKey, mo.org.ID, k)
	return k, nil
}

func (tx *memTx) DeleteAPIKey(ctx context.Context, accessKey string) error {
	if err := tx.usable(true); err != nil {
		return err
	}
	mo, err := tx.lookup(KindAPIKey, accessKey)
	if err != nil {
		return err
	}
	setMap(tx, mo.keys, accessKey, APIKey{}, true)
	tx.releaseID(accessKey)
	tx.emit(OpDelete, KindAPIKey, accessKey, mo.org.ID, nil)
	return nil
}

// ----- helpers -----

func listSorted[V any](m map[string]V, clone func(V) V) []V {
	out := make([]V, 0, len(m))
	for _, k := range sortedKeys(m) {
		out = append(out, clone(m[k]))
	}
	return out
}

// immutable rejects a change to a field that never changes.
func immutable(k Kind, id, field, stored, given string) error {
	if given == stored {
		return nil
	}
	return &ValidationError{Entity: k.String(), ID: id, Field: field, Value: given, Reason: "cannot change", Hint: fmt.Sprintf("it is %q", stored)}
}

// refError turns a NotFound of a referenced entity into a ValidationError
// on the referring field.
func refError(k Kind, id, field string, err error) error {
	return &ValidationError{Entity: k.String(), ID: id, Field: field, Reason: strings.TrimPrefix(err.Error(), "iam: "), Cause: ErrNotFound}
}

func cloneUser(u User) User {
	u.Tags = slices.Clone(u.Tags)
	return u
}

func cloneApplication(a Application) Application {
	a.Tags = slices.Clone(a.Tags)
	return a
}

func cloneGroup(g Group) Group {
	g.UserIDs = slices.Clone(g.UserIDs)
	g.ApplicationIDs = slices.Clone(g.ApplicationIDs)
	g.Tags = slices.Clone(g.Tags)
	return g
}

func clonePolicy(p Policy) Policy {
	p.Tags = slices.Clone(p.Tags)
	if p.Rules != nil {
		rules := make([]Rule, len(p.Rules))
		for i, r := range p.Rules {
			r.Scope.ProjectIDs = slices.Clone(r.Scope.ProjectIDs)
			r.PermissionSets = slices.Clone(r.PermissionSets)
			rules[i] = r
		}
		p.Rules = rules
	}
	return p
}

func clonePermissionSet(ps PermissionSet) PermissionSet {
	ps.Permissions = slices.Clone(ps.Permissions)
	ps.Includes = slices.Clone(ps.Includes)
	ps.Declared = slices.Clone(ps.Declared)
	ps.Categories = slices.Clone(ps.Categories)
	return ps
}
