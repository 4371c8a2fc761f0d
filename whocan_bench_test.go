package iam_test

import (
	"context"
	"testing"

	"github.com/iamkit/iam"
)

// BenchmarkWhoCanAnswerCopy is the floor under BenchmarkWhoCan: making a
// caller's own copy of answers as long as WhoCan's (those of the first
// requests), with no work to find them.
func BenchmarkWhoCanAnswerCopy(b *testing.B) {
	ctx := context.Background()
	forSizes(b, func(b *testing.B, w *benchWorld) {
		var answers [][]iam.Principal
		n := 0
		for _, r := range w.reqs[:min(16, len(w.reqs))] {
			got, err := w.ev.WhoCan(ctx, iam.Request{ProjectID: r.ProjectID, OrganizationID: r.OrganizationID, Permission: r.Permission})
			if err != nil {
				b.Fatal(err)
			}
			answers = append(answers, got)
			n += len(got)
		}
		b.ReportMetric(float64(n)/float64(len(answers)), "principals/answer")
		b.ReportAllocs()
		b.ResetTimer()
		i := 0
		for b.Loop() {
			a := answers[i]
			answerSink = append(make([]iam.Principal, 0, len(a)), a...)
			i = (i + 1) % len(answers)
		}
	})
}

var answerSink []iam.Principal
