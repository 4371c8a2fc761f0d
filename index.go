package iam

import (
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
)

// How a change reaches the snapshot: the applier (apply.go) folds its
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
			a.rebuildEntry(p, orgID, own[p], nil)
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
	principals := a.principals.Map()
	if a.full {
		principals = a.built.Map() // the editor's map is empty
	}
	return &snapshot{
		rev:        rev,
		orgs:       a.orgs.Map(),
		projects:   a.projects.Map(),
		principals: principals,
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
		ids := sortedKeys(mo.principals)
		a.built.Grow(len(ids) + len(mo.groups))
		holders := make([]Principal, len(ids))
		for i, id := range ids {
			holders[i] = Principal{Type: mo.principals[id].typ, ID: id}
		}
		own := mo.allGrants(holders)
		for i, p := range holders {
			a.rebuildEntry(p, orgID, true, own[i])
		}
		for _, id := range sortedKeys(mo.groups) {
			a.rebuildEntry(GroupPrincipal(id), orgID, true, nil)
		}
	}
}

// allGrants computes the own grants of each of holders (users and
// applications of mo), in its place. Each holder's grants depend only on
// its policies and the organization's tables, which nothing changes
// meanwhile, so the holders are split among workers, one per processor,
// each in its own working space: the result is the same as one by one.
func (mo *mOrg) allGrants(holders []Principal) []*grants {
	out := make([]*grants, len(holders))
	const chunk = 256
	workers := min(runtime.GOMAXPROCS(0), (len(holders)+chunk-1)/chunk)
	if workers <= 1 {
		for i, p := range holders {
			out[i] = mo.computeGrants(mo.byHolder[p], false)
		}
		return out
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	var failure atomic.Value
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				if p := recover(); p != nil {
					failure.CompareAndSwap(nil, fmt.Sprint(p))
				}
			}()
			var sc scratch
			for {
				lo := int(next.Add(chunk)) - chunk
				if lo >= len(holders) {
					return
				}
				for i := lo; i < min(lo+chunk, len(holders)); i++ {
					out[i] = mo.grantsWith(&sc, mo.byHolder[holders[i]], false)
				}
			}
		}()
	}
	wg.Wait()
	if p := failure.Load(); p != nil {
		panic(p) // the build recovers it and fails
	}
	return out
}

// groupGrants computes the grants of group id of mo.
func (a *applier) groupGrants(mo *mOrg, id string) {
	seq, ok := mo.groupSeq[id]
	if !ok {
		return
	}
	if g := mo.computeGrants(mo.byHolder[GroupPrincipal(id)], true); g == nil {
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
// computed, when not nil, is its own grants computed already (deriveAll
// computes them beforehand).
func (a *applier) rebuildEntry(p Principal, orgID string, ownDirty bool, computed *grants) {
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
	oldKey, old, had := a.base.principals.Entry(p.ID)
	had = had && old.typ == p.Type && old.org == mo.num
	key := p.ID
	var e *principalEntry
	switch p.Type {
	case PrincipalGroup:
		if seq, ok := mo.groupSeq[p.ID]; ok {
			e = &principalEntry{org: mo.num, typ: PrincipalGroup, ref: seq}
		}
	case PrincipalUser, PrincipalApplication:
		if info, ok := mo.principals[p.ID]; ok && info.typ == p.Type {
			e = &principalEntry{org: mo.num, typ: p.Type, locked: info.locked, owner: info.owner, managed: info.managed}
			switch {
			case had && !ownDirty:
				e.own, key = old.own, oldKey // the copy of p.ID next to its masks
			case computed != nil:
				e.own = computed
				key = e.own.colocate(p.ID)
			default:
				e.own = mo.computeGrants(mo.byHolder[p], false)
				key = e.own.colocate(p.ID)
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
	if e != nil && a.full {
		a.built.Set(key, *e)
	} else if e != nil {
		a.principals.Set(key, *e)
	} else if cur, ok := a.principals.Get(p.ID); ok && cur.typ == p.Type {
		a.principals.Delete(p.ID)
	}
	a.roster(orgID).note(p, e)
}

// ----- the organization's index -----

func (mo *mOrg) buildIndex() *orgIndex {
	idx := &orgIndex{
		id: mo.id, num: mo.num, cat: mo.cat, setBits: mo.setBits,
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
