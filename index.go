package iam

import (
	"cmp"
	"slices"
	"strings"

	"github.com/iamkit/iam/internal/cowmap"
)

// How a change reaches the snapshot: the applier (mirror.go) folds its
// events into the mirror and marks what they affect; finish then derives
// the affected parts of the next snapshot, and only those: the grants of
// the holders whose policies changed, the entries of the principals that
// changed, the group combinations, the organization indexes and the
// rosters.

// finish recomputes everything marked and returns the next snapshot.
func (a *applier) finish(rev uint64) *snapshot {
	for orgID := range a.catDirty {
		mo := a.m.orgs[orgID]
		if mo == nil {
			continue
		}
		cat := a.m.builtinCat
		if len(mo.sets) > 0 {
			own := make([]PermissionSet, 0, len(mo.sets))
			for _, name := range sortedKeys(mo.sets) {
				own = append(own, mo.sets[name])
			}
			cat = compileCatalogue(a.m.builtin, own, a.m.builtinCat, &a.m.masks)
		}
		mo.setCatalogue(cat)
		a.orgDirty[orgID] = true
		if a.full {
			continue // every holder is derived anyway
		}
		// Bits may have moved: every holder of the organization changes,
		// and the reverse index, keyed by bit, is made again.
		for h := range mo.byHolder {
			a.holders[h] = orgID
		}
		for id := range mo.groupSeq {
			a.holders[GroupPrincipal(id)] = orgID
		}
		a.roster(orgID).reset = true
	}
	if a.full {
		a.deriveAll()
	} else {
		own := map[Principal]bool{}
		for h, orgID := range a.holders {
			mo := a.m.orgs[orgID]
			if mo == nil || h.IsZero() {
				continue
			}
			if h.Type == PrincipalGroup {
				a.groupGrants(mo, h.ID)
				continue
			}
			a.principalD[h] = orgID
			own[h] = true
		}
		for p, orgID := range a.principalD {
			a.rebuildEntry(p, orgID, own[p])
		}
	}
	for mo := range a.combosUsed {
		if a.m.orgs[mo.id] == mo {
			a.refreshCombos(mo)
		}
	}
	for mo := range a.special {
		if a.m.orgs[mo.id] == mo && !a.combosUsed[mo] {
			a.refreshCombos(mo)
		}
	}
	for mo := range a.regroup {
		if a.m.orgs[mo.id] == mo {
			mo.gt = mo.buildGroupTable()
			a.orgDirty[mo.id] = true
		}
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
	for orgID, r := range a.rosterEd {
		if mo := a.m.orgs[orgID]; mo != nil {
			if nr := r.done(mo.owner); nr != nil {
				a.rosters.Set(orgID, nr)
			}
			for _, num := range r.freed {
				mo.freeNums[num&1] = append(mo.freeNums[num&1], num)
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
		orgIDs:     a.orgIDs.Vec(),
	}
}

// deriveAll derives every group's grants and every principal's entry, for
// a whole index built from an empty one.
func (a *applier) deriveAll() {
	for _, orgID := range sortedKeys(a.m.orgs) {
		mo := a.m.orgs[orgID]
		for _, id := range sortedKeys(mo.groups) {
			a.groupGrants(mo, id)
		}
		for _, id := range sortedKeys(mo.principals) {
			a.rebuildEntry(Principal{Type: mo.principals[id].typ, ID: id}, orgID, true)
		}
		for _, id := range sortedKeys(mo.groups) {
			a.rebuildEntry(GroupPrincipal(id), orgID, true)
		}
	}
}

// groupGrants computes the grants of group id of mo.
func (a *applier) groupGrants(mo *mOrg, id string) {
	seq, ok := mo.groupSeq[id]
	if !ok {
		return
	}
	if g := mo.computeGrants(mo.byHolder[GroupPrincipal(id)]); g == nil {
		delete(mo.groupG, seq)
	} else {
		mo.groupG[seq] = g
	}
	a.markRegroup(mo, seq)
	a.orgDirty[mo.id] = true
}

// rebuildEntry derives the entry of principal p of organization orgID:
// its flags, its own grants (computed again when ownDirty, else kept), its
// group combination, and its place in the roster and the reverse index.
func (a *applier) rebuildEntry(p Principal, orgID string, ownDirty bool) {
	mo := a.m.orgs[orgID]
	if mo == nil {
		// Its organization was deleted in this change.
		if was, ok := a.base.orgs.Get(orgID); ok {
			if cur, ok := a.principals.Get(p.ID); ok && cur.typ == p.Type && cur.org == was.num {
				a.principals.Delete(p.ID)
			}
		}
		return
	}
	// The entry this change starts from: its grants, combination and
	// holder number belong to the organization as the mirror knows it,
	// unless the change deleted that organization (and perhaps made one of
	// the same ID again, which has another number).
	old, had := a.base.principals.Ref(p.ID)
	had = had && old.typ == p.Type && old.org == mo.num
	var e *principalEntry
	switch p.Type {
	case PrincipalGroup:
		if seq, ok := mo.groupSeq[p.ID]; ok {
			e = &principalEntry{org: mo.num, typ: PrincipalGroup, ref: seq}
		}
	case PrincipalUser, PrincipalApplication:
		if info, ok := mo.principals[p.ID]; ok && info.typ == p.Type {
			e = &principalEntry{org: mo.num, typ: p.Type, locked: info.locked, owner: info.owner, managed: info.managed}
			if had && !ownDirty {
				e.own = old.own
			} else {
				e.own = mo.computeGrants(mo.byHolder[p])
			}
			if e.own != nil {
				e.masks, e.cond = e.own.m, e.own.conditional
			}
			e.ref = a.acquireCombo(mo, comboClass(info), mo.memberOf[p.ID])
		}
	}
	if p.Type != PrincipalGroup {
		if had {
			a.releaseCombo(mo, old.ref)
		}
		var before, after *grants
		if had {
			before = old.own
		}
		if e != nil {
			after = e.own
		}
		if before != after || a.roster(orgID).reset {
			a.roster(orgID).reindex(mo, p, before, after)
		}
	}
	if e != nil {
		a.principals.Set(p.ID, *e)
	} else if cur, ok := a.principals.Get(p.ID); ok && cur.typ == p.Type {
		a.principals.Delete(p.ID)
	}
	a.roster(orgID).note(p, e)
}

// ----- grants -----

// scratch is the writer's reusable working space for computing grants.
type scratch struct {
	org, all bitset
	proj     []bitset // by project sequence number
	used     []uint32 // by project sequence number: the round that last used proj
	round    uint32
	touched  []int32 // the projects of proj in use in this round
	keys     []uint64
}

// project returns the bit set of project seq, cleared on first use.
func (sc *scratch) project(seq int32) *bitset {
	for int(seq) >= len(sc.proj) {
		sc.proj = append(sc.proj, nil)
		sc.used = append(sc.used, 0)
	}
	b := &sc.proj[seq]
	if sc.used[seq] != sc.round {
		sc.used[seq] = sc.round
		sc.touched = append(sc.touched, seq)
		clear(*b)
	}
	return b
}

// reset starts a round: every bit set empty.
func (sc *scratch) reset() {
	clear(sc.org)
	clear(sc.all)
	sc.touched = sc.touched[:0]
	if sc.round++; sc.round == 0 {
		clear(sc.used)
		sc.round = 1
	}
}

// pack packs what was gathered into g.m (see packedMasks).
func (sc *scratch) pack(g *grants) {
	trim := func(b bitset) int {
		n := len(b)
		for n > 0 && b[n-1] == 0 {
			n--
		}
		return n
	}
	slices.Sort(sc.touched)
	l := max(trim(sc.org), trim(sc.all))
	var listed []int32 // the projects with a mask
	for _, seq := range sc.touched {
		if k := trim(sc.proj[seq]); k > 0 {
			l = max(l, k)
			listed = append(listed, seq)
		}
	}
	if l == 0 {
		return
	}
	// The distinct masks, each once (found by a scan while they are few).
	var distinct map[string]int
	var order []int32 // for each listed project, its mask's index
	var uniq []int32  // a project of each distinct mask
	for _, seq := range listed {
		m := sc.proj[seq][:trim(sc.proj[seq])]
		j := -1
		if distinct != nil {
			if v, ok := distinct[string(m)]; ok {
				j = v
			}
		} else {
			for u, other := range uniq {
				o := sc.proj[other]
				if string(o[:trim(o)]) == string(m) {
					j = u
					break
				}
			}
		}
		if j < 0 {
			j = len(uniq)
			uniq = append(uniq, seq)
			if distinct != nil {
				distinct[string(m)] = j
			} else if len(uniq) == 32 {
				distinct = map[string]int{}
				for u, other := range uniq {
					o := sc.proj[other]
					distinct[string(o[:trim(o)])] = u
				}
			}
		}
		order = append(order, int32(j))
	}
	n, k := len(listed), len(uniq)
	width := idxWidth(k)
	var b strings.Builder
	b.Grow(12 + 2*l + n*(4+width) + k*l)
	word := func(v int) { b.Write([]byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24)}) }
	bytes := func(m bitset) {
		c := min(len(m), l)
		b.Write(m[:c])
		for ; c < l; c++ {
			b.WriteByte(0)
		}
	}
	word(l)
	word(n)
	word(k)
	bytes(sc.org)
	bytes(sc.all)
	for _, seq := range listed {
		word(int(seq))
	}
	for _, j := range order {
		for c := range width {
			b.WriteByte(byte(j >> (8 * c)))
		}
	}
	for _, seq := range uniq {
		bytes(sc.proj[seq])
	}
	g.m = packedMasks(b.String())
}

// computeGrants folds the rules of pols, the policies naming one holder:
// unconditional rules into packed masks; every rule stays readable
// through pols, for Explain and conditional checks. nil: no policy.
func (mo *mOrg) computeGrants(pols []*cpolicy) *grants {
	if len(pols) == 0 {
		return nil
	}
	sc := &mo.m.scratch
	sc.reset()
	g := &grants{pols: pols, num: -1}
	rules, named := 0, 0
	for _, p := range pols {
		rules += p.rules()
		for ri := range p.rules() {
			named += p.rule(ri).nsets
		}
	}
	if rules >= bySetMin {
		g.bySet = make([]setRule, 0, named)
	}
	for pi, p := range pols {
		for ri := range p.rules() {
			r := p.rule(ri)
			if g.bySet != nil {
				for j := range r.nsets {
					if bit := mo.bit(r.set(j)); bit >= 0 {
						g.bySet = append(g.bySet, setRule{bit: bit, pol: int32(pi), rule: int32(ri)})
					}
				}
			}
			if r.cond() != nil {
				g.conditional = true
				continue
			}
			for j := range r.nsets {
				bit := mo.bit(r.set(j))
				if bit < 0 {
					continue
				}
				cs := &mo.cat.sets[bit]
				closure := cs.closure.bytes()
				switch {
				case r.onOrg && cs.ScopeType == ScopeOrganization:
					sc.org.or(closure)
				case r.onOrg:
					sc.all.or(closure)
				case cs.ScopeType == ScopeProjects:
					for k := range r.projects() {
						if seq := r.project(k); mo.alive(seq) {
							sc.project(seq).or(closure)
						}
					}
				}
			}
		}
	}
	slices.SortFunc(g.bySet, func(x, y setRule) int {
		return cmp.Or(cmp.Compare(x.bit, y.bit), cmp.Compare(x.pol, y.pol), cmp.Compare(x.rule, y.rule))
	})
	sc.pack(g)
	return g
}

// ----- the organization's index -----

func (mo *mOrg) buildIndex() *orgIndex {
	idx := &orgIndex{
		id: mo.id, num: mo.num, cat: mo.cat, setNames: mo.names,
		groups:   make([]*grants, mo.nextGroup),
		groupIDs: make([]string, mo.nextGroup),
		members:  make([]groupMembers, mo.nextGroup),
		combos:   slices.Clone(mo.combos.list),
		gt:       mo.gt,
	}
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

// ----- rosters and the reverse index -----

// rosterEdit edits one organization's roster. Its editors are made at
// the first real change of their list, so that a write that changes none
// (a policy replaced for a principal that had one) copies nothing.
type rosterEdit struct {
	base        *roster
	users, apps *cowmap.SortedEditor[struct{}]
	projects    *cowmap.SortedEditor[int32]
	holders     *cowmap.VecEditor[holderRef]
	granted     *cowmap.VecEditor[cowmap.Set[uint64]]
	sets        map[int32]*cowmap.SetEditor[uint64] // the granted sets being edited, by bit
	conditional *cowmap.SetEditor[int32]
	reset       bool    // the reverse index is made again from nothing
	freed       []int32 // holder numbers freed by this change

	// bulk: the roster is made whole from nothing (a full build). Its
	// lists are gathered, then sorted and made at once.
	bulk            bool
	userIDs, appIDs []string
	adds            map[int32][]uint64 // entries of the granted sets, by bit
	conditionalNums []int32
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
	r := &rosterEdit{base: base, bulk: a.full && base == emptyRoster}
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
	if r.bulk {
		switch {
		case e == nil:
		case p.Type == PrincipalUser && !e.locked:
			r.userIDs = append(r.userIDs, p.ID)
		case p.Type == PrincipalApplication && !e.managed:
			r.appIDs = append(r.appIDs, p.ID)
		}
		return
	}
	switch p.Type {
	case PrincipalUser:
		put(r.base.users, &r.users, p.ID, struct{}{}, e != nil && !e.locked)
	case PrincipalApplication:
		put(r.base.apps, &r.apps, p.ID, struct{}{}, e != nil && !e.managed)
	}
}

// reindex moves holder p, whose own grants were before and are now after
// (either nil), in the reverse index: its number, the sets and scopes it
// is granted, and whether it has conditional rules.
func (r *rosterEdit) reindex(mo *mOrg, p Principal, before, after *grants) {
	if r.holders == nil {
		r.holders = r.base.holders.Edit()
	}
	num := int32(-1)
	if before != nil {
		num = before.num
	}
	oldKeys := mo.grantKeys(before, nil)
	if r.reset {
		oldKeys = nil // the index starts again from nothing
	}
	if after == nil {
		if num >= 0 {
			r.holders.Set(int(num), holderRef{})
			r.freed = append(r.freed, num)
		}
	} else {
		if num < 0 {
			num = mo.newHolderNum(p.Type)
		}
		if after.num != num {
			after.num = num // after is this change's own: no reader has it yet
		}
		r.holders.Set(int(num), holderRef{p: p, g: after})
	}
	newKeys := mo.grantKeys(after, mo.m.scratch.keys[:0])
	mo.m.scratch.keys = newKeys
	if r.bulk {
		if r.adds == nil {
			r.adds = map[int32][]uint64{}
		}
		for _, k := range newKeys {
			r.adds[int32(k>>32)] = append(r.adds[int32(k>>32)], grantEntry(int32(uint32(k)), num))
		}
		if after != nil && after.conditional {
			r.conditionalNums = append(r.conditionalNums, num)
		}
		return
	}
	i, j := 0, 0
	for i < len(oldKeys) || j < len(newKeys) {
		switch {
		case j == len(newKeys) || i < len(oldKeys) && oldKeys[i] < newKeys[j]:
			k := oldKeys[i]
			r.set(int32(k >> 32)).Remove(grantEntry(int32(uint32(k)), num))
			i++
		case i == len(oldKeys) || newKeys[j] < oldKeys[i]:
			k := newKeys[j]
			r.set(int32(k >> 32)).Add(grantEntry(int32(uint32(k)), num))
			j++
		default:
			i++
			j++
		}
	}
	wasCond := before != nil && before.conditional && !r.reset
	isCond := after != nil && after.conditional
	if wasCond != isCond || r.reset && isCond {
		if r.conditional == nil {
			r.conditional = r.base.conditional.Edit()
			if r.reset {
				r.conditional = cowmap.Set[int32]{}.Edit()
			}
		}
		if isCond {
			r.conditional.Add(num)
		} else {
			r.conditional.Remove(num)
		}
	}
}

// newHolderNum gives a holder a number: a freed one when there is one.
// Users have even numbers and applications odd ones, so that WhoCan skips
// the users without reading them when a group answers for all users.
func (mo *mOrg) newHolderNum(t PrincipalType) int32 {
	k := 0
	if t == PrincipalApplication {
		k = 1
	}
	if n := len(mo.freeNums[k]); n > 0 {
		num := mo.freeNums[k][n-1]
		mo.freeNums[k] = mo.freeNums[k][:n-1]
		return num
	}
	num := 2*mo.nextHolder[k] + int32(k)
	mo.nextHolder[k]++
	return num
}

// set returns the editor of the granted set of bit.
func (r *rosterEdit) set(bit int32) *cowmap.SetEditor[uint64] {
	if ed := r.sets[bit]; ed != nil {
		return ed
	}
	if r.granted == nil {
		if r.reset {
			r.granted = cowmap.Vec[cowmap.Set[uint64]]{}.Edit()
		} else {
			r.granted = r.base.granted.Edit()
		}
	}
	if r.sets == nil {
		r.sets = map[int32]*cowmap.SetEditor[uint64]{}
	}
	var cur cowmap.Set[uint64]
	if int(bit) < r.granted.Len() {
		cur = r.granted.At(int(bit))
	}
	ed := cur.Edit()
	r.sets[bit] = ed
	return ed
}

// finishBulk makes the lists gathered in bulk.
func (r *rosterEdit) finishBulk() {
	slices.Sort(r.userIDs)
	slices.Sort(r.appIDs)
	users, apps := slices.Compact(r.userIDs), slices.Compact(r.appIDs)
	out := *r.base
	out.users = cowmap.SortedOf(users, make([]struct{}, len(users)))
	out.apps = cowmap.SortedOf(apps, make([]struct{}, len(apps)))
	slices.Sort(r.conditionalNums)
	out.conditional = cowmap.SetOf(slices.Compact(r.conditionalNums))
	if len(r.adds) > 0 {
		if r.granted == nil {
			r.granted = cowmap.Vec[cowmap.Set[uint64]]{}.Edit()
		}
		for bit, entries := range r.adds {
			slices.Sort(entries)
			r.granted.Set(int(bit), cowmap.SetOf(slices.Compact(entries)))
		}
	}
	r.base, r.bulk = &out, false
	r.userIDs, r.appIDs, r.adds, r.conditionalNums = nil, nil, nil, nil
	r.users, r.apps = nil, nil
}

// grantKeys appends to out, sorted and without repeats, the keys (set
// bit, scope) of the reverse index that grants g holds: every set that
// an unconditional rule names, where it grants it.
func (mo *mOrg) grantKeys(g *grants, out []uint64) []uint64 {
	if g == nil {
		return out
	}
	key := func(bit, scope int32) uint64 { return uint64(bit)<<32 | uint64(uint32(scope)) }
	for _, p := range g.pols {
		for ri := range p.rules() {
			r := p.rule(ri)
			if r.cond() != nil {
				continue
			}
			for j := range r.nsets {
				bit := mo.bit(r.set(j))
				if bit < 0 {
					continue
				}
				st := mo.cat.sets[bit].ScopeType
				switch {
				case r.onOrg && st == ScopeOrganization:
					out = append(out, key(bit, scopeOrg))
				case r.onOrg:
					out = append(out, key(bit, scopeAll))
				case st == ScopeProjects:
					for k := range r.projects() {
						out = append(out, key(bit, r.project(k)))
					}
				}
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// done returns the edited roster with owner, or nil when nothing changed.
func (r *rosterEdit) done(owner string) *roster {
	made := r.bulk
	if r.bulk {
		r.finishBulk()
	}
	if !made && r.users == nil && r.apps == nil && r.projects == nil && r.holders == nil && r.granted == nil &&
		r.conditional == nil && !r.reset && owner == r.base.owner && r.base != emptyRoster {
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
	if r.projects != nil {
		out.projects = r.projects.Map()
	}
	if r.holders != nil {
		out.holders = r.holders.Vec()
	}
	if r.granted != nil {
		for bit, ed := range r.sets {
			r.granted.Set(int(bit), ed.Set())
		}
		out.granted = r.granted.Vec()
	}
	if r.conditional != nil {
		out.conditional = r.conditional.Set()
	}
	if r.reset {
		if r.granted == nil {
			out.granted = cowmap.Vec[cowmap.Set[uint64]]{}
		}
		if r.conditional == nil {
			out.conditional = cowmap.Set[int32]{}
		}
	}
	return &out
}
