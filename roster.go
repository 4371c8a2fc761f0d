package iam

import (
	"slices"

	"github.com/iamkit/iam/internal/cowmap"
)

// Rosters and the reverse index, as one change edits them (see roster in
// snapshot.go).

// rosterEdit edits one organization's roster. Its editors are made at
// the first real change of their list, so that a write that changes none
// (a policy replaced for a principal that had one) copies nothing.
type rosterEdit struct {
	base        *roster
	users, apps *cowmap.SortedEditor[struct{}]
	managed     *cowmap.SortedEditor[struct{}]
	projects    *cowmap.SortedEditor[int32]
	holders     *cowmap.VecEditor[*grants]
	granted     *cowmap.VecEditor[cowmap.Set[uint64]]
	sets        map[int32]*cowmap.SetEditor[uint64] // the granted sets being edited, by bit
	conditional *cowmap.SetEditor[int32]
	reset       bool    // the reverse index is made again from nothing
	freed       []int32 // holder numbers freed by this change

	// bulk: the roster is made whole from nothing (a full build). Its
	// lists are gathered, then sorted and made at once.
	bulk            bool
	userIDs, appIDs []string
	managedIDs      []string
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
		case p.Type == PrincipalApplication:
			r.managedIDs = append(r.managedIDs, p.ID)
		}
		return
	}
	switch p.Type {
	case PrincipalUser:
		put(r.base.users, &r.users, p.ID, struct{}{}, e != nil && !e.locked)
	case PrincipalApplication:
		put(r.base.apps, &r.apps, p.ID, struct{}{}, e != nil && !e.managed)
		put(r.base.managed, &r.managed, p.ID, struct{}{}, e != nil && e.managed)
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
			r.holders.Set(int(num), nil)
			r.freed = append(r.freed, num)
		}
	} else {
		if num < 0 {
			num = mo.newHolderNum(p.Type)
		}
		if after.num != num {
			after.num = num // after is this change's own: no reader has it yet
		}
		r.holders.Set(int(num), after)
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
	slices.Sort(r.managedIDs)
	// Exact copies: the gathered slices have spare room.
	users, apps := slices.Clone(slices.Compact(r.userIDs)), slices.Clone(slices.Compact(r.appIDs))
	managed := slices.Clone(slices.Compact(r.managedIDs))
	out := *r.base
	out.users = cowmap.SortedOf(users, make([]struct{}, len(users)))
	out.apps = cowmap.SortedOf(apps, make([]struct{}, len(apps)))
	out.managed = cowmap.SortedOf(managed, make([]struct{}, len(managed)))
	slices.Sort(r.conditionalNums)
	out.conditional = cowmap.SetOf(slices.Clone(slices.Compact(r.conditionalNums)))
	if len(r.adds) > 0 {
		if r.granted == nil {
			r.granted = cowmap.Vec[cowmap.Set[uint64]]{}.Edit()
		}
		for bit, entries := range r.adds {
			slices.Sort(entries)
			r.granted.Set(int(bit), cowmap.SetOf(slices.Clone(slices.Compact(entries))))
		}
	}
	r.base, r.bulk = &out, false
	r.userIDs, r.appIDs, r.managedIDs, r.adds, r.conditionalNums = nil, nil, nil, nil, nil
	r.users, r.apps, r.managed = nil, nil, nil
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
	if !made && r.users == nil && r.apps == nil && r.managed == nil && r.projects == nil && r.holders == nil && r.granted == nil &&
		r.conditional == nil && !r.reset && owner == r.base.owner && r.base != emptyRoster {
		return nil
	}
	out := *r.base
	out.owner = owner
	if made || r.users != nil || r.apps != nil || r.managed != nil {
		out.asPrincipals = &principalLists{} // what is cached is the base's
	}
	if r.users != nil {
		out.users = r.users.Map()
	}
	if r.apps != nil {
		out.apps = r.apps.Map()
	}
	if r.managed != nil {
		out.managed = r.managed.Map()
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
