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
// snapshot besides the grants (each organization's roster and its groups'
// members) in a canonical form, so that a test can compare an
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
		for k, typ := range r.holders.All() {
			fmt.Fprintf(&b, "  holder %s %v\n", k, typ)
		}
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
