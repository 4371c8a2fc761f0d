package main

import (
	"bytes"
	"image/png"
	"regexp"
	"slices"
	"strings"
	"testing"
)

const sample = `goos: linux
pkg: github.com/iamkit/iam/bench
BenchmarkPeers/engine=iam/principals=1000-2     	 2921012	       420.0 ns/op	       0 B/op	       0 allocs/op
--- BENCH: BenchmarkPeers/engine=iam/principals=1000-2
    bench_test.go:98: iam at 1000 principals: setup 36ms
BenchmarkPeers/engine=iam/principals=1000-2     	 2921012	       390.0 ns/op	       0 B/op	       0 allocs/op
BenchmarkPeers/engine=iam/principals=1000-2     	 2921012	       408.0 ns/op	       0 B/op	       0 allocs/op
BenchmarkPeers/engine=iam/principals=100000-2   	 1000000	      1000 ns/op	       0 B/op	       0 allocs/op
BenchmarkPeers/engine=iam/principals=100000-2   	 1000000	      1100 ns/op	       0 B/op	       0 allocs/op
BenchmarkPeers/engine=opa/principals=1000-2     	    5000	    253000 ns/op	   29696 B/op	     606 allocs/op
BenchmarkPeers/engine=casbin/principals=100000-2	       7	 169000000 ns/op
BenchmarkCheck/principals=1000-2                	 3000000	       350.0 ns/op	         0.6000 allowed-share
BenchmarkCheck/principals=10000-2               	 2000000	       610.0 ns/op	         0.6000 allowed-share
BenchmarkCheckParallel/principals=10000-2       	 2000000	       200.0 ns/op
BenchmarkBareMap/principals=10000-2             	20000000	        95.0 ns/op
PASS
`

func TestChart(t *testing.T) {
	samples := map[string][]float64{}
	if err := parseBench(strings.NewReader(sample), samples); err != nil {
		t.Fatal(err)
	}
	if n := len(samples["BenchmarkPeers/engine=iam/principals=1000-2"]); n != 3 {
		t.Fatalf("iam at 1000: %d samples, want 3", n)
	}
	patterns := []*regexp.Regexp{regexp.MustCompile(defaultMatch), regexp.MustCompile(defaultRoot)}
	rename := []map[string]string{{}, {"Check": "iam", "BareMap": "bare"}}
	ss := collect(samples, patterns, rename)

	// Medians: odd count (390, 408, 420), even count (1000, 1100), the
	// root's Check filling the size the peers lack but not the one they
	// have, CheckParallel left out, and the legend order.
	want := map[string][]point{
		"iam":    {{1000, 408, 3}, {10000, 610, 1}, {100000, 1050, 2}},
		"bare":   {{10000, 95, 1}},
		"casbin": {{100000, 169e6, 1}},
		"opa":    {{1000, 253000, 1}},
	}
	var order []string
	for _, s := range ss {
		order = append(order, s.engine)
		if got := s.points; !slices.Equal(got, want[s.engine]) {
			t.Errorf("%s: got %v, want %v", s.engine, got, want[s.engine])
		}
	}
	if got := strings.Join(order, ","); got != "iam,bare,casbin,opa" {
		t.Errorf("engines %s, want iam,bare,casbin,opa", got)
	}

	var buf bytes.Buffer
	if err := writePNG(&buf, ss, "ns per check vs world size", 800, 500); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 800 || b.Dy() != 500 {
		t.Fatalf("image is %v, want 800x500", b)
	}
}
