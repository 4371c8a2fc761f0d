package iam

import (
	"context"
	"fmt"
	"strings"
)

// memState is a MemoryStore's contents, with the indexes that the write
// rules read through the View: the ID registry, the emails and group names
// of each organization, and its owner. It is the store's View; memTx
// writes to it.
type memState struct {
	orgs map[string]*memOrg
	ids  map[string]memRef // every ID but organizations'; a default project is here too
}

// memRef is what the registry knows of an ID: the kind of the entity that
// holds it and its organization (every entity of an organization goes
// before the organization does).
type memRef struct {
	kind Kind
	mo   *memOrg
}

type memOrg struct {
	org      Organization
	projects entityMap[Project]
	users    entityMap[User]
	apps     entityMap[Application]
	groups   entityMap[Group]
	policies entityMap[Policy]
	sets     entityMap[PermissionSet]
	keys     entityMap[APIKey]
	owner    string            // the owner's user ID, or ""
	emails   map[string]string // lower-cased email → user ID
	gnames   map[string]string // group name → group ID

	// The lists of each kind, as the cascades read them: the IDs (the
	// names of permission sets), sorted, nil until a write transaction
	// sorts them and again whenever one of them comes or goes; and the
	// values in that order (a []V), nil until a write transaction lists
	// them and again whenever one of them changes, and dropped when that
	// transaction ends (kept, they would be a second copy of every
	// entity's fields beside the maps).
	sorted [KindAPIKey + 1][]string
	lists  [KindAPIKey + 1]any
}

// entityMap holds the entities of one kind of an organization by ID (a
// permission set by name), each as the Value of the Event that put it:
// the store and its log of changes share one copy of the entity, and the
// map's slots stay the size of an interface, whatever the entity's.
type entityMap[V any] map[string]any

// get returns the entity id; a policy, held packed, is unpacked.
func (m entityMap[V]) get(id string) (V, bool) {
	x := m[id]
	v, ok := x.(V)
	if !ok {
		if pp, packed := x.(*packedPolicy); packed {
			v, ok = any(pp.unpack()).(V)
		}
	}
	return v, ok
}

func newMemState() memState {
	return memState{orgs: map[string]*memOrg{}, ids: map[string]memRef{}}
}

func newMemOrg(o Organization) *memOrg {
	return &memOrg{
		org:      o,
		projects: entityMap[Project]{},
		users:    entityMap[User]{},
		apps:     entityMap[Application]{},
		groups:   entityMap[Group]{},
		policies: entityMap[Policy]{},
		sets:     entityMap[PermissionSet]{},
		keys:     entityMap[APIKey]{},
		emails:   map[string]string{},
		gnames:   map[string]string{},
	}
}

var _ View = (*memState)(nil)

func (st *memState) Organization(_ context.Context, id string) (Organization, bool, error) {
	if mo := st.orgs[id]; mo != nil {
		return mo.org, true, nil
	}
	return Organization{}, false, nil
}

func (st *memState) Holder(_ context.Context, id string) (Kind, string, bool, error) {
	ref, ok := st.ids[id]
	if !ok {
		return 0, "", false, nil
	}
	return ref.kind, ref.mo.org.ID, true, nil
}

// holder returns the organization holding the entity id of kind k, or nil.
func (st *memState) holder(k Kind, id string) *memOrg {
	if ref, ok := st.ids[id]; ok && ref.kind == k {
		return ref.mo
	}
	return nil
}

// memEntity reads the entity id of kind k from the map of its organization
// that of picks.
func memEntity[V any](st *memState, k Kind, id string, of func(*memOrg) entityMap[V]) (V, bool, error) {
	if mo := st.holder(k, id); mo != nil {
		v, ok := of(mo).get(id)
		return v, ok, nil
	}
	var zero V
	return zero, false, nil
}

// memList returns the entities of kind k of organization org, held in the
// map that of picks, sorted by key. It returns the organization's list
// when it is known, and otherwise builds it, from the sorted keys when
// they are known; tx, when not nil (a write transaction, which holds the
// store's write lock, where readers share the read lock), keeps what it
// built for the next list: the keys for good, the list until the
// transaction ends. The list returned may be the store's own.
func memList[V any](st *memState, tx *memTx, org string, k Kind, of func(*memOrg) entityMap[V]) ([]V, error) {
	mo := st.orgs[org]
	if mo == nil {
		return nil, nil
	}
	if l, ok := mo.lists[k].([]V); ok {
		return l, nil
	}
	m := of(mo)
	keys := mo.sorted[k]
	if keys == nil {
		keys = sortedKeys(m)
		if tx != nil {
			tx.setSorted(mo, k, keys)
		}
	}
	var out []V
	if k == KindPolicy { // their rules unpacked into one array
		out = any(unpackPolicies(m, keys)).([]V)
	} else {
		out = make([]V, len(keys))
		for i, key := range keys {
			out[i], _ = m.get(key)
		}
	}
	if tx != nil {
		tx.setList(mo, k, out)
	}
	return out, nil
}

func projectsOf(mo *memOrg) entityMap[Project]   { return mo.projects }
func usersOf(mo *memOrg) entityMap[User]         { return mo.users }
func appsOf(mo *memOrg) entityMap[Application]   { return mo.apps }
func groupsOf(mo *memOrg) entityMap[Group]       { return mo.groups }
func policiesOf(mo *memOrg) entityMap[Policy]    { return mo.policies }
func keysOf(mo *memOrg) entityMap[APIKey]        { return mo.keys }
func setsOf(mo *memOrg) entityMap[PermissionSet] { return mo.sets }
func (st *memState) Project(_ context.Context, id string) (Project, bool, error) {
	return memEntity(st, KindProject, id, projectsOf)
}

func (st *memState) User(_ context.Context, id string) (User, bool, error) {
	return memEntity(st, KindUser, id, usersOf)
}

func (st *memState) Application(_ context.Context, id string) (Application, bool, error) {
	return memEntity(st, KindApplication, id, appsOf)
}

func (st *memState) Group(_ context.Context, id string) (Group, bool, error) {
	return memEntity(st, KindGroup, id, groupsOf)
}

func (st *memState) Policy(_ context.Context, id string) (Policy, bool, error) {
	return memEntity(st, KindPolicy, id, policiesOf)
}

func (st *memState) APIKey(_ context.Context, accessKey string) (APIKey, bool, error) {
	return memEntity(st, KindAPIKey, accessKey, keysOf)
}

func (st *memState) PermissionSet(_ context.Context, org, name string) (PermissionSet, bool, error) {
	if mo := st.orgs[org]; mo != nil {
		ps, ok := mo.sets.get(name)
		return ps, ok, nil
	}
	return PermissionSet{}, false, nil
}

func (st *memState) UserByEmail(_ context.Context, org, email string) (User, bool, error) {
	if mo := st.orgs[org]; mo != nil {
		if id, ok := mo.emails[strings.ToLower(email)]; ok {
			u, _ := mo.users.get(id)
			return u, true, nil
		}
	}
	return User{}, false, nil
}

func (st *memState) GroupByName(_ context.Context, org, name string) (Group, bool, error) {
	if mo := st.orgs[org]; mo != nil {
		if id, ok := mo.gnames[name]; ok {
			g, _ := mo.groups.get(id)
			return g, true, nil
		}
	}
	return Group{}, false, nil
}

func (st *memState) Owner(_ context.Context, org string) (string, bool, error) {
	if mo := st.orgs[org]; mo != nil && mo.owner != "" {
		return mo.owner, true, nil
	}
	return "", false, nil
}

func (st *memState) Organizations(context.Context) ([]Organization, error) {
	out := make([]Organization, 0, len(st.orgs))
	for _, id := range sortedKeys(st.orgs) {
		out = append(out, st.orgs[id].org)
	}
	return out, nil
}

func (st *memState) Projects(_ context.Context, org string) ([]Project, error) {
	return memList(st, nil, org, KindProject, projectsOf)
}

func (st *memState) Users(_ context.Context, org string) ([]User, error) {
	return memList(st, nil, org, KindUser, usersOf)
}

func (st *memState) Applications(_ context.Context, org string) ([]Application, error) {
	return memList(st, nil, org, KindApplication, appsOf)
}

func (st *memState) Groups(_ context.Context, org string) ([]Group, error) {
	return memList(st, nil, org, KindGroup, groupsOf)
}

func (st *memState) Policies(_ context.Context, org string) ([]Policy, error) {
	return memList(st, nil, org, KindPolicy, policiesOf)
}

func (st *memState) APIKeys(_ context.Context, org string) ([]APIKey, error) {
	return memList(st, nil, org, KindAPIKey, keysOf)
}

func (st *memState) PermissionSets(_ context.Context, org string) ([]PermissionSet, error) {
	return memList(st, nil, org, KindPermissionSet, setsOf)
}

// memTx is a write transaction over a MemoryStore's state: Apply mutates
// the state in place and keeps an undo log, so that a failed transaction
// leaves nothing behind. It runs under the store's write lock.
type memTx struct {
	*memState
	undo []func()

	listed []memListed // the lists it keeps; see setList

	// The packed form of each policy it put, in the order of the events
	// that put them: the store's log of changes holds these, as the store
	// does, rather than a second, larger copy (see MemoryStore.logged).
	packed []*packedPolicy

	// The organizations this transaction created. What it writes inside
	// one of them needs no undo, as a rollback drops the organization
	// whole; only the IDs it registered store-wide are forgotten, by
	// rollback, before the undo log runs. So a world loaded into a new
	// organization costs no undo per entity.
	fresh []*memOrg
}

var _ StoreTx = (*memTx)(nil)

// run calls fn with wtx, the write rules' transaction over tx, and commits
// it, rolling back on an error or a panic (which it re-raises). Once run
// returns the events, the transaction is committed and can no longer be
// rolled back; wtx is ended whatever happens.
func (tx *memTx) run(wtx *WriteTx, fn func(tx Tx) error) (events []Event, err error) {
	defer wtx.End()
	defer tx.dropLists()
	defer func() {
		if p := recover(); p != nil {
			tx.rollback()
			panic(p)
		}
	}()
	if err := fn(wtx); err != nil {
		tx.rollback()
		return nil, err
	}
	if events, err = wtx.Commit(); err != nil {
		tx.rollback()
		return nil, err
	}
	tx.undo, tx.fresh = nil, nil
	return events, nil
}

// The lists of a write transaction keep what they build (see memList).

func (tx *memTx) Projects(_ context.Context, org string) ([]Project, error) {
	return memList(tx.memState, tx, org, KindProject, projectsOf)
}

func (tx *memTx) Users(_ context.Context, org string) ([]User, error) {
	return memList(tx.memState, tx, org, KindUser, usersOf)
}

func (tx *memTx) Applications(_ context.Context, org string) ([]Application, error) {
	return memList(tx.memState, tx, org, KindApplication, appsOf)
}

func (tx *memTx) Groups(_ context.Context, org string) ([]Group, error) {
	return memList(tx.memState, tx, org, KindGroup, groupsOf)
}

func (tx *memTx) Policies(_ context.Context, org string) ([]Policy, error) {
	return memList(tx.memState, tx, org, KindPolicy, policiesOf)
}

func (tx *memTx) APIKeys(_ context.Context, org string) ([]APIKey, error) {
	return memList(tx.memState, tx, org, KindAPIKey, keysOf)
}

func (tx *memTx) PermissionSets(_ context.Context, org string) ([]PermissionSet, error) {
	return memList(tx.memState, tx, org, KindPermissionSet, setsOf)
}

// setSorted sets the sorted keys of kind k of organization mo, recording
// the undo.
func (tx *memTx) setSorted(mo *memOrg, k Kind, keys []string) {
	old := mo.sorted[k]
	mo.sorted[k] = keys
	if !tx.isFresh(mo) {
		tx.undo = append(tx.undo, func() { mo.sorted[k] = old })
	}
}

// setList sets the list of kind k of organization mo for the rest of the
// transaction.
func (tx *memTx) setList(mo *memOrg, k Kind, list any) {
	mo.lists[k] = list
	if list != nil {
		tx.listed = append(tx.listed, memListed{mo, k})
	}
}

type memListed struct {
	mo *memOrg
	k  Kind
}

// dropLists drops the lists the transaction kept: no list outlives the
// transaction that built it (nor needs an undo).
func (tx *memTx) dropLists() {
	for _, l := range tx.listed {
		l.mo.lists[l.k] = nil
	}
	tx.listed = nil
}

// reserve makes room in the maps of organization org, when this
// transaction created it and they are still empty, for n entities of each
// kind (see reserveOwned).
func (tx *memTx) reserve(org string, n bulkSizes) {
	mo := tx.orgs[org]
	if mo == nil || !tx.isFresh(mo) {
		return
	}
	grow := func(m *map[string]any, n int) {
		if len(*m) == 0 && n > 0 {
			*m = make(map[string]any, n)
		}
	}
	grow((*map[string]any)(&mo.users), n[KindUser])
	grow((*map[string]any)(&mo.apps), n[KindApplication])
	grow((*map[string]any)(&mo.groups), n[KindGroup])
	grow((*map[string]any)(&mo.policies), n[KindPolicy])
	grow((*map[string]any)(&mo.keys), n[KindAPIKey])
	if len(mo.emails) == 0 && n[KindUser] > 0 {
		mo.emails = make(map[string]string, n[KindUser])
	}
}

// isFresh reports whether this transaction created mo.
func (tx *memTx) isFresh(mo *memOrg) bool {
	for _, f := range tx.fresh {
		if f == mo {
			return true
		}
	}
	return false
}

func (tx *memTx) rollback() {
	// The IDs registered for the entities of the organizations this
	// transaction created (written without undo) go first; the undo log
	// then restores what was there before, an organization of the same
	// ID that it deleted included.
	for _, mo := range tx.fresh {
		forgetIDs(tx.ids, mo, mo.projects)
		forgetIDs(tx.ids, mo, mo.users)
		forgetIDs(tx.ids, mo, mo.apps)
		forgetIDs(tx.ids, mo, mo.groups)
		forgetIDs(tx.ids, mo, mo.policies)
		forgetIDs(tx.ids, mo, mo.keys)
	}
	tx.fresh = nil
	tx.packed = nil
	for i := len(tx.undo) - 1; i >= 0; i-- {
		tx.undo[i]()
	}
	tx.undo = nil
}

// forgetIDs drops from the ID registry ids the IDs of m that it holds
// for organization mo.
func forgetIDs[V any](ids map[string]memRef, mo *memOrg, m entityMap[V]) {
	for id := range m {
		if ref, ok := ids[id]; ok && ref.mo == mo {
			delete(ids, id)
		}
	}
}

// Apply writes one event planned by the write rules, keeping the ID
// registry, the email and group-name indexes and the owner up to date.
func (tx *memTx) Apply(_ context.Context, ev Event) error {
	if ev.Kind == KindOrganization {
		if ev.Op == OpDelete {
			setMap(tx, tx.orgs, ev.ID, nil, true)
			return nil
		}
		o, ok := ev.Value.(Organization)
		if !ok {
			return badEvent(ev)
		}
		if mo := tx.orgs[o.ID]; mo != nil {
			old := mo.org
			mo.org = o
			if !tx.isFresh(mo) {
				tx.undo = append(tx.undo, func() { mo.org = old })
			}
			return nil
		}
		mo := newMemOrg(o)
		setMap(tx, tx.orgs, o.ID, mo, false)
		tx.fresh = append(tx.fresh, mo)
		return nil
	}
	mo := tx.orgs[ev.OrganizationID]
	if mo == nil {
		return fmt.Errorf("iam: %s %q: %w", ev.Kind, ev.ID, notFound(KindOrganization, ev.OrganizationID))
	}
	switch ev.Kind {
	case KindProject:
		return memPut(tx, mo, mo.projects, ev, true, nil)
	case KindUser:
		if old, ok := mo.users.get(ev.ID); ok {
			orgSet(tx, mo, mo.emails, strings.ToLower(old.Email), "", true)
		}
		owner := mo.owner
		if u, ok := ev.Value.(User); ok && ev.Op == OpPut {
			orgSet(tx, mo, mo.emails, strings.ToLower(u.Email), u.ID, false)
			if u.IsOwner() {
				owner = u.ID
			} else if owner == u.ID {
				owner = ""
			}
		} else if owner == ev.ID {
			owner = ""
		}
		if owner != mo.owner {
			old := mo.owner
			mo.owner = owner
			if !tx.isFresh(mo) {
				tx.undo = append(tx.undo, func() { mo.owner = old })
			}
		}
		return memPut(tx, mo, mo.users, ev, true, nil)
	case KindApplication:
		return memPut(tx, mo, mo.apps, ev, true, nil)
	case KindGroup:
		if old, ok := mo.groups.get(ev.ID); ok {
			orgSet(tx, mo, mo.gnames, old.Name, "", true)
		}
		if g, ok := ev.Value.(Group); ok && ev.Op == OpPut {
			orgSet(tx, mo, mo.gnames, g.Name, g.ID, false)
		}
		return memPut(tx, mo, mo.groups, ev, true, nil)
	case KindPolicy:
		p, ok := ev.Value.(Policy)
		if !ok || ev.Op != OpPut {
			return memPut(tx, mo, mo.policies, ev, true, nil)
		}
		pp := packPolicy(p)
		if err := memPut(tx, mo, mo.policies, ev, true, pp); err != nil {
			return err
		}
		tx.packed = append(tx.packed, pp)
		return nil
	case KindAPIKey:
		return memPut(tx, mo, mo.keys, ev, true, nil)
	case KindPermissionSet:
		return memPut(tx, mo, mo.sets, ev, false, nil)
	}
	return badEvent(ev)
}

// memPut applies ev to m, one map of organization mo; registered says
// whether the entity's ID is in the store-wide registry. A put holds
// stored, when not nil (a packed policy), and otherwise the event's value.
func memPut[V any](tx *memTx, mo *memOrg, m entityMap[V], ev Event, registered bool, stored any) error {
	_, had := m[ev.ID]
	if had != (ev.Op == OpPut) && mo.sorted[ev.Kind] != nil {
		tx.setSorted(mo, ev.Kind, nil) // a key comes or goes
	}
	if mo.lists[ev.Kind] != nil {
		tx.setList(mo, ev.Kind, nil)
	}
	if ev.Op == OpDelete {
		orgSet(tx, mo, m, ev.ID, nil, true)
		if registered {
			orgSet(tx, mo, tx.ids, ev.ID, memRef{}, true)
		}
		return nil
	}
	if _, ok := ev.Value.(V); !ok || ev.Op != OpPut {
		return badEvent(ev)
	}
	if registered && !had {
		orgSet(tx, mo, tx.ids, ev.ID, memRef{kind: ev.Kind, mo: mo}, false)
	}
	if stored == nil {
		stored = ev.Value // the event's copy, shared
	}
	orgSet(tx, mo, m, ev.ID, stored, false)
	return nil
}

func badEvent(ev Event) error {
	return fmt.Errorf("iam: an event the write rules never plan (%v of %s %q holding a %T): %w", ev.Op, ev.Kind, ev.ID, ev.Value, ErrInvalid)
}

// orgSet is setMap for a write about an entity of organization mo (to one
// of its maps, or to its ID in the store-wide registry), which needs no
// undo when this transaction created mo (see memTx.fresh).
func orgSet[K comparable, V any](tx *memTx, mo *memOrg, m map[K]V, k K, v V, del bool) {
	if !tx.isFresh(mo) {
		setMap(tx, m, k, v, del)
	} else if del {
		delete(m, k)
	} else {
		m[k] = v
	}
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
