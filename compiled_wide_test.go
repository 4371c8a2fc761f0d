package iam_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/iamkit/iam"
	"github.com/iamkit/iam/internal/reference"
)

// TestEveryRuleOfALargePolicyGrantsWhereItSays: a policy of
// MaxRulesPerPolicy rules each listing hundreds of projects (more than
// 65,535 numbers in all, so the index keeps its rules in the wide form),
// one of 63 rules (below the size from which a holder's rules are indexed
// by set) and one of 64, held by users and a group: every rule grants its
// set in exactly the projects it lists, never organization-wide; Check,
// Explain (which lists exactly the rules that grant, as the reference
// finds them) and WhoCan agree.
func TestEveryRuleOfALargePolicyGrantsWhereItSays(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	projects := distinctProjects(t, w, iam.MaxProjectsPerRule)
	sets := distinctSets(t, w, iam.MaxRulesPerPolicy)
	// Rule i names set i and lists every project but project i; every
	// 50th rule is on the organization instead (all projects).
	rules := make([]iam.Rule, iam.MaxRulesPerPolicy)
	for i := range rules {
		if i%50 == 49 {
			rules[i] = onOrg(w.org, sets[i])
			continue
		}
		rules[i] = onProjects(slices.Concat(projects[:i], projects[i+1:]), sets[i])
	}
	for _, id := range []string{"big", "u63", "u64", "member"} {
		w.user(w.org, id)
	}
	w.group(iam.Group{ID: "g", OrganizationID: w.org, Name: "G", UserIDs: ids("member")})
	w.policy(w.org, "pol-big", iam.UserPrincipal("big"), rules...)
	w.policy(w.org, "pol-63", iam.UserPrincipal("u63"), rules[:63]...)
	w.policy(w.org, "pol-64", iam.UserPrincipal("u64"), rules[:64]...)
	w.policy(w.org, "pol-g", iam.GroupPrincipal("g"), rules[100:]...)
	ref := &reference.Evaluator{Store: w.store, Now: w.clock.Now, Memo: true}

	holds := map[string]func(i int) bool{
		"big": func(int) bool { return true },
		"u63": func(i int) bool { return i < 63 },
		"u64": func(i int) bool { return i < 64 },
		"g":   func(i int) bool { return i >= 100 },
	}
	callers := map[string]iam.Principal{"big": iam.UserPrincipal("big"), "u63": iam.UserPrincipal("u63"), "u64": iam.UserPrincipal("u64"), "g": iam.GroupPrincipal("g")}
	for i := range rules {
		perm := fmt.Sprintf("acme:bound%d:read", i)
		onOrgRule := i%50 == 49
		for _, tc := range []struct {
			target iam.Request
			listed bool
		}{
			{inProject(iam.Principal{}, projects[i], perm), onOrgRule},
			{inProject(iam.Principal{}, projects[(i+1)%len(projects)], perm), true},
			{inProject(iam.Principal{}, projects[len(projects)-1], perm), true},
			{atOrg(iam.Principal{}, w.org, perm), onOrgRule},
		} {
			for name, p := range callers {
				req := tc.target
				req.Principal = p
				want := tc.listed && holds[name](i)
				d, err := w.ev.Check(w.ctx, req)
				require.NoError(t, err)
				require.Equal(t, want, d.Allowed, "Check %+v (rule %d)", req, i)
				refOK, refs, err := ref.Grants(w.ctx, req)
				require.NoError(t, err)
				require.Equal(t, want, refOK, "the reference on %+v", req)
				x, err := w.ev.Explain(w.ctx, req)
				require.NoError(t, err)
				require.Equal(t, want, x.Decision.Allowed, "Explain %+v", req)
				var got, wantRefs []string
				for _, g := range x.Grants {
					got = append(got, fmt.Sprintf("%v %s#%d %s", g.Principal, g.PolicyID, g.Rule, g.PermissionSet))
				}
				for _, r := range refs {
					wantRefs = append(wantRefs, fmt.Sprintf("%v %s#%d %s", r.Holder, r.PolicyID, r.Rule, sets[i]))
				}
				require.ElementsMatch(t, wantRefs, got, "Explain's grants for %+v", req)
			}
			who, err := w.ev.WhoCan(w.ctx, tc.target)
			require.NoError(t, err)
			var wantWho []iam.Principal
			for _, id := range []string{w.owner, "big", "u63", "u64", "member"} {
				if id == w.owner || id == "member" && tc.listed && holds["g"](i) || id != "member" && tc.listed && holds[id](i) {
					wantWho = append(wantWho, iam.UserPrincipal(id))
				}
			}
			slices.SortFunc(wantWho, func(a, b iam.Principal) int { return strings.Compare(a.ID, b.ID) })
			require.Equal(t, wantWho, who, "WhoCan %+v", tc.target)
		}
	}
}
