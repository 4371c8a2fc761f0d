package iamtest

import (
	"context"
	"errors"
	"testing"

	"github.com/iamkit/iam"
)

// Allowed checks req with ev and fails the test unless it is allowed. The
// failure message is ev's explanation of req: why nothing granted it, and
// where the caller does hold it. It returns the decision.
func Allowed(tb testing.TB, ev *iam.Evaluator, req iam.Request) iam.Decision {
	tb.Helper()
	dec, err := ev.Check(context.Background(), req)
	switch {
	case err != nil:
		tb.Errorf("iamtest: want %s allowed, but the check failed: %v", describe(req), err)
	case !dec.Allowed:
		tb.Errorf("iamtest: want allowed, got denied (%s):\n%s", dec.Reason, explain(ev, req))
	}
	return dec
}

// Denied checks req with ev and fails the test unless it is denied (a
// decision, not an error: see CheckFails). The failure message is ev's
// explanation of req: every grant that allows it. It returns the
// decision, whose Reason says why it was denied.
func Denied(tb testing.TB, ev *iam.Evaluator, req iam.Request) iam.Decision {
	tb.Helper()
	dec, err := ev.Check(context.Background(), req)
	switch {
	case err != nil:
		tb.Errorf("iamtest: want %s denied, but the check failed: %v", describe(req), err)
	case dec.Allowed:
		tb.Errorf("iamtest: want denied, got allowed (%s):\n%s", dec.Reason, explain(ev, req))
	}
	return dec
}

// CheckFails checks req with ev and fails the test unless the check
// returns an error matching want (errors.Is): iam.ErrNotFound for an
// unknown project, iam.ErrUnknownPermission for a permission the
// catalogue does not know... It returns the error.
func CheckFails(tb testing.TB, ev *iam.Evaluator, req iam.Request, want error) error {
	tb.Helper()
	dec, err := ev.Check(context.Background(), req)
	switch {
	case err == nil && dec.Allowed:
		tb.Errorf("iamtest: want an error matching %v, got allowed (%s):\n%s", want, dec.Reason, explain(ev, req))
	case err == nil:
		tb.Errorf("iamtest: want an error matching %v, got denied (%s):\n%s", want, dec.Reason, explain(ev, req))
	case !errors.Is(err, want):
		tb.Errorf("iamtest: want %s to fail with an error matching %v, got: %v", describe(req), want, err)
	}
	return err
}

// explain renders ev's explanation of req.
func explain(ev *iam.Evaluator, req iam.Request) string {
	x, err := ev.Explain(context.Background(), req)
	if err != nil {
		return "(no explanation: " + err.Error() + ")"
	}
	return x.String()
}

// describe renders req in one line, as an explanation's first line does.
func describe(req iam.Request) string {
	target := "project " + req.ProjectID
	if req.ProjectID == "" {
		target = "organization " + req.OrganizationID
	}
	return req.Principal.String() + " " + req.Permission + " in " + target
}
