package iam

import (
	"context"
	"iter"
	"math/bits"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/iamkit/iam/internal/cowmap"
)

// WhoCan lists the users and applications allowed req.Permission at
// req.ProjectID or req.OrganizationID (req.Principal is ignored): groups
// expanded, the owner included, locked users left out, sorted by type
// (users first) then ID. Conditional rules count when their condition
// holds for req's condition context. The answer is the caller's own.
//
// An answer can be most of an organization; WhoCanSeq gives the same
// principals without making a list of them.
func (e *Evaluator) WhoCan(ctx context.Context, req Request) ([]Principal, error) {
	a, err := e.whoCan(&req)
	if err != nil {
		return nil, err
	}
	return a.appendTo(make([]Principal, 0, a.len())), nil
}

// WhoCanSeq is WhoCan as a sequence: the same principals in the same
// order, read from the index as it was when WhoCanSeq was called (writes
// after the call do not change the sequence, and it can be ranged over
// more than once). Errors are WhoCan's, returned before any principal is.
// Ranging over it allocates nothing per principal, where WhoCan's list
// of a large organization (about 24 bytes a principal) costs more to
// allocate and collect than to find; a host that pages, counts or streams
// the answer should use WhoCanSeq. The sequence keeps that state of the
// index reachable for as long as it is held.
func (e *Evaluator) WhoCanSeq(ctx context.Context, req Request) (iter.Seq[Principal], error) {
	a, err := e.whoCan(&req)
	if err != nil {
		return nil, err
	}
	return a.each, nil
}

// whoCanAnswer is a WhoCan answer before it is listed: the roster's
// sorted users and non-managed applications (shared lists, never
// modified), each with the marks of the ranks that the answer holds (nil:
// all of them), and the managed applications granted (sorted IDs, none
// in apps), which go between the applications.
type whoCanAnswer struct {
	users, apps         []Principal
	userMarks, appMarks []uint64
	nUsers, nApps       int // principals of users and apps in the answer
	extra               []string
}

// whoCan finds WhoCan's answer to req.
func (e *Evaluator) whoCan(req *Request) (*whoCanAnswer, error) {
	if err := checkShape(req, needTarget|needPermission); err != nil {
		return nil, err
	}
	e.stamp(req)
	s, err := e.current()
	if err != nil {
		return nil, err
	}
	var q query
	if err := q.target(s, req); err != nil {
		return nil, err
	}
	if err := q.permission(req.Permission); err != nil {
		return nil, err
	}
	org, r := q.org, s.roster(q.org.id)
	// The groups first (they are few): one holding all users answers for
	// every user, and then no user needs to be looked at one by one.
	allUsers, allApps := false, false // a granting group holds every user / non-managed app
	var granting []int32
	for seq, g := range org.groups {
		if g == nil || !e.allows(&q, g, req) {
			continue
		}
		granting = append(granting, int32(seq))
		m := &org.members[seq]
		allUsers = allUsers || m.allUsers
		allApps = allApps || m.allApps
	}
	// Candidates, as sorted lists: the granting groups' members (kept
	// sorted by the index), the holders that grant, the owner. A granting
	// group that holds all users (applications) answers for every user
	// (non-managed application), whose lists are then left out.
	var holderUsers, holderApps []string
	for _, p := range q.granting(r, e, req, allUsers) {
		if p.Type == PrincipalUser {
			holderUsers = append(holderUsers, p.ID)
		} else {
			holderApps = append(holderApps, p.ID)
		}
	}
	slices.Sort(holderUsers)
	slices.Sort(holderApps)
	// The answer: the users of the organization that are not locked and
	// the applications that are not managed, all of them when a group
	// holding all of them grants, else those that granting groups list
	// and the holders that grant (users: the owner too), marked by their
	// rank in the roster's sorted lists; with the managed applications
	// that granting groups list or that grant as holders between the
	// applications.
	a := &whoCanAnswer{users: r.userPrincipals(), apps: r.appPrincipals()}
	if managed := rosterKeys(r.managed); len(managed) > 0 {
		byGroup := r.managedMembers(org, managed)
		for _, seq := range granting {
			a.extra = append(a.extra, byGroup[seq]...)
		}
		a.extra = append(a.extra, among([][]string{holderApps}, managed)...)
		slices.Sort(a.extra)
		a.extra = slices.Compact(a.extra)
	}
	var ranks *groupRanks
	if !allUsers || !allApps {
		ranks = r.ranks(org, a.users, a.apps)
	}
	a.nUsers, a.nApps = len(a.users), len(a.apps)
	if !allUsers {
		a.userMarks, a.nUsers = mark(a.users, ranks.users, granting, append(holderUsers, r.owner))
	}
	if !allApps {
		a.appMarks, a.nApps = mark(a.apps, ranks.apps, granting, holderApps)
	}
	return a, nil
}

// len is the number of principals in the answer.
func (a *whoCanAnswer) len() int { return a.nUsers + a.nApps + len(a.extra) }

// appendTo appends the answer to out, in order.
func (a *whoCanAnswer) appendTo(out []Principal) []Principal {
	out = appendMarked(out, a.users, a.userMarks, nil, PrincipalUser)
	return appendMarked(out, a.apps, a.appMarks, a.extra, PrincipalApplication)
}

// each yields the answer's principals, in order, until yield returns
// false.
func (a *whoCanAnswer) each(yield func(Principal) bool) {
	_ = eachMarked(a.users, a.userMarks, nil, PrincipalUser, yield) &&
		eachMarked(a.apps, a.appMarks, a.extra, PrincipalApplication, yield)
}

// principalLists is what WhoCan keeps of a roster's lists, made at the
// first WhoCan that needs it: the users and non-managed applications as
// principals, sorted by ID (an answer that a group holding all of them
// gives is then a copy, much cheaper than making each principal again;
// other answers mark their ranks), and for the groups of one orgIndex
// their members' ranks and managed applications. A roster whose users,
// applications or managed applications change gets a new, empty one.
type principalLists struct {
	usersOnce, appsOnce sync.Once
	users, apps         []Principal
	groups              atomic.Pointer[groupsManaged]
	ranks               atomic.Pointer[groupRanks]
}

// groupsManaged is, for one orgIndex, the managed applications that each
// group lists (by group sequence number).
type groupsManaged struct {
	org  *orgIndex
	apps [][]string
}

// managedMembers returns, by group sequence number, the applications of
// managed (sorted, r's managed applications) that org's groups list,
// sorted. The lists are kept for the next query of the same org and
// roster lists.
func (r *roster) managedMembers(org *orgIndex, managed []string) [][]string {
	c := r.asPrincipals
	if c != nil {
		if gm := c.groups.Load(); gm != nil && gm.org == org {
			return gm.apps
		}
	}
	gm := &groupsManaged{org: org, apps: make([][]string, len(org.members))}
	for seq := range org.members {
		gm.apps[seq] = among([][]string{org.members[seq].apps}, managed)
	}
	if c != nil {
		c.groups.Store(gm)
	}
	return gm.apps
}

// userPrincipals returns r's users as principals, sorted by ID: a list
// shared by every caller, which must not be modified.
func (r *roster) userPrincipals() []Principal {
	c := r.asPrincipals
	if c == nil {
		return principalsOf(r.users, PrincipalUser)
	}
	c.usersOnce.Do(func() { c.users = principalsOf(r.users, PrincipalUser) })
	return c.users
}

// appPrincipals returns r's non-managed applications as principals,
// sorted by ID: a list shared by every caller, which must not be
// modified.
func (r *roster) appPrincipals() []Principal {
	c := r.asPrincipals
	if c == nil {
		return principalsOf(r.apps, PrincipalApplication)
	}
	c.appsOnce.Do(func() { c.apps = principalsOf(r.apps, PrincipalApplication) })
	return c.apps
}

// principalsOf returns the keys of ids as principals of type t.
func principalsOf(ids cowmap.Sorted[struct{}], t PrincipalType) []Principal {
	out := make([]Principal, 0, ids.Len())
	ids.EachChunk(func(keys []string) {
		for _, id := range keys {
			out = append(out, Principal{Type: t, ID: id})
		}
	})
	return out
}

// mark marks, by their rank in list (sorted by ID), the principals that
// the granting groups list (ranks, by group sequence number) and those of
// ids, and returns how many it marked.
func mark(list []Principal, ranks [][]int32, granting []int32, ids []string) (marked []uint64, n int) {
	marked = make([]uint64, (len(list)+63)/64)
	for _, seq := range granting {
		for _, i := range ranks[seq] {
			marked[i/64] |= 1 << (i % 64)
		}
	}
	for _, id := range ids {
		if i, ok := slices.BinarySearchFunc(list, id, comparePrincipalID); ok {
			marked[i/64] |= 1 << (i % 64)
		}
	}
	for _, w := range marked {
		n += bits.OnesCount64(w)
	}
	return marked, n
}

// appendMarked appends to out the principals of list marked (all of
// them when marked is nil), in order, with the principals of type t of
// extra (sorted IDs, none in list) between them.
func appendMarked(out, list []Principal, marked []uint64, extra []string, t PrincipalType) []Principal {
	if marked == nil {
		// The whole list, copied between the extras.
		for _, id := range extra {
			i, _ := slices.BinarySearchFunc(list, id, comparePrincipalID)
			out = append(append(out, list[:i]...), Principal{Type: t, ID: id})
			list = list[i:]
		}
		return append(out, list...)
	}
	for w, word := range marked {
		for ; word != 0; word &= word - 1 {
			p := list[w*64+bits.TrailingZeros64(word)]
			for len(extra) > 0 && extra[0] < p.ID {
				out, extra = append(out, Principal{Type: t, ID: extra[0]}), extra[1:]
			}
			out = append(out, p)
		}
	}
	for _, id := range extra {
		out = append(out, Principal{Type: t, ID: id})
	}
	return out
}

// eachMarked is appendMarked yielding each principal instead of
// appending it; it returns false when yield did.
func eachMarked(list []Principal, marked []uint64, extra []string, t PrincipalType, yield func(Principal) bool) bool {
	emit := func(p Principal) bool {
		for len(extra) > 0 && extra[0] < p.ID {
			if !yield(Principal{Type: t, ID: extra[0]}) {
				return false
			}
			extra = extra[1:]
		}
		return yield(p)
	}
	if marked == nil {
		for _, p := range list {
			if !emit(p) {
				return false
			}
		}
	} else {
		for w, word := range marked {
			for ; word != 0; word &= word - 1 {
				if !emit(list[w*64+bits.TrailingZeros64(word)]) {
					return false
				}
			}
		}
	}
	for _, id := range extra {
		if !yield(Principal{Type: t, ID: id}) {
			return false
		}
	}
	return true
}

// comparePrincipalID compares p's ID with id.
func comparePrincipalID(p Principal, id string) int { return strings.Compare(p.ID, id) }

// groupRanks is, for one orgIndex, the ranks in a roster's users and
// non-managed applications (sorted by ID) of those that each group lists
// (by group sequence number).
type groupRanks struct {
	org         *orgIndex
	users, apps [][]int32
}

// ranks returns the ranks in users and apps (r's, sorted by ID) of the
// users and applications that org's groups list. They are kept for the
// next query of the same org and roster lists.
func (r *roster) ranks(org *orgIndex, users, apps []Principal) *groupRanks {
	c := r.asPrincipals
	if c != nil {
		if gr := c.ranks.Load(); gr != nil && gr.org == org {
			return gr
		}
	}
	gr := &groupRanks{org: org, users: make([][]int32, len(org.members)), apps: make([][]int32, len(org.members))}
	for seq := range org.members {
		gr.users[seq] = ranksIn(users, org.members[seq].users)
		gr.apps[seq] = ranksIn(apps, org.members[seq].apps)
	}
	if c != nil {
		c.ranks.Store(gr)
	}
	return gr
}

// ranksIn returns the ranks in list (sorted by ID) of the IDs of sorted
// ids that it holds, by a galloping walk.
func ranksIn(list []Principal, ids []string) []int32 {
	var out []int32
	rest, base := list, 0
	for _, id := range ids {
		i, ok := gallopBy(rest, id)
		if ok {
			out = append(out, int32(base+i))
		}
		rest, base = rest[i:], base+i
	}
	return out
}

// gallopBy returns the index of the first principal of ps (sorted by ID)
// whose ID is not below id, and whether it is id, in time logarithmic in
// that index.
func gallopBy(ps []Principal, id string) (int, bool) {
	hi := 1
	for hi < len(ps) && ps[hi-1].ID < id {
		hi *= 2
	}
	lo := hi / 2
	hi = min(hi, len(ps))
	i, ok := slices.BinarySearchFunc(ps[lo:hi], id, comparePrincipalID)
	return lo + i, ok
}

// rosterKeys returns the keys of m in order (nil when none).
func rosterKeys(m cowmap.Sorted[struct{}]) []string {
	if m.Len() == 0 {
		return nil
	}
	out := make([]string, 0, m.Len())
	m.EachChunk(func(keys []string) { out = append(out, keys...) })
	return out
}

// among returns, sorted and without repeats, the IDs of sorted set that
// some sorted list of lists holds, by a galloping walk of each list
// against set: the work is that of the shorter side of each pair.
func among(lists [][]string, set []string) []string {
	if len(set) == 0 {
		return nil
	}
	var out []string
	for _, l := range lists {
		a, b := l, set
		for len(a) > 0 && len(b) > 0 {
			if len(a) > len(b) {
				a, b = b, a
			}
			// a is the shorter: find a[0] in b.
			i := gallop(b, a[0])
			if i < len(b) && b[i] == a[0] {
				out = append(out, a[0])
				i++
			}
			a, b = a[1:], b[i:]
		}
	}
	if len(lists) > 1 {
		slices.Sort(out)
		out = slices.Compact(out)
	}
	return out
}

// gallop returns the index of the first ID of sorted ids that is not
// below id, in time logarithmic in that index.
func gallop(ids []string, id string) int {
	hi := 1
	for hi < len(ids) && ids[hi-1] < id {
		hi *= 2
	}
	lo := hi / 2
	hi = min(hi, len(ids))
	i, _ := slices.BinarySearch(ids[lo:hi], id)
	return lo + i
}

// granting returns the users and applications whose own grants allow the
// query, read from the reverse index: the holders granted, at a scope that
// covers the target, a set that could grant the query (a set whose
// closure holds the asked set, or a set matching the asked triple), each
// confirmed on its grants as a check would; then the holders with
// conditional rules, whose conditions are evaluated. The work is that of
// the holders that grant, never of the whole organization.
//
// appsOnly leaves the users out (users have even numbers, and their
// entries follow the applications' in each scope).
func (q *query) granting(r *roster, e *Evaluator, req *Request, appsOnly bool) []Principal {
	var scopes []int32
	switch {
	case q.project >= 0:
		scopes = []int32{scopeAll, q.project}
	case q.orgScoped:
		scopes = []int32{scopeOrg}
	default:
		scopes = []int32{scopeAll}
	}
	seen := make([]uint64, (r.holders.Len()+63)/64)
	mark := func(num int32) bool {
		if appsOnly && num&1 == 0 || int(num) >= r.holders.Len() || seen[num/64]&(1<<(num%64)) != 0 {
			return false
		}
		seen[num/64] |= 1 << (num % 64)
		return true
	}
	var out []Principal
	for _, c := range q.grantingSets() {
		if int(c) >= r.granted.Len() {
			continue
		}
		set := r.granted.At(int(c))
		for _, scope := range scopes {
			lo, hi := scopeRange(scope, appsOnly)
			for e := range set.Range(&lo, hi) {
				num := entryHolder(e)
				if !mark(num) {
					continue
				}
				if g := r.holders.At(int(num)); g != nil && q.holds(g) {
					out = append(out, g.holder())
				}
			}
		}
	}
	for num := range r.conditional.All() {
		if !mark(num) {
			continue
		}
		if g := r.holders.At(int(num)); g != nil && e.allows(q, g, req) {
			out = append(out, g.holder())
		}
	}
	return out
}

// grantingSets lists the sets that grant the query when granted at its
// target: for a set name, the sets whose closure holds it; for a triple,
// the sets whose closure holds a set of its level matching it.
func (q *query) grantingSets() []int32 {
	cat := q.org.cat
	if !q.triple {
		return cat.sets[q.bit].includers
	}
	var out []int32
	if q.overflow {
		for bit := range cat.sets {
			if cat.matchingSet(cat.sets[bit].closure, q.pats, q.resource, q.action, q.orgScoped) >= 0 {
				out = append(out, int32(bit))
			}
		}
		return out
	}
	for _, m := range q.matches[:q.nmatch] {
		out = append(out, cat.sets[m].includers...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// allows reports whether grants g allow the query, conditions included.
func (e *Evaluator) allows(q *query, g *grants, req *Request) bool {
	if g == nil {
		return false
	}
	if q.holds(g) {
		return true
	}
	if !g.conditional {
		return false
	}
	for _, ref := range q.candidatesHere(g, q.grantingSets()) {
		r := g.rule(ref)
		rc := r.cond()
		if rc == nil || rc.cond == nil {
			continue
		}
		if _, _, ok := q.ruleMatch(&r); ok {
			if holds, err := rc.cond.Eval(req); err == nil && holds {
				return true
			}
		}
	}
	return false
}
