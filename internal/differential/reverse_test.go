package differential

import (
	"cmp"
	"context"
	"fmt"
	"iter"
	"slices"
	"strings"

	"github.com/iamkit/iam"
	"github.com/iamkit/iam/internal/gen"
	"github.com/iamkit/iam/internal/introspect"
	"github.com/iamkit/iam/internal/reference"
)

// diffReverse compares the reverse queries of an incrementally maintained
// Evaluator with those of one built from scratch, for the targets,
// principals and permissions of the first requests of reqs (the
// differential tests' random writes call it after every step): what the
// reverse queries read (rosters, group members) is maintained
// incrementally too. It returns the first disagreement, or "".
func diffReverse(ctx context.Context, inc, fresh *iam.Evaluator, reqs []iam.Request) string {
	show := func(v any, err error) string {
		if err != nil {
			return "error " + err.Error()
		}
		return fmt.Sprint(v)
	}
	if a, b := introspect.ReverseState(inc), introspect.ReverseState(fresh); a != b {
		return fmt.Sprintf("what the reverse queries read differs:\nincremental:\n%sfrom scratch:\n%s", a, b)
	}
	for i, req := range reqs {
		if i == 8 {
			break
		}
		who := iam.Request{ProjectID: req.ProjectID, OrganizationID: req.OrganizationID, Permission: req.Permission, IP: req.IP, Time: req.Time}
		a, errA := inc.WhoCan(ctx, who)
		b, errB := fresh.WhoCan(ctx, who)
		if x, y := show(a, errA), show(b, errB); x != y {
			return fmt.Sprintf("WhoCan(%s): incremental %s, from scratch %s", reqString(who), x, y)
		}
		seq, errS := inc.WhoCanSeq(ctx, who)
		if x, y := show(a, errA), show(collect(seq), errS); x != y {
			return fmt.Sprintf("WhoCan(%s) %s, WhoCanSeq %s", reqString(who), x, y)
		}
		where := iam.Request{Principal: req.Principal, Permission: req.Permission, IP: req.IP, Time: req.Time}
		c, errC := inc.WhereCan(ctx, where)
		d, errD := fresh.WhereCan(ctx, where)
		if x, y := show(c, errC), show(d, errD); x != y {
			return fmt.Sprintf("WhereCan(%s): incremental %s, from scratch %s", reqString(where), x, y)
		}
	}
	return ""
}

// collect is slices.Collect, with a nil sequence (returned with an error)
// collected as nil.
func collect(seq iter.Seq[iam.Principal]) []iam.Principal {
	if seq == nil {
		return nil
	}
	return slices.Collect(seq)
}

// diffExplain compares, for each request of reqs, the rules that
// Explain lists as granting with those the reference finds granting (every
// rule of every policy of the caller and its groups whose scope covers the
// target, whose condition holds and one of whose sets grants), and
// Explain's decision with the reference's. It returns the first
// disagreement, or "".
func diffExplain(ctx context.Context, ev *iam.Evaluator, ref *reference.Evaluator, reqs []iam.Request) string {
	for _, req := range reqs {
		x, err := ev.Explain(ctx, req)
		ok, refs, rerr := ref.Grants(ctx, req)
		if reference.ErrClass(err) != reference.ErrClass(rerr) || x.Decision.Allowed != ok {
			return fmt.Sprintf("Explain(%s): allowed=%v, error %v; the reference: allowed=%v, error %v\n%s", reqString(req), x.Decision.Allowed, err, ok, rerr, x)
		}
		if err != nil || x.Decision.Reason == iam.ReasonOwner {
			continue
		}
		var got, want []string
		for _, g := range x.Grants {
			got = append(got, fmt.Sprintf("%v %s#%d", g.Principal, g.PolicyID, g.Rule))
		}
		for _, r := range refs {
			want = append(want, fmt.Sprintf("%v %s#%d", r.Holder, r.PolicyID, r.Rule))
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			return fmt.Sprintf("Explain(%s) lists the grants %q, the reference %q\n%s", reqString(req), got, want, x)
		}
	}
	return ""
}

// diffWhoCan compares, for the targets and permissions of the first
// requests of reqs, WhoCan and WhoCanSeq with the principals of w (the
// store's contents) that the reference allows: every user and
// application of the target's organization, asked one by one. It returns
// the first disagreement, or "".
func diffWhoCan(ctx context.Context, ev *iam.Evaluator, ref *reference.Evaluator, w *gen.World, reqs []iam.Request) string {
	for i, req := range reqs {
		if i == 3 {
			break
		}
		who := iam.Request{ProjectID: req.ProjectID, OrganizationID: req.OrganizationID, Permission: req.Permission, IP: req.IP, Time: req.Time}
		got, err := ev.WhoCan(ctx, who)
		if err != nil {
			continue // Check's errors, compared with the reference's elsewhere
		}
		org := who.OrganizationID
		for _, p := range w.Projects {
			if p.ID == who.ProjectID {
				org = p.OrganizationID
			}
		}
		var want []iam.Principal
		try := func(p iam.Principal) {
			ask := who
			ask.Principal = p
			if ok, err := ref.Check(ctx, ask); ok && err == nil {
				want = append(want, p)
			}
		}
		for _, u := range w.Users {
			if u.OrganizationID == org {
				try(iam.UserPrincipal(u.ID))
			}
		}
		for _, a := range w.Applications {
			if a.OrganizationID == org {
				try(iam.ApplicationPrincipal(a.ID))
			}
		}
		slices.SortFunc(want, func(a, b iam.Principal) int {
			return cmp.Or(cmp.Compare(a.Type, b.Type), strings.Compare(a.ID, b.ID))
		})
		if !slices.Equal(got, want) {
			return fmt.Sprintf("WhoCan(%s) answers %v, the reference %v", reqString(who), got, want)
		}
		seq, err := ev.WhoCanSeq(ctx, who)
		if s := collect(seq); err != nil || !slices.Equal(s, want) {
			return fmt.Sprintf("WhoCanSeq(%s) yields %v (error %v), the reference %v", reqString(who), s, err, want)
		}
	}
	return ""
}
