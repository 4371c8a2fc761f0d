package bench

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// benchRequests is how many requests World.Requests draws for a size's
// benchmark sample; those iam answers with an error (about one in six)
// are dropped, and every engine cycles over the rest in the same order.
const benchRequests = 4096

// benchSizes are the numbers of principals of the compared worlds (see
// worldConfig). BENCH_PRINCIPALS (comma-separated) replaces them, for
// example BENCH_PRINCIPALS=1000,100000,1000000.
func benchSizes(b *testing.B) []int {
	env := os.Getenv("BENCH_PRINCIPALS")
	if env == "" {
		return []int{1_000, 100_000}
	}
	var out []int
	for _, s := range strings.Split(env, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			b.Fatalf("BENCH_PRINCIPALS=%q: want principal counts separated by commas", env)
		}
		out = append(out, n)
	}
	return out
}

// sizeLimits bound the worlds an engine is benchmarked on, where a run
// beyond them would not finish in reasonable time. Both Casbin and
// cedar-go evaluate every policy on every check, so a check grows
// linearly with the world; the reasons give what was measured (README.md
// has the numbers).
var sizeLimits = map[string]struct {
	principals int
	why        string
}{
	engineCasbin: {100_000, "a check walks every policy line of the request's domain and more " +
		"(0.36 s a check at 100k principals, 3.3e5 lines; setup 4.3 s), so at 1M one check would take " +
		"seconds and a -count 6 run many minutes; largest size measured: 100,000 principals"},
	engineCedar: {100_000, "cedar-go evaluates every policy on every check (0.5 s a check at 100k " +
		"principals, 1.3e5 policies; setup 10 s), so at 1M one check would take seconds; " +
		"largest size measured: 100,000 principals"},
}

// spotChecks is how many requests of the sample each engine must answer as
// iam does before it is timed (the agreement test compares far more);
// slowChecks is that number for engines at hundreds of ms a check.
const (
	spotChecks = 200
	slowChecks = 10
)

// BenchmarkPeers times one check of each engine, cycling over the same
// fixed sample of allow and deny requests, on worlds of 1,000 and 100,000
// principals. Worlds, samples and engines are built once per size and
// reused across -count; building them is never timed (b.Loop starts the
// clock at its first call). The engine's form of each request is prepared
// beforehand, so a check is the engine's own work alone.
func BenchmarkPeers(b *testing.B) {
	for _, name := range engines {
		b.Run("engine="+name, func(b *testing.B) {
			for _, n := range benchSizes(b) {
				b.Run(fmt.Sprintf("principals=%d", n), func(b *testing.B) {
					if lim, ok := sizeLimits[name]; ok && n > lim.principals {
						b.Skipf("%s: skipped at %d principals: %s", name, n, lim.why)
					}
					benchPeer(b, name, getFixture(b, n, benchRequests))
				})
			}
		})
	}
}

func benchPeer(b *testing.B, name string, f *fixture) {
	e := f.entry(name)
	if e.err != nil {
		b.Fatalf("%s: %v", name, e.err)
	}
	p := e.p
	if !e.verified {
		spot := spotChecks
		if name == engineCasbin || name == engineCedar && f.principals > 10_000 {
			spot = slowChecks
		}
		spot = min(spot, len(f.reqs))
		start := time.Now()
		for i := range spot {
			got, err := p.check(i)
			if err != nil || got != f.want[i] {
				b.Fatalf("before timing, %s", f.disagreement(i, name, p, got, err))
			}
		}
		e.verified = true
		b.Logf("%s at %d principals: setup %v (world, iam and sample: %v); %d requests in the sample; %d answered as iam does in %v",
			name, f.principals, e.setup.Round(time.Millisecond), f.setup.Round(time.Millisecond), len(f.reqs), spot, time.Since(start).Round(time.Millisecond))
	}

	b.ReportAllocs()
	i, n := e.cursor, len(f.reqs)
	for b.Loop() {
		if _, err := p.check(i); err != nil {
			b.Fatal(err)
		}
		if i++; i == n {
			i = 0
		}
	}
	e.cursor = i
}
