package iam

import (
	"fmt"
	"slices"
	"strings"

	"github.com/iamkit/iam/internal/introspect"
)

// The test harnesses under internal/ read the reverse queries' state
// through introspect.ReverseState.
func init() {
	introspect.ReverseState = func(ev any) string { return reverseState(ev.(*Evaluator)) }
}

// reverseState renders what the reverse queries read of e's published
// snapshot besides the grants (each organization's roster, its reverse
// index of granted sets, and its groups' members) in a canonical form, so
// that a test can compare an
// incrementally maintained Evaluator with one built from scratch. It also
// reports a roster whose project sequence numbers disagree with the
// project entries that checks read.
func reverseState(e *Evaluator) string {
	s := e.snap.Load()
	var orgs []string
	s.rosters.Range(func(id string, _ *roster) bool {
		orgs = append(orgs, id)
		return true
	})
	slices.Sort(orgs)
	var b strings.Builder
	keys := func(all func(func(string) bool)) []string {
		var out []string
		all(func(k string) bool { out = append(out, k); return true })
		return out
	}
	for _, id := range orgs {
		r := s.roster(id)
		fmt.Fprintf(&b, "org %s: owner %q\n", id, r.owner)
		fmt.Fprintf(&b, "  users %v\n", keys(func(y func(string) bool) {
			for k := range r.users.All() {
				if !y(k) {
					return
				}
			}
		}))
		fmt.Fprintf(&b, "  apps %v\n", keys(func(y func(string) bool) {
			for k := range r.apps.All() {
				if !y(k) {
					return
				}
			}
		}))
		fmt.Fprintf(&b, "  managed apps %v\n", keys(func(y func(string) bool) {
			for k := range r.managed.All() {
				if !y(k) {
					return
				}
			}
		}))
		b.WriteString(reverseIndexState(r))
		for k, seq := range r.projects.All() {
			fmt.Fprintf(&b, "  project %s\n", k)
			if p, ok := s.projects.Get(k); !ok || p.seq != seq || p.org.id != id {
				fmt.Fprintf(&b, "  project %s: the roster says seq %d, the index %v %d %v\n", k, seq, ok, p.seq, p.org)
			}
		}
		org, ok := s.orgs.Get(id)
		if !ok {
			fmt.Fprintf(&b, "  no org index\n")
			continue
		}
		var groups []string
		for seq, gid := range org.groupIDs {
			if gid == "" {
				continue
			}
			m := org.members[seq]
			groups = append(groups, fmt.Sprintf("  group %s: users %v apps %v all users %v all apps %v\n",
				gid, slices.Sorted(slices.Values(m.users)), slices.Sorted(slices.Values(m.apps)), m.allUsers, m.allApps))
		}
		slices.Sort(groups)
		b.WriteString(strings.Join(groups, ""))
	}
	return b.String()
}

// reverseIndexState renders roster r's holders and its reverse index by
// IDs and names, never by the numbers an index gives (which depend on the
// order of the writes).
func reverseIndexState(r *roster) string {
	var lines []string
	ids := func(nums []int32) []string {
		var out []string
		for _, num := range nums {
			out = append(out, r.holders.At(int(num)).holder().String())
		}
		slices.Sort(out)
		return out
	}
	for i := range r.holders.Len() {
		if g := r.holders.At(i); g != nil {
			lines = append(lines, fmt.Sprintf("  holder %s\n", g.holder()))
		}
	}
	project := map[int32]string{}
	for id, seq := range r.projects.All() {
		project[seq] = id
	}
	for bit := range r.granted.Len() {
		byScope := map[int32][]int32{}
		for e := range r.granted.At(bit).All() {
			byScope[int32(e>>32)] = append(byScope[int32(e>>32)], entryHolder(e))
		}
		for scope, nums := range byScope {
			where := project[scope]
			switch scope {
			case scopeOrg:
				where = "the organization"
			case scopeAll:
				where = "all projects"
			}
			lines = append(lines, fmt.Sprintf("  granted set %d in %s: %v\n", bit, where, ids(nums)))
		}
	}
	lines = append(lines, fmt.Sprintf("  conditional: %v\n", ids(slices.Collect(r.conditional.All()))))
	slices.Sort(lines)
	return strings.Join(lines, "")
}
