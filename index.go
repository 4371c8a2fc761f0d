package iam

import (
	"cmp"
	"encoding/hex"
	"slices"
	"time"
	"unique"

	"github.com/iamkit/iam/internal/cowmap"
)

// The Evaluator's index. Readers see an immutable snapshot behind an
// atomic pointer; one writer at a time derives the next snapshot from a
// private mirror of the store, touching only what a change affects, and
// publishes it before the store's write returns.
//
// What a check reads:
//   - principals: principal ID → its entry: kind, organization, locked and
//     owner flags, the grants of the policies naming it, and the sequence
//     numbers of the groups it is an explicit member of;
//   - projects: project ID → its organization's index and the project's
//     sequence number in it;
//   - orgs: organization ID → its index: the compiled catalogue, each
//     group's grants and members, and which groups hold all users or all
//     applications.
//
// What the reverse queries read besides: rosters, organization ID → who
// and what the organization holds, in ID order (see roster). Queries read
// the snapshot only, never the writer's mirror, so that none of them ever
// waits for a writer or makes one wait.
//
// Grants are kept per holder (user, application or group), never copied
// into group members, and "all projects" stays one entry of its own, so a
// project created later is covered at once.

type snapshot struct {
	rev        uint64
	stale      error // non-nil: the index may lack a change; answer this
	orgs       cowmap.Map[*orgIndex]
	projects   cowmap.Map[projectEntry]   // by value: one pointer less to chase
	principals cowmap.Map[principalEntry] // by value
	keys       cowmap.Map[*keyEntry]
	secrets    cowmap.Map[[]string] // SHA-256 of a secret (32 bytes) → the keys that have it
	rosters    cowmap.Map[*roster]
}

type orgIndex struct {
	id       string
	cat      *catalogue
	groups   []*grants      // by group sequence number; nil: none, or deleted
	groupIDs []string       // by group sequence number
	allUsers []int32        // groups with AllUsers
	allApps  []int32        // groups with AllApplications
	members  []groupMembers // by group sequence number, for WhoCan
}

// groupMembers is who a group holds. Its slices are shared with the
// mirror's copy of the group, which is never modified in place.
type groupMembers struct {
	users, apps       []string
	allUsers, allApps bool
}

// roster is what the reverse queries read of one organization beside its
// orgIndex, kept apart from it so that a change to these lists never
// rebuilds the orgIndex that every project entry points to. Each list is
// an immutable ordered map, which an edit copies only in part.
type roster struct {
	owner    string                       // the owner's user ID, or ""
	users    cowmap.Sorted[struct{}]      // users that are not locked
	apps     cowmap.Sorted[struct{}]      // applications that are not managed
	holders  cowmap.Sorted[PrincipalType] // users and applications a policy names
	projects cowmap.Sorted[int32]         // project ID → sequence number
}

var emptyRoster = &roster{}

// roster returns the roster of organization id (an empty one if unknown).
func (s *snapshot) roster(id string) *roster {
	if r, ok := s.rosters.Get(id); ok {
		return r
	}
	return emptyRoster
}

func (o *orgIndex) group(seq int32) *grants {
	if int(seq) < len(o.groups) {
		return o.groups[seq]
	}
	return nil
}

type projectEntry struct {
	org *orgIndex
	seq int32
}

type principalEntry struct {
	typ     PrincipalType
	org     string
	locked  bool
	owner   bool
	managed bool
	seq     int32   // a group's sequence number
	own     grants  // a user's or application's own grants, inline
	groups  []int32 // explicit groups
}

type keyEntry struct {
	bearer  Principal
	org     string
	expires time.Time
	hash    [32]byte // SHA-256 of the secret
}

// grants is what the policies naming one holder grant it. The masks hold
// the unconditional grants, which is all a check reads on its fast path;
// rules lists every rule behind them (and the conditional ones), for
// Explain and for the slow path of conditional grants.
type grants struct {
	org         mask           // organization-scoped sets, at the organization
	all         mask           // project-scoped sets, in all projects
	projects    []projectGrant // project-scoped sets per project, by seq
	dense       []mask         // a group's projects, indexed by seq (nil: use projects)
	rules       []ruleRef      // sorted by policy ID, then rule index
	bySet       []setRule      // which rules name which set, sorted by set
	conditional bool           // some rule has a condition
}

// setRule says that rule (an index into grants.rules) names set bit.
type setRule struct{ bit, rule int32 }

// rulesNaming appends to out the indexes of the rules naming set bit.
func (g *grants) rulesNaming(bit int32, out []int32) []int32 {
	i, _ := slices.BinarySearchFunc(g.bySet, bit, func(sr setRule, b int32) int { return int(sr.bit - b) })
	for ; i < len(g.bySet) && g.bySet[i].bit == bit; i++ {
		out = append(out, g.bySet[i].rule)
	}
	return out
}

// ruleRef is one rule of one policy. It points into the mirror's copy of
// the policy, which is never modified (a new version is a new copy), so a
// rule costs the index a few words; its names are resolved on the slow
// paths that read it (Explain, conditions, reverse queries).
type ruleRef struct {
	pol   *Policy
	index int32
	cond  Condition // compiled condition; nil: none, or it cannot compile
}

func (r *ruleRef) rule() *Rule { return &r.pol.Rules[r.index] }

// onOrg reports whether the rule is scoped to the organization.
func (r *ruleRef) onOrg() bool { return r.rule().Scope.OrganizationID != "" }

// appliesAt reports whether the rule's scope covers a target, projectID or
// "" for the organization, for a set of scope type st.
func (r *ruleRef) appliesAt(projectID string, st ScopeType) bool {
	if projectID == "" {
		return r.onOrg()
	}
	if st != ScopeProjects {
		return false
	}
	return r.onOrg() || slices.Contains(r.rule().Scope.ProjectIDs, projectID)
}

type projectGrant struct {
	seq int32
	m   mask
}

// inProject returns the mask granted in project seq by a rule listing it.
func (g *grants) inProject(seq int32) mask {
	if g.dense != nil {
		if int(seq) < len(g.dense) {
			return g.dense[seq]
		}
		return mask{}
	}
	lo, hi := 0, len(g.projects)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if g.projects[mid].seq < seq {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	if lo < len(g.projects) && g.projects[lo].seq == seq {
		return g.projects[lo].m
	}
	return mask{}
}

// ----- the writer's mirror -----

type mirror struct {
	builtin    []PermissionSet
	builtinCat *catalogue
	orgs       map[string]*mOrg
	engine     ConditionEngine      // nil: conditions grant nothing
	compiled   map[string]Condition // by expression
	masks      map[string]string    // interned masks
}

// intern returns the mask of b, sharing the bytes of an equal mask made
// before. The mirror's table keeps each distinct mask once; it is cleared
// when it grows past what the index can be holding, and masks are then
// interned anew (correctness never depends on sharing).
func (m *mirror) intern(b bitset) mask {
	n := len(b)
	for n > 0 && b[n-1] == 0 {
		n--
	}
	if n == 0 {
		return mask{}
	}
	if s, ok := m.masks[string(b[:n])]; ok {
		return mask{s}
	}
	if len(m.masks) >= 1<<16 {
		clear(m.masks)
	}
	s := unique.Make(string(b[:n])).Value()
	m.masks[s] = s
	return mask{s}
}

// compile returns the compiled condition, or nil (grants nothing) when
// there is no engine or the expression does not compile.
func (m *mirror) compile(expr string) Condition {
	if m.engine == nil {
		return nil
	}
	if c, ok := m.compiled[expr]; ok {
		return c
	}
	c, err := m.engine.Compile(expr)
	if err != nil {
		c = nil
	}
	if len(m.compiled) >= 1<<16 {
		clear(m.compiled) // bounded, like the mask table; rules keep their own
	}
	m.compiled[expr] = c
	return c
}

type mOrg struct {
	m         *mirror
	id        string
	owner     string // the owner's user ID, or ""
	cat       *catalogue
	sets      map[string]PermissionSet
	projSeq   map[string]int32
	nextProj  int32
	users     map[string]User
	apps      map[string]Application
	groups    map[string]Group
	groupSeq  map[string]int32
	nextGroup int32   // one more than the highest number ever given
	freeSeqs  []int32 // numbers of deleted groups, to give again
	groupG    map[int32]*grants
	policies  map[string]*Policy
	byHolder  map[Principal]map[string]bool // policy IDs naming each principal
	memberOf  map[Principal]map[string]bool // explicit groups of each user or application
	idx       *orgIndex
}

func newMOrg(m *mirror, id string) *mOrg {
	return &mOrg{
		m:        m,
		id:       id,
		cat:      m.builtinCat,
		sets:     map[string]PermissionSet{},
		projSeq:  map[string]int32{},
		users:    map[string]User{},
		apps:     map[string]Application{},
		groups:   map[string]Group{},
		groupSeq: map[string]int32{},
		groupG:   map[int32]*grants{},
		policies: map[string]*Policy{},
		byHolder: map[Principal]map[string]bool{},
		memberOf: map[Principal]map[string]bool{},
	}
}

func addTo[K comparable](m map[K]map[string]bool, k K, v string) {
	s := m[k]
	if s == nil {
		s = map[string]bool{}
		m[k] = s
	}
	s[v] = true
}

func removeFrom[K comparable](m map[K]map[string]bool, k K, v string) {
	if s := m[k]; s != nil {
		delete(s, v)
		if len(s) == 0 {
			delete(m, k)
		}
	}
}

// applier accumulates one change's effects before publishing them.
type applier struct {
	m          *mirror
	orgs       *cowmap.Editor[*orgIndex]
	projects   *cowmap.Editor[projectEntry]
	principals *cowmap.Editor[principalEntry]
	keys       *cowmap.Editor[*keyEntry]
	secrets    *cowmap.Editor[[]string]
	rosters    *cowmap.Editor[*roster]
	rosterEd   map[string]*rosterEdit // rosters being edited, by organization

	catDirty   map[string]bool
	orgDirty   map[string]bool
	projDirty  map[string]map[string]bool // org → new project IDs
	holders    map[Principal]string       // holder → org, grants to recompute
	principalD map[Principal]string       // entry to rebuild → org
	freedSeqs  map[*mOrg][]int32          // group numbers this change freed
}

func (m *mirror) newApplier(s *snapshot) *applier {
	return &applier{
		m:          m,
		orgs:       s.orgs.Edit(),
		projects:   s.projects.Edit(),
		principals: s.principals.Edit(),
		keys:       s.keys.Edit(),
		secrets:    s.secrets.Edit(),
		rosters:    s.rosters.Edit(),
		rosterEd:   map[string]*rosterEdit{},
		catDirty:   map[string]bool{},
		orgDirty:   map[string]bool{},
		projDirty:  map[string]map[string]bool{},
		holders:    map[Principal]string{},
		principalD: map[Principal]string{},
	}
}

// rosterEdit edits one organization's roster. Its editors are made at
// the first real change of their list, so that a write that changes none
// (a policy replaced for a principal that had one) copies nothing.
type rosterEdit struct {
	base        *roster
	users, apps *cowmap.SortedEditor[struct{}]
	holders     *cowmap.SortedEditor[PrincipalType]
	projects    *cowmap.SortedEditor[int32]
}

// roster returns the editor of organization id's roster.
func (a *applier) roster(id string) *rosterEdit {
	if r := a.rosterEd[id]; r != nil {
		return r
	}
	base, ok := a.rosters.Get(id)
	if !ok {
		base = emptyRoster
	}
	r := &rosterEdit{base: base}
	a.rosterEd[id] = r
	return r
}

// put makes key map to v in the list whose base is m and whose editor is
// *ed (in false: makes key absent), making the editor if it must change.
func put[V comparable](m cowmap.Sorted[V], ed **cowmap.SortedEditor[V], key string, v V, in bool) {
	var cur V
	var had bool
	if *ed != nil {
		cur, had = (*ed).Get(key)
	} else {
		cur, had = m.Get(key)
	}
	if had == in && (!in || cur == v) {
		return
	}
	if *ed == nil {
		*ed = m.Edit()
	}
	if in {
		(*ed).Set(key, v)
	} else {
		(*ed).Delete(key)
	}
}

// note records user or application p, whose index entry is now e (nil:
// deleted), in its organization's roster.
func (r *rosterEdit) note(p Principal, e *principalEntry) {
	switch p.Type {
	case PrincipalUser:
		put(r.base.users, &r.users, p.ID, struct{}{}, e != nil && !e.locked)
	case PrincipalApplication:
		put(r.base.apps, &r.apps, p.ID, struct{}{}, e != nil && !e.managed)
	default:
		return
	}
	put(r.base.holders, &r.holders, p.ID, p.Type, e != nil && len(e.own.rules) > 0)
}

// done returns the edited roster with owner, or nil when nothing changed.
func (r *rosterEdit) done(owner string) *roster {
	if r.users == nil && r.apps == nil && r.holders == nil && r.projects == nil && owner == r.base.owner && r.base != emptyRoster {
		return nil
	}
	out := *r.base
	out.owner = owner
	if r.users != nil {
		out.users = r.users.Map()
	}
	if r.apps != nil {
		out.apps = r.apps.Map()
	}
	if r.holders != nil {
		out.holders = r.holders.Map()
	}
	if r.projects != nil {
		out.projects = r.projects.Map()
	}
	return &out
}

// apply folds one event into the mirror and marks what it affects.
func (a *applier) apply(ev Event) {
	if ev.Kind == KindOrganization {
		a.applyOrganization(ev)
		return
	}
	mo := a.m.orgs[ev.OrganizationID]
	if mo == nil {
		return // an event for an organization this index never saw
	}
	switch ev.Kind {
	case KindPermissionSet:
		if ev.Op == OpPut {
			mo.sets[ev.ID] = ev.Value.(PermissionSet)
		} else {
			delete(mo.sets, ev.ID)
		}
		a.catDirty[mo.id] = true
	case KindProject:
		a.applyProject(mo, ev)
	case KindUser:
		p := UserPrincipal(ev.ID)
		if ev.Op == OpPut {
			u := ev.Value.(User)
			mo.users[ev.ID] = u
			if u.IsOwner() {
				mo.owner = u.ID
			}
		} else {
			delete(mo.users, ev.ID)
			a.forgetMember(mo, p)
		}
		if u, ok := mo.users[ev.ID]; mo.owner == ev.ID && (!ok || !u.IsOwner()) {
			mo.owner = ""
		}
		a.principalD[p] = mo.id
	case KindApplication:
		p := ApplicationPrincipal(ev.ID)
		if ev.Op == OpPut {
			mo.apps[ev.ID] = ev.Value.(Application)
		} else {
			delete(mo.apps, ev.ID)
			a.forgetMember(mo, p)
		}
		a.principalD[p] = mo.id
	case KindGroup:
		a.applyGroup(mo, ev)
	case KindPolicy:
		if old, ok := mo.policies[ev.ID]; ok {
			removeFrom(mo.byHolder, old.Principal, ev.ID)
			a.holders[old.Principal] = mo.id
			delete(mo.policies, ev.ID)
		}
		if ev.Op == OpPut {
			p := ev.Value.(Policy)
			mo.policies[ev.ID] = &p
			addTo(mo.byHolder, p.Principal, ev.ID)
			a.holders[p.Principal] = mo.id
		}
	case KindAPIKey:
		if old, ok := a.keys.Get(ev.ID); ok {
			a.unindexSecret(old.hash, ev.ID)
		}
		if ev.Op == OpPut {
			k := ev.Value.(APIKey)
			ke := &keyEntry{bearer: k.Bearer, org: mo.id, expires: k.ExpiresAt}
			hex.Decode(ke.hash[:], []byte(k.SecretSHA256))
			a.keys.Set(k.AccessKey, ke)
			a.indexSecret(ke.hash, k.AccessKey)
		} else {
			a.keys.Delete(ev.ID)
		}
	}
}

func (a *applier) applyOrganization(ev Event) {
	if ev.Op == OpPut {
		if a.m.orgs[ev.ID] == nil {
			a.m.orgs[ev.ID] = newMOrg(a.m, ev.ID)
			a.orgDirty[ev.ID] = true
			a.roster(ev.ID)
		}
		return
	}
	mo := a.m.orgs[ev.ID]
	if mo == nil {
		return
	}
	// The store deletes the contents first; drop whatever is left anyway.
	for id := range mo.projSeq {
		a.projects.Delete(id)
	}
	for id := range mo.users {
		a.principals.Delete(id)
	}
	for id := range mo.apps {
		a.principals.Delete(id)
	}
	for id := range mo.groups {
		a.principals.Delete(id)
	}
	delete(a.m.orgs, ev.ID)
	a.orgs.Delete(ev.ID)
	a.rosters.Delete(ev.ID)
	delete(a.rosterEd, ev.ID)
	delete(a.orgDirty, ev.ID)
	delete(a.catDirty, ev.ID)
}

func (a *applier) applyProject(mo *mOrg, ev Event) {
	if ev.Op == OpPut {
		if _, ok := mo.projSeq[ev.ID]; !ok {
			mo.projSeq[ev.ID] = mo.nextProj
			r := a.roster(mo.id)
			put(r.base.projects, &r.projects, ev.ID, mo.nextProj, true)
			mo.nextProj++
			addTo(a.projDirty, mo.id, ev.ID)
		}
		return
	}
	delete(mo.projSeq, ev.ID)
	r := a.roster(mo.id)
	put(r.base.projects, &r.projects, ev.ID, 0, false)
	removeFrom(a.projDirty, mo.id, ev.ID)
	a.projects.Delete(ev.ID)
	// Rules naming the project: the store rewrites those policies in the
	// same change; recompute their holders in case it did not.
	for _, pol := range mo.policies {
		for _, r := range pol.Rules {
			if slices.Contains(r.Scope.ProjectIDs, ev.ID) {
				a.holders[pol.Principal] = mo.id
			}
		}
	}
}

func (a *applier) applyGroup(mo *mOrg, ev Event) {
	gp := GroupPrincipal(ev.ID)
	old, existed := mo.groups[ev.ID]
	var now Group
	if ev.Op == OpPut {
		now = ev.Value.(Group)
		mo.groups[ev.ID] = now
		if !existed {
			mo.groupSeq[ev.ID] = mo.newGroupSeq()
		}
	} else {
		delete(mo.groups, ev.ID)
		if seq, ok := mo.groupSeq[ev.ID]; ok {
			delete(mo.groupG, seq)
			delete(mo.groupSeq, ev.ID)
			if a.freedSeqs == nil {
				a.freedSeqs = map[*mOrg][]int32{}
			}
			a.freedSeqs[mo] = append(a.freedSeqs[mo], seq)
		}
	}
	// Members who joined or left.
	diff := func(kind PrincipalType, before, after []string) {
		in := make(map[string]bool, len(after))
		for _, id := range after {
			in[id] = true
		}
		for _, id := range before {
			if !in[id] {
				p := Principal{Type: kind, ID: id}
				removeFrom(mo.memberOf, p, ev.ID)
				a.principalD[p] = mo.id
			}
		}
		was := make(map[string]bool, len(before))
		for _, id := range before {
			was[id] = true
		}
		for _, id := range after {
			if !was[id] {
				p := Principal{Type: kind, ID: id}
				addTo(mo.memberOf, p, ev.ID)
				a.principalD[p] = mo.id
			}
		}
	}
	diff(PrincipalUser, old.UserIDs, now.UserIDs)
	diff(PrincipalApplication, old.ApplicationIDs, now.ApplicationIDs)
	a.principalD[gp] = mo.id
	a.holders[gp] = mo.id
	a.orgDirty[mo.id] = true
}

// newGroupSeq gives a new group its sequence number: that of a group
// deleted by an earlier change when there is one, so that create/delete
// churn does not grow the index's group table (and every write that
// rebuilds it), else a new one.
//
// A number used again carries nothing of its former group into the next
// snapshot: the group's grants were dropped with it, the members that
// listed its number are rebuilt by the change that deleted it (they left
// the group then), and the special-group lists and the number-to-ID table
// are rebuilt whole with the organization's index. Snapshots already
// published are never modified, so their readers keep a consistent view.
// A number freed by a change is given again only from the next change on,
// so that within one change a number names one group.
func (mo *mOrg) newGroupSeq() int32 {
	if n := len(mo.freeSeqs); n > 0 {
		seq := mo.freeSeqs[n-1]
		mo.freeSeqs = mo.freeSeqs[:n-1]
		return seq
	}
	seq := mo.nextGroup
	mo.nextGroup++
	return seq
}

// forgetMember removes a deleted user or application from the groups the
// mirror still lists it in (the store's own cascade normally did).
func (a *applier) forgetMember(mo *mOrg, p Principal) {
	for gid := range mo.memberOf[p] {
		g := mo.groups[gid]
		if p.Type == PrincipalUser {
			g.UserIDs = slices.DeleteFunc(slices.Clone(g.UserIDs), func(id string) bool { return id == p.ID })
		} else {
			g.ApplicationIDs = slices.DeleteFunc(slices.Clone(g.ApplicationIDs), func(id string) bool { return id == p.ID })
		}
		mo.groups[gid] = g
		a.orgDirty[mo.id] = true // the index lists the group's members
	}
	delete(mo.memberOf, p)
}

// finish recomputes everything marked and returns the next snapshot.
func (a *applier) finish(rev uint64) *snapshot {
	for orgID := range a.catDirty {
		mo := a.m.orgs[orgID]
		if mo == nil {
			continue
		}
		mo.cat = a.m.builtinCat
		if len(mo.sets) > 0 {
			own := make([]PermissionSet, 0, len(mo.sets))
			for _, name := range sortedKeys(mo.sets) {
				own = append(own, mo.sets[name])
			}
			mo.cat = compileCatalogue(a.m.builtin, own, a.m.builtinCat)
		}
		// Bits may have moved: every holder of the organization changes.
		for h := range mo.byHolder {
			a.holders[h] = orgID
		}
		a.orgDirty[orgID] = true
	}
	for h, orgID := range a.holders {
		mo := a.m.orgs[orgID]
		if mo == nil || h.IsZero() {
			continue
		}
		if h.Type == PrincipalGroup {
			if seq, ok := mo.groupSeq[h.ID]; ok {
				g := mo.computeGrants(h)
				if g == nil {
					delete(mo.groupG, seq)
				} else {
					mo.groupG[seq] = g
				}
				a.orgDirty[orgID] = true
			}
			continue
		}
		a.principalD[h] = orgID // entry recomputes its own grants
	}
	for orgID := range a.orgDirty {
		mo := a.m.orgs[orgID]
		if mo == nil {
			continue
		}
		mo.idx = mo.buildIndex()
		a.orgs.Set(orgID, mo.idx)
		for pid, seq := range mo.projSeq {
			a.projects.Set(pid, projectEntry{org: mo.idx, seq: seq})
		}
		delete(a.projDirty, orgID)
	}
	for orgID, ids := range a.projDirty {
		mo := a.m.orgs[orgID]
		if mo == nil {
			continue
		}
		for pid := range ids {
			if seq, ok := mo.projSeq[pid]; ok {
				a.projects.Set(pid, projectEntry{org: mo.idx, seq: seq})
			}
		}
	}
	for p, orgID := range a.principalD {
		mo := a.m.orgs[orgID]
		if mo == nil {
			// Its organization was deleted in this change.
			if cur, ok := a.principals.Get(p.ID); ok && cur.typ == p.Type && cur.org == orgID {
				a.principals.Delete(p.ID)
			}
			continue
		}
		e := mo.entry(p)
		if e != nil {
			a.principals.Set(p.ID, *e)
		} else if cur, ok := a.principals.Get(p.ID); ok && cur.typ == p.Type {
			a.principals.Delete(p.ID)
		}
		a.roster(orgID).note(p, e)
	}
	for orgID, r := range a.rosterEd {
		if mo := a.m.orgs[orgID]; mo != nil {
			if nr := r.done(mo.owner); nr != nil {
				a.rosters.Set(orgID, nr)
			}
		}
	}
	for mo, seqs := range a.freedSeqs {
		if a.m.orgs[mo.id] == mo {
			mo.freeSeqs = append(mo.freeSeqs, seqs...)
		}
	}
	return &snapshot{
		rev:        rev,
		orgs:       a.orgs.Map(),
		projects:   a.projects.Map(),
		principals: a.principals.Map(),
		keys:       a.keys.Map(),
		secrets:    a.secrets.Map(),
		rosters:    a.rosters.Map(),
	}
}

// computeGrants folds the rules of the policies naming h: unconditional
// rules into masks, and every rule into the provenance list that Explain
// and conditional checks read.
func (mo *mOrg) computeGrants(h Principal) *grants {
	ids := mo.byHolder[h]
	if len(ids) == 0 {
		return nil
	}
	var orgB, allB bitset
	perProject := map[int32]*bitset{}
	g := &grants{}
	for _, pid := range sortedKeys(ids) {
		pol := mo.policies[pid]
		for i := range pol.Rules {
			r := &pol.Rules[i]
			onOrg := r.Scope.OrganizationID != ""
			for _, name := range r.PermissionSets {
				if bit, ok := mo.cat.bits[name]; ok {
					g.bySet = append(g.bySet, setRule{bit: bit, rule: int32(len(g.rules))})
				}
			}
			if r.Condition != "" {
				g.conditional = true
				g.rules = append(g.rules, ruleRef{pol: pol, index: int32(i), cond: mo.m.compile(r.Condition)})
				continue
			}
			g.rules = append(g.rules, ruleRef{pol: pol, index: int32(i)})
			for _, name := range r.PermissionSets {
				bit, ok := mo.cat.bits[name]
				if !ok {
					continue
				}
				cs := &mo.cat.sets[bit]
				closure := cs.closure.bytes()
				switch {
				case onOrg && cs.ScopeType == ScopeOrganization:
					orgB.or(closure)
				case onOrg:
					allB.or(closure)
				case cs.ScopeType == ScopeProjects:
					for _, project := range r.Scope.ProjectIDs {
						seq, ok := mo.projSeq[project]
						if !ok {
							continue
						}
						b := perProject[seq]
						if b == nil {
							b = new(bitset)
							perProject[seq] = b
						}
						b.or(closure)
					}
				}
			}
		}
	}
	if len(g.rules) == 0 {
		return nil
	}
	slices.SortFunc(g.bySet, func(x, y setRule) int { return cmp.Or(int(x.bit-y.bit), int(x.rule-y.rule)) })
	g.org, g.all = mo.m.intern(orgB), mo.m.intern(allB)
	g.projects = make([]projectGrant, 0, len(perProject))
	for seq, b := range perProject {
		g.projects = append(g.projects, projectGrant{seq: seq, m: mo.m.intern(*b)})
	}
	slices.SortFunc(g.projects, func(x, y projectGrant) int { return int(x.seq - y.seq) })
	if h.Type == PrincipalGroup && len(g.projects) > 4 {
		// A group is read by every member's checks: index its projects
		// directly rather than by binary search. Groups are few.
		g.dense = make([]mask, g.projects[len(g.projects)-1].seq+1)
		for _, pg := range g.projects {
			g.dense[pg.seq] = pg.m
		}
	}
	return g
}

func (mo *mOrg) buildIndex() *orgIndex {
	idx := &orgIndex{id: mo.id, cat: mo.cat, groups: make([]*grants, mo.nextGroup), groupIDs: make([]string, mo.nextGroup), members: make([]groupMembers, mo.nextGroup)}
	for seq, g := range mo.groupG {
		idx.groups[seq] = g
	}
	for id, seq := range mo.groupSeq {
		idx.groupIDs[seq] = id
	}
	for _, id := range sortedKeys(mo.groups) {
		g := mo.groups[id]
		idx.members[mo.groupSeq[id]] = groupMembers{users: g.UserIDs, apps: g.ApplicationIDs, allUsers: g.AllUsers, allApps: g.AllApplications}
		if g.AllUsers {
			idx.allUsers = append(idx.allUsers, mo.groupSeq[id])
		}
		if g.AllApplications {
			idx.allApps = append(idx.allApps, mo.groupSeq[id])
		}
	}
	return idx
}

// entry builds the index entry of principal p, or nil if it is gone.
func (mo *mOrg) entry(p Principal) *principalEntry {
	e := &principalEntry{typ: p.Type, org: mo.id}
	switch p.Type {
	case PrincipalUser:
		u, ok := mo.users[p.ID]
		if !ok {
			return nil
		}
		e.locked, e.owner = u.Locked, u.IsOwner()
	case PrincipalApplication:
		app, ok := mo.apps[p.ID]
		if !ok {
			return nil
		}
		e.managed = app.Managed
	case PrincipalGroup:
		seq, ok := mo.groupSeq[p.ID]
		if !ok {
			return nil
		}
		e.seq = seq
		return e
	default:
		return nil
	}
	if g := mo.computeGrants(p); g != nil {
		e.own = *g
	}
	for gid := range mo.memberOf[p] {
		if seq, ok := mo.groupSeq[gid]; ok {
			e.groups = append(e.groups, seq)
		}
	}
	slices.Sort(e.groups)
	return e
}
