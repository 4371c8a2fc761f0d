package bench

import (
	"testing"
	"time"

	"github.com/iamkit/iam"
)

// TestAgreement checks that every engine answers as iam's Evaluator does on
// generated requests (those iam answers with allow or deny; about 2,500 per
// world), on a small world and on one of 1,000 principals. A disagreement
// is reported with the request, every answer, iam's explanation, the
// model's reading of the caller's policies and the engine's own account.
//
// Engines run in parallel. Casbin, at about 10 ms a check at 1,000
// principals, compares every k-th request of the sample only, and under
// -race (several times slower) every engine does; agreementChecks says how
// many.
func TestAgreement(t *testing.T) {
	for _, tc := range []struct {
		name                 string
		principals, requests int
	}{
		{"principals=200", 200, 3000},
		{"principals=1000", 1000, 3000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := getFixture(t, tc.principals, tc.requests)
			checkSample(t, f)
			for _, name := range engines {
				t.Run("engine="+name, func(t *testing.T) {
					t.Parallel()
					p, setup, err := f.peer(name)
					if err != nil {
						t.Fatalf("%s: %v", name, err)
					}
					defer f.drop(name)
					budget := agreementChecks(name, tc.principals)
					stride := max(1, (len(f.reqs)+budget-1)/budget)
					bad, n := 0, 0
					for i := 0; i < len(f.reqs); i += stride {
						n++
						got, err := p.check(i)
						if err == nil && got == f.want[i] {
							continue
						}
						bad++
						if bad <= 5 {
							t.Error(f.disagreement(i, name, p, got, err))
						}
					}
					if bad > 0 {
						t.Errorf("%s disagrees with iam on %d of %d requests", name, bad, n)
					}
					t.Logf("%s: %d of %d requests agree; setup %v", name, n-bad, n, setup.Round(time.Millisecond))
				})
			}
		})
	}
}

// agreementChecks bounds the requests an engine answers in TestAgreement,
// so that the test stays well under two minutes with -race on two cores.
func agreementChecks(engine string, principals int) int {
	switch {
	case engine == engineCasbin && raceEnabled:
		return 120_000 / principals // 600 at 200 principals, 120 at 1,000
	case engine == engineCasbin:
		return 400_000 / principals // 2,000 at 200, 400 at 1,000
	case raceEnabled:
		return 1_500 // every other request
	}
	return 1 << 30
}

// checkSample makes sure the sample exercises what the translations must
// get right: every kind of caller, both kinds of target and permission,
// allows and denies, and each of the reasons that settle a check before
// the grants are read.
func checkSample(t *testing.T, f *fixture) {
	t.Helper()
	counts := map[string]int{}
	for i := range f.reqs {
		r := &f.reqs[i]
		counts["caller "+r.Principal.Type.String()]++
		if r.ProjectID != "" {
			counts["target project"]++
		} else {
			counts["target organization"]++
		}
		if iam.IsPermission(r.Permission) {
			counts["triple"]++
		} else {
			counts["set name"]++
		}
		if f.want[i] {
			counts["allowed"]++
		} else {
			counts["denied"]++
		}
		c, expired := f.m.caller(r.Principal)
		if c == nil {
			t.Fatalf("request %d: iam answers for caller %s, which the model does not know", i, r.Principal)
		}
		org, _ := f.m.targetOrg(r)
		switch {
		case c.org != org:
			counts["other organization"]++
		case expired:
			counts["expired key"]++
		case c.locked:
			counts["locked user"]++
		case c.owner:
			counts["owner"]++
		}
	}
	for _, k := range []string{"caller user", "caller application", "caller group", "caller api_key",
		"target project", "target organization", "triple", "set name", "allowed", "denied",
		"other organization", "expired key", "locked user", "owner"} {
		if counts[k] == 0 {
			t.Errorf("the sample has no request of kind %q", k)
		}
	}
	t.Logf("%d principals: %d requests compared (%d answered with an error left out): %v", f.principals, len(f.reqs), f.dropped, counts)
}
