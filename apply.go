package iam

import (
	"encoding/hex"
	"slices"
	"strings"
)

// How a store's change is folded into the mirror: each event changes the
// mirror's state and marks what the next snapshot must derive again
// (index.go derives it).

// putValue is the value ev puts, or nil when it deletes.
func putValue[T any](ev Event) *T {
	if ev.Op != OpPut {
		return nil
	}
	v := ev.Value.(T)
	return &v
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
		a.putUser(mo, ev.ID, putValue[User](ev))
	case KindApplication:
		a.putApplication(mo, ev.ID, putValue[Application](ev))
	case KindGroup:
		a.putGroup(mo, ev.ID, putValue[Group](ev))
	case KindPolicy:
		a.putPolicy(mo, ev.ID, putValue[Policy](ev))
	case KindAPIKey:
		a.putKey(mo, ev.ID, putValue[APIKey](ev))
	}
}

// putUser records user id, or its deletion (u nil).
func (a *applier) putUser(mo *mOrg, id string, u *User) {
	p := UserPrincipal(id)
	if u != nil {
		mo.principals[id] = pinfo{typ: PrincipalUser, locked: u.Locked, owner: u.IsOwner()}
		if u.IsOwner() {
			mo.owner = id
		}
	} else {
		delete(mo.principals, id)
		a.forgetMember(mo, p)
	}
	if info, ok := mo.principals[id]; mo.owner == id && (!ok || info.typ != PrincipalUser || !info.owner) {
		mo.owner = ""
	}
	a.mark(p, mo)
}

// mark records that the entry of principal p of mo must be derived again.
func (a *applier) mark(p Principal, mo *mOrg) {
	if !a.full {
		a.principalD[p] = mo.id
	}
}

// markHolder records that the grants of holder h of mo must be computed
// again.
func (a *applier) markHolder(h Principal, mo *mOrg) {
	if !a.full {
		a.holders[h] = mo.id
	}
}

// putApplication records application id, or its deletion (app nil).
func (a *applier) putApplication(mo *mOrg, id string, app *Application) {
	p := ApplicationPrincipal(id)
	if app != nil {
		mo.principals[id] = pinfo{typ: PrincipalApplication, managed: app.Managed}
	} else {
		delete(mo.principals, id)
		a.forgetMember(mo, p)
	}
	a.mark(p, mo)
}

// putPolicy records policy id, or its deletion (p nil).
func (a *applier) putPolicy(mo *mOrg, id string, p *Policy) {
	if old, ok := mo.policies[id]; ok {
		a.setHolderPolicy(mo, old.holder(), id, nil)
		delete(mo.policies, id)
	}
	if p != nil {
		cp := mo.compilePolicy(p)
		if mo.grew {
			a.orgDirty[mo.id] = true // its index maps the new table numbers to set bits
			mo.grew = false
		}
		mo.policies[id] = cp
		a.setHolderPolicy(mo, cp.holder(), id, cp)
	}
}

// setHolderPolicy puts cp (nil: removes policy id) in the list of the
// policies naming h, and marks h's grants for recomputing.
func (a *applier) setHolderPolicy(mo *mOrg, h Principal, id string, cp *cpolicy) {
	a.markHolder(h, mo)
	list := mo.byHolder[h]
	i, found := slices.BinarySearchFunc(list, id, func(p *cpolicy, id string) int { return strings.Compare(p.id, id) })
	if !found && cp == nil {
		return
	}
	if len(list) > 0 && !a.full && !a.ownedLists[&list[0]] {
		list = slices.Clone(list) // the published snapshot shares the old list
	}
	switch {
	case cp == nil:
		list = slices.Delete(list, i, i+1)
	case found:
		list[i] = cp
	default:
		list = slices.Insert(list, i, cp)
	}
	if len(list) == 0 {
		delete(mo.byHolder, h)
		return
	}
	if a.full {
		mo.byHolder[h] = list // a whole build's lists are all its own
		return
	}
	if a.ownedLists == nil {
		a.ownedLists = map[**cpolicy]bool{}
	}
	mo.byHolder[h] = list
	a.ownedLists[&list[0]] = true
}

// putKey records API key id, or its deletion (k nil).
func (a *applier) putKey(mo *mOrg, id string, k *APIKey) {
	if old, ok := a.keys.Get(id); ok {
		a.unindexSecret(old.hash, id)
	}
	if k == nil {
		a.keys.Delete(id)
		return
	}
	ke := &keyEntry{bearer: k.Bearer, org: mo.id, expires: k.ExpiresAt}
	hex.Decode(ke.hash[:], []byte(k.SecretSHA256))
	a.keys.Set(k.AccessKey, ke)
	a.indexSecret(ke.hash, k.AccessKey)
}

func (a *applier) applyOrganization(ev Event) {
	if ev.Op == OpPut {
		a.putOrganization(ev.ID)
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
	for id := range mo.principals {
		a.principals.Delete(id)
	}
	for id := range mo.groups {
		a.principals.Delete(id)
	}
	delete(a.m.orgs, ev.ID)
	a.orgIDs.Set(int(mo.num), "")
	a.orgs.Delete(ev.ID)
	a.rosters.Delete(ev.ID)
	delete(a.rosterEd, ev.ID)
	delete(a.orgDirty, ev.ID)
	delete(a.catDirty, ev.ID)
}

// putOrganization records organization id.
func (a *applier) putOrganization(id string) {
	if a.m.orgs[id] == nil {
		mo := newMOrg(a.m, id)
		mo.num = a.m.nextOrg
		a.m.nextOrg++
		a.m.orgs[id] = mo
		a.orgIDs.Set(int(mo.num), id)
		a.orgDirty[id] = true
		a.roster(id)
	}
}

func (a *applier) applyProject(mo *mOrg, ev Event) {
	if ev.Op == OpPut {
		a.putProject(mo, ev.ID)
		return
	}
	seq, ok := mo.projSeq[ev.ID]
	if !ok {
		return
	}
	delete(mo.projSeq, ev.ID)
	mo.projIDs[seq] = ""
	r := a.roster(mo.id)
	put(r.base.projects, &r.projects, ev.ID, 0, false)
	removeFrom(a.projDirty, mo.id, ev.ID)
	a.projects.Delete(ev.ID)
	// Rules naming the project: the store rewrites those policies in the
	// same change; recompute their holders in case it did not.
	for _, p := range mo.policies {
		for i := range p.rules() {
			if r := p.rule(i); r.lists(seq) {
				a.holders[p.holder()] = mo.id
				break
			}
		}
	}
}

// putProject records project id.
func (a *applier) putProject(mo *mOrg, id string) {
	if _, ok := mo.projSeq[id]; ok {
		return
	}
	seq := mo.nextProj
	mo.projSeq[id] = seq
	mo.projIDs = append(mo.projIDs, id)
	mo.nextProj++
	r := a.roster(mo.id)
	put(r.base.projects, &r.projects, id, seq, true)
	if a.projDirty[mo.id] == nil {
		a.projDirty[mo.id] = map[string]bool{}
	}
	a.projDirty[mo.id][id] = true
}

func removeFrom[K comparable](m map[K]map[string]bool, k K, v string) {
	if s := m[k]; s != nil {
		delete(s, v)
		if len(s) == 0 {
			delete(m, k)
		}
	}
}

// putGroup records group id, or its deletion (g nil).
func (a *applier) putGroup(mo *mOrg, id string, g *Group) {
	gp := GroupPrincipal(id)
	old, existed := mo.groups[id]
	var now Group
	seq, hadSeq := mo.groupSeq[id]
	if g != nil {
		// The index keeps the members sorted, for WhoCan's merges; the
		// store's lists are left as they are.
		now = *g
		if a.full {
			// A whole build reads the groups from Tx lists, which are its
			// own copies: sorted where they are.
			now.UserIDs, now.ApplicationIDs = sortedOwn(g.UserIDs), sortedOwn(g.ApplicationIDs)
		} else {
			now.UserIDs, now.ApplicationIDs = sortedCopy(g.UserIDs), sortedCopy(g.ApplicationIDs)
		}
		mo.groups[id] = now
		if !existed {
			seq = mo.newGroupSeq()
			mo.groupSeq[id] = seq
			a.markHolder(gp, mo) // policies may name it already
		}
	} else {
		delete(mo.groups, id)
		if hadSeq {
			delete(mo.groupG, seq)
			delete(mo.groupSeq, id)
			if a.freedSeqs == nil {
				a.freedSeqs = map[*mOrg][]int32{}
			}
			a.freedSeqs[mo] = append(a.freedSeqs[mo], seq)
			a.markRegroup(mo, seq)
		}
	}
	if old.AllUsers != now.AllUsers || old.AllApplications != now.AllApplications {
		a.special[mo] = true
	}
	// Members who joined or left.
	diff := func(kind PrincipalType, before, after []string) {
		in := make(map[string]bool, len(after))
		for _, id := range after {
			in[id] = true
		}
		was := make(map[string]bool, len(before))
		for _, id := range before {
			was[id] = true
			if !in[id] {
				mo.leave(id, seq)
				a.mark(Principal{Type: kind, ID: id}, mo)
			}
		}
		for _, id := range after {
			if !was[id] {
				mo.join(id, seq)
				a.mark(Principal{Type: kind, ID: id}, mo)
			}
		}
	}
	diff(PrincipalUser, old.UserIDs, now.UserIDs)
	diff(PrincipalApplication, old.ApplicationIDs, now.ApplicationIDs)
	a.mark(gp, mo)
	a.orgDirty[mo.id] = true
}

// join records that user or application id is an explicit member of
// group seq; leave, that it no longer is. The lists are replaced, never
// modified.
func (mo *mOrg) join(id string, seq int32) {
	list := mo.memberOf[id]
	i, found := slices.BinarySearch(list, seq)
	if !found {
		mo.memberOf[id] = slices.Insert(slices.Clip(list), i, seq)
	}
}

func (mo *mOrg) leave(id string, seq int32) {
	list := mo.memberOf[id]
	if i, found := slices.BinarySearch(list, seq); found {
		if len(list) == 1 {
			delete(mo.memberOf, id)
			return
		}
		mo.memberOf[id] = slices.Delete(slices.Clone(list), i, i+1)
	}
}

// newGroupSeq gives a new group its sequence number: that of a group
// deleted by an earlier change when there is one, so that create/delete
// churn does not grow the index's group table (and every write that
// rebuilds it), else a new one.
//
// A number used again carries nothing of its former group into the next
// snapshot: the group's grants were dropped with it, the members that
// listed its number are rebuilt by the change that deleted it (they left
// the group then, and so their group combinations), and the special-group
// lists and the number-to-ID table are rebuilt whole with the
// organization's index. Snapshots already published are never modified,
// so their readers keep a consistent view. A number freed by a change is
// given again only from the next change on, so that within one change a
// number names one group.
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
	for _, seq := range mo.memberOf[p.ID] {
		for gid, s := range mo.groupSeq {
			if s != seq {
				continue
			}
			g := mo.groups[gid]
			if p.Type == PrincipalUser {
				g.UserIDs = slices.DeleteFunc(slices.Clone(g.UserIDs), func(id string) bool { return id == p.ID })
			} else {
				g.ApplicationIDs = slices.DeleteFunc(slices.Clone(g.ApplicationIDs), func(id string) bool { return id == p.ID })
			}
			mo.groups[gid] = g
		}
		a.orgDirty[mo.id] = true // the index lists the group's members
	}
	delete(mo.memberOf, p.ID)
}

// markRegroup records that the grants of group seq changed: the
// combinations holding it must merge them again.
func (a *applier) markRegroup(mo *mOrg, seq int32) {
	if a.regroup[mo] == nil {
		a.regroup[mo] = map[int32]bool{}
	}
	a.regroup[mo][seq] = true
}

// sortedOwn sorts ids, which the caller owns, and drops repeats.
func sortedOwn(ids []string) []string {
	if len(ids) == 0 {
		return nil
	}
	slices.Sort(ids)
	return slices.Clip(slices.Compact(ids))
}

// sortedCopy returns ids sorted, without repeats, in a new slice.
func sortedCopy(ids []string) []string {
	if len(ids) == 0 {
		return nil
	}
	out := slices.Clone(ids)
	slices.Sort(out)
	return slices.Compact(out)
}
