package differential

import (
	"context"
	"fmt"
	"iter"
	"slices"

	"github.com/iamkit/iam"
	"github.com/iamkit/iam/internal/introspect"
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
