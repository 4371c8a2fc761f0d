package iam

import (
	"cmp"
	"slices"
	"time"

	"github.com/iamkit/iam/internal/cowmap"
)

// The readers' side of the Evaluator's index: an immutable snapshot behind
// an atomic pointer. One writer at a time derives the next snapshot from
// the last one and from its own mirror of the store (mirror.go), touching
// only what a change affects, and publishes it before the store's write
// returns. Readers never lock and never see the mirror.
//
// What a check reads, in order:
//   - projects: project ID → its organization's index and the project's
//     sequence number in it (or orgs, for a request at the organization);
//   - the organization's compiled catalogue, for the permission;
//   - principals: principal ID → a small entry: kind, organization,
//     locked, owner and managed flags, the grants of the policies naming
//     it, and the number of its group combination;
//   - the caller's group combination, a bit set of the groups it is in,
//     against the organization's table of which groups grant each set
//     where: a few words, whatever the number of groups the caller is in
//     (see combo and groupTable).
//
// Grants are kept per holder (user, application or group), never copied
// into group members, and "all projects" stays one entry of its own, so a
// project created later is covered at once.
//
// What the reverse queries read besides: rosters, organization ID → who
// and what the organization holds, and which sets each holder is granted
// where (see roster). Queries read the snapshot only, never the writer's
// mirror, so that none of them ever waits for a writer or makes one wait.
type snapshot struct {
	rev        uint64
	stale      error // non-nil: the index may lack a change; answer this
	orgs       cowmap.Map[*orgIndex]
	projects   cowmap.Map[projectEntry]   // by value: one pointer less to chase
	principals cowmap.Map[principalEntry] // by value
	keys       cowmap.Map[*keyEntry]
	secrets    cowmap.Map[[]string] // SHA-256 of a secret (32 bytes) → the keys that have it
	rosters    cowmap.Map[*roster]
	orgIDs     cowmap.Vec[string] // organization number → ID ("" once deleted)
}

// orgID returns the ID of organization number n.
func (s *snapshot) orgID(n int32) string {
	if n >= 0 && int(n) < s.orgIDs.Len() {
		return s.orgIDs.At(int(n))
	}
	return ""
}

// orgIndex is what a check reads of one organization beside the entries.
type orgIndex struct {
	id       string
	num      int32 // the organization's number in this index (never given to another)
	cat      *catalogue
	setBits  []int32        // by table number (see mOrg.setID): the set's bit in cat, or -1
	groups   []*grants      // by group sequence number; nil: none, or deleted
	groupIDs []string       // by group sequence number
	allUsers []int32        // groups with AllUsers
	allApps  []int32        // groups with AllApplications
	members  []groupMembers // by group sequence number, for WhoCan
	combos   []*combo       // by combination number; nil: free
	gt       *groupTable    // which groups grant which sets where
}

// groupMembers is who a group holds. Its slices are shared with the
// mirror's copy of the group, which is never modified in place.
type groupMembers struct {
	users, apps       []string
	allUsers, allApps bool
}

func (o *orgIndex) group(seq int32) *grants {
	if int(seq) < len(o.groups) {
		return o.groups[seq]
	}
	return nil
}

func (o *orgIndex) combo(n int32) *combo {
	if n >= 0 && int(n) < len(o.combos) {
		return o.combos[n]
	}
	return nil
}

// specialGroups returns the groups pe belongs to without being listed: the
// all-users groups for a user, the all-applications groups for a
// non-managed application.
func (o *orgIndex) specialGroups(pe *principalEntry) []int32 {
	switch {
	case pe.typ == PrincipalUser:
		return o.allUsers
	case pe.typ == PrincipalApplication && !pe.managed:
		return o.allApps
	}
	return nil
}

type projectEntry struct {
	org *orgIndex
	seq int32
}

// principalEntry is one user, application or group. It is small (five
// words: with its key, a slot of the table is one cache line), so that a
// check reads that line, then the packed masks of its own grants.
type principalEntry struct {
	masks packedMasks // own.m, here so that a check reads no more than the entry
	own   *grants     // a user's or application's own grants; nil: none
	// ref is a user's or application's group combination (an index into
	// orgIndex.combos), or a group's sequence number.
	ref     int32
	org     int32 // the organization's number (orgIndex.num)
	typ     PrincipalType
	locked  bool
	owner   bool
	managed bool
	cond    bool // own.conditional
}

type keyEntry struct {
	bearer  Principal
	org     string
	expires time.Time
	hash    [32]byte // SHA-256 of the secret
}

// grants is what the policies naming one holder grant it, or, for a
// combination, what its groups grant together. The masks hold the
// unconditional grants, which is all a check reads on its fast path; pols
// lists the policies behind them (and the conditional rules), for Explain
// and for the slow path of conditional grants.
type grants struct {
	m           packedMasks
	pols        []*cpolicy // the policies naming the holder, by ID; shared with the mirror, never modified
	bySet       *ruleIndex // which rules name which set (holders of many rules only)
	num         int32      // a user's or application's number in its roster (see roster.holders)
	conditional bool       // some rule has a condition
}

// packedMasks is what a holder's unconditional rules grant, in one string,
// so that a check reads it in a line or two. It starts with three 32-bit
// numbers: the mask length L, the number n of projects that rules list,
// and the number k of distinct masks among those projects' (its two top
// bits say whether the next two masks are there). Then come the
// organization-scoped sets granted at the organization (L bytes, left out
// when there are none), the project-scoped sets granted in all projects
// (L bytes, left out when there are none), the n projects' sequence
// numbers (4 bytes each, increasing), for each of them the index of its
// mask (idxWidth(k) bytes), and the k masks (L bytes each): a rule
// listing several projects gives them all one mask, stored once. ""
// grants nothing.
type packedMasks string

const (
	packedOrg = 1 << 31 // in the third number: the organization's mask is there
	packedAll = 1 << 30 // the all-projects mask is there
)

func (p packedMasks) word(i int) int {
	return int(uint32(p[i]) | uint32(p[i+1])<<8 | uint32(p[i+2])<<16 | uint32(p[i+3])<<24)
}

// layout returns L, n, k and where the all-projects mask and the projects'
// sequence numbers start.
func (p packedMasks) layout() (l, n, k, all, seqs int) {
	l, n, k = p.word(0), p.word(4), p.word(8)
	all = 12
	if k&packedOrg != 0 {
		all += l
	}
	seqs = all
	if k&packedAll != 0 {
		seqs += l
	}
	return l, n, k &^ (packedOrg | packedAll), all, seqs
}

// org returns the organization-scoped sets granted at the organization.
func (p packedMasks) org() mask {
	if p == "" || p.word(8)&packedOrg == 0 {
		return mask{}
	}
	return mask{string(p[12 : 12+p.word(0)])}
}

// all returns the project-scoped sets granted in all projects.
func (p packedMasks) all() mask {
	if p == "" || p.word(8)&packedAll == 0 {
		return mask{}
	}
	l, _, _, all, _ := p.layout()
	return mask{string(p[all : all+l])}
}

// idxWidth is the bytes of a mask index among k distinct masks.
func idxWidth(k int) int {
	switch {
	case k <= 1<<8:
		return 1
	case k <= 1<<16:
		return 2
	}
	return 4
}

// project returns the i-th project that rules list, and its mask.
func (p packedMasks) project(i int) (int32, mask) {
	l, n, k, _, seqs := p.layout()
	w := idxWidth(k)
	at := seqs + 4*n + w*i
	j := int(p[at])
	switch w {
	case 2:
		j |= int(p[at+1]) << 8
	case 4:
		j = p.word(at)
	}
	at = seqs + (4+w)*n + l*j
	return int32(p.word(seqs + 4*i)), mask{string(p[at : at+l])}
}

// inProject returns the mask granted in project seq by a rule listing it.
func (p packedMasks) inProject(seq int32) mask {
	if p == "" {
		return mask{}
	}
	_, n, _, _, seqs := p.layout()
	lo, hi := 0, n
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if int32(p.word(seqs+4*mid)) < seq {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	if lo < n && int32(p.word(seqs+4*lo)) == seq {
		_, m := p.project(lo)
		return m
	}
	return mask{}
}

// eachProject calls fn with every project that a rule listing it grants
// something in, and its mask.
func (p packedMasks) eachProject(fn func(seq int32, m mask)) {
	if p == "" {
		return
	}
	for i := range p.word(4) {
		fn(p.project(i))
	}
}

// ruleIndex is a holder's rules by the sets they name.
type ruleIndex struct {
	rules []setRule // sorted by set bit, then policy, then rule
	// starts holds, by set bit, where that set's entries start in rules;
	// starts[bit+1] is where they end. It stops after the highest bit
	// that rules name.
	starts []int32
}

// newRuleIndex indexes rules, sorting them in place.
func newRuleIndex(rules []setRule) *ruleIndex {
	slices.SortFunc(rules, func(x, y setRule) int {
		return cmp.Or(cmp.Compare(x.bit, y.bit), cmp.Compare(x.pol, y.pol), cmp.Compare(x.rule, y.rule))
	})
	ix := &ruleIndex{rules: rules}
	if len(rules) > 0 {
		ix.starts = make([]int32, rules[len(rules)-1].bit+2)
		for _, sr := range rules {
			ix.starts[sr.bit+1]++
		}
		for b := 1; b < len(ix.starts); b++ {
			ix.starts[b] += ix.starts[b-1]
		}
	}
	return ix
}

// setRule says that rule rule of policy pol (indexes into grants.pols and
// the policy's rules) names set bit, and where the rule may apply (see
// whereOf): a lookup by set skips the rules that name it elsewhere
// without reading them.
type setRule struct {
	bit, pol int32
	rule     uint16
	where    uint16
}

// A policy's rule index fits a setRule's 16 bits.
const _ uint16 = MaxRulesPerPolicy - 1

// whereOnOrg is the bit of where that says a rule is on the organization
// (so on every project too); the other fifteen say that it lists a
// project whose sequence number is that bit modulo 15.
const whereOnOrg = 1 << 15

// whereOf summarizes where rule r applies, for setRule.where.
func whereOf(r *crule) uint16 {
	if r.onOrg {
		return whereOnOrg
	}
	var w uint16
	for k := range r.projects() {
		w |= 1 << (uint32(r.project(k)) % 15)
	}
	return w
}

// mayApplyAt reports whether a rule of summary where may apply at project
// seq, or at the organization when seq < 0: false means it does not.
func mayApplyAt(where uint16, seq int32) bool {
	if seq < 0 {
		return where&whereOnOrg != 0
	}
	return where&(whereOnOrg|1<<(uint32(seq)%15)) != 0
}

// ruleRef names one rule of a holder's policies.
type ruleRef struct{ pol, rule int32 }

// bySetMin is the number of rules from which a user's or application's
// grants carry a set → rule index (bySet): below it, the slow paths read
// every rule, which costs less than the index would in memory (users and
// applications hold a few policies). A group's grants always carry one:
// every member's Explain reads them, and groups are few.
const bySetMin = 64

// rulesNaming appends to out the rules naming set bit; when here is
// set, only those that may apply at project seq (the organization when
// seq < 0; see mayApplyAt).
func (g *grants) rulesNaming(bit int32, here bool, seq int32, out []ruleRef) []ruleRef {
	ix := g.bySet
	if int(bit)+1 >= len(ix.starts) {
		return out
	}
	for _, sr := range ix.rules[ix.starts[bit]:ix.starts[bit+1]] {
		if !here || mayApplyAt(sr.where, seq) {
			out = append(out, ruleRef{sr.pol, int32(sr.rule)})
		}
	}
	return out
}

// rule returns the rule that ref names.
func (g *grants) rule(ref ruleRef) crule { return g.pols[ref.pol].rule(int(ref.rule)) }

// roster is what the reverse queries read of one organization beside its
// orgIndex, kept apart from it so that a change to these lists never
// rebuilds the orgIndex that every project entry points to. Each list is
// an immutable ordered map or set, which an edit copies only in part.
type roster struct {
	owner   string                  // the owner's user ID, or ""
	users   cowmap.Sorted[struct{}] // users that are not locked
	apps    cowmap.Sorted[struct{}] // applications that are not managed
	managed cowmap.Sorted[struct{}] // managed applications
	// asPrincipals caches users and apps as principals for WhoCan (see
	// principalLists); nil: none (a roster whose lists never changed).
	asPrincipals *principalLists
	projects     cowmap.Sorted[int32] // project ID → sequence number

	// The reverse index of the users' and applications' own grants, for
	// WhoCan: each holder (a user or application that policies name) has
	// a number; granted holds, by set bit, the holders whose unconditional
	// rules grant that set, with where (grantEntry); conditional lists the
	// holders with a conditional rule.
	holders     cowmap.Vec[*grants] // by holder number; nil: free
	granted     cowmap.Vec[cowmap.Set[uint64]]
	conditional cowmap.Set[int32]
}

// holder returns the user or application whose grants g are: the
// principal of its policies (a holder's grants list at least one).
func (g *grants) holder() Principal { return g.pols[0].holder() }

var emptyRoster = &roster{}

// roster returns the roster of organization id (an empty one if unknown).
func (s *snapshot) roster(id string) *roster {
	if r, ok := s.rosters.Get(id); ok {
		return r
	}
	return emptyRoster
}

// The scopes of the reverse index: a set granted at the organization, in
// all projects (a rule on the organization), or in one listed project.
const (
	scopeOrg = -2
	scopeAll = -1
)

// grantEntry is the reverse index's entry of holder num granted a set in
// scope (a project's sequence number, scopeOrg or scopeAll): entries sort
// by scope, then applications before users (userEntry), then holder, so
// that the holders of one scope are a range, and its applications the
// start of that range.
func grantEntry(scope, num int32) uint64 {
	e := uint64(uint32(scope))<<32 | uint64(uint32(num))
	if num&1 == 0 { // a user
		e |= userEntry
	}
	return e
}

// userEntry marks the entries of users (see grantEntry).
const userEntry = 1 << 31

// entryHolder returns the holder number of entry e.
func entryHolder(e uint64) int32 { return int32(uint32(e) &^ userEntry) }

// scopeRange returns the bounds of scope's entries, or of its
// applications' only (hi nil: to the end).
func scopeRange(scope int32, appsOnly bool) (lo uint64, hi *uint64) {
	lo = uint64(uint32(scope)) << 32
	switch {
	case appsOnly:
		h := lo | userEntry
		hi = &h
	case uint32(scope) != ^uint32(0):
		h := uint64(uint32(scope+1)) << 32
		hi = &h
	}
	return lo, hi
}
