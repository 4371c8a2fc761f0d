// Command chart draws "ns per check vs world size" from `go test -bench`
// output, as a PNG with log scales on both axes and one line per engine.
// It uses the standard library only, with a built-in 5x7 bitmap font.
//
// To regenerate the chart in docs/, from the bench module:
//
//	cd bench
//	go test -run '^$' -bench Peers -benchmem -count 6 | tee new.txt
//	go run ./chart -in new.txt -out ../docs/check-vs-size.png
//
// -in may be repeated (and is stdin when absent). Each benchmark name's
// ns/op is the median of its samples across every input, so -count
// repeats and several runs pool. A series point comes from a name matching
// -match, whose groups are the engine and the principals; or, failing
// that, from one matching -root, whose first group is renamed by
// -rootnames. So the root module's BenchmarkCheck and BenchmarkBareMap
// add iam and bare at the root's sizes (1k, 10k, 100k), where the peers'
// run has no point of its own:
//
//	(cd .. && go test -run '^$' -bench '^Benchmark(Check|BareMap)$' -count 6) > root.txt
//	go run ./chart -in new.txt -in root.txt -out ../docs/check-vs-size.png
//
// The table of medians that is drawn is printed on stderr.
package main

import (
	"bufio"
	"cmp"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Defaults of -match, -root and -rootnames.
const (
	defaultMatch     = `^BenchmarkPeers/engine=([^/]+)/principals=(\d+)`
	defaultRoot      = `^Benchmark(Check|BareMap)/principals=(\d+)`
	defaultRootNames = "Check=iam,BareMap=bare"
)

// point is one engine's median time per check at one world size.
type point struct {
	size, ns float64
	samples  int
}

// series is one engine's points, by increasing size.
type series struct {
	engine string
	points []point
}

func main() {
	var ins []string
	flag.Func("in", "`file` of go test -bench output (repeatable; default stdin)", func(s string) error {
		ins = append(ins, s)
		return nil
	})
	out := flag.String("out", "check-vs-size.png", "PNG `file` to write (its directory is created)")
	match := flag.String("match", defaultMatch, "`regexp` on benchmark names: group 1 the engine, group 2 the principals")
	root := flag.String("root", defaultRoot, "second `regexp`, for the root module's benchmarks (empty: none)")
	rootNames := flag.String("rootnames", defaultRootNames, "engine names for -root's group 1, as `old=new,...`")
	title := flag.String("title", "ns per check vs world size", "chart title")
	width := flag.Int("width", 960, "width in pixels")
	height := flag.Int("height", 600, "height in pixels")
	flag.Parse()
	if err := run(ins, *out, *match, *root, *rootNames, *title, *width, *height); err != nil {
		fmt.Fprintln(os.Stderr, "chart:", err)
		os.Exit(1)
	}
}

func run(ins []string, out, match, root, rootNames, title string, w, h int) error {
	samples := map[string][]float64{}
	if len(ins) == 0 {
		if err := parseBench(os.Stdin, samples); err != nil {
			return fmt.Errorf("stdin: %w", err)
		}
	}
	for _, name := range ins {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		err = parseBench(f, samples)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	var patterns []*regexp.Regexp
	var rename []map[string]string
	for i, expr := range []string{match, root} {
		if expr == "" {
			continue
		}
		re, err := regexp.Compile(expr)
		if err != nil {
			return err
		}
		if re.NumSubexp() < 2 {
			return fmt.Errorf("%q: want two groups, the engine and the principals", expr)
		}
		names := map[string]string{}
		for kv := range strings.SplitSeq(rootNames, ",") {
			if old, name, ok := strings.Cut(kv, "="); ok && i == 1 {
				names[strings.TrimSpace(old)] = strings.TrimSpace(name)
			}
		}
		patterns, rename = append(patterns, re), append(rename, names)
	}
	ss := collect(samples, patterns, rename)
	if len(ss) == 0 {
		return fmt.Errorf("no benchmark matches %q or %q", match, root)
	}
	for _, s := range ss {
		for _, p := range s.points {
			fmt.Fprintf(os.Stderr, "%-8s %10.0f principals %14.1f ns/op (median of %d)\n", s.engine, p.size, p.ns, p.samples)
		}
	}
	if dir := filepath.Dir(out); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	if err := writePNG(f, ss, title, w, h); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// parseBench adds the ns/op of every benchmark result line in r
// ("BenchmarkX-2  1000  408.2 ns/op  0 B/op ...") to samples, by name.
func parseBench(r io.Reader, samples map[string][]float64) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		if _, err := strconv.ParseInt(f[1], 10, 64); err != nil {
			continue // not a result line, e.g. a log line
		}
		for i := 3; i < len(f); i++ {
			if f[i] == "ns/op" {
				if v, err := strconv.ParseFloat(f[i-1], 64); err == nil {
					samples[f[0]] = append(samples[f[0]], v)
				}
				break
			}
		}
	}
	return sc.Err()
}

// median is the middle value of xs (the mean of the two middle ones when
// their number is even), sorting xs in place.
func median(xs []float64) float64 {
	sort.Float64s(xs)
	n := len(xs)
	if n%2 == 1 {
		return xs[n/2]
	}
	return (xs[n/2-1] + xs[n/2]) / 2
}

// collect turns the samples of the benchmark names that match a pattern
// (group 1 the engine, renamed by rename[i] if there, group 2 the
// principals) into series, in legend order. An (engine, size) pair that
// several names give is taken from the earliest pattern, then the first
// name in sorted order; the others are reported on stderr and left out.
func collect(samples map[string][]float64, patterns []*regexp.Regexp, rename []map[string]string) []series {
	type key struct {
		engine string
		size   float64
	}
	from := map[key]string{}
	byEngine := map[string][]point{}
	for i, re := range patterns {
		for _, name := range slices.Sorted(maps.Keys(samples)) {
			m := re.FindStringSubmatch(name)
			if m == nil {
				continue
			}
			size, err := strconv.ParseFloat(m[2], 64)
			ns := median(samples[name])
			if err != nil || size <= 0 || ns <= 0 {
				continue
			}
			engine := cmp.Or(rename[i][m[1]], m[1])
			if prev, ok := from[key{engine, size}]; ok {
				fmt.Fprintf(os.Stderr, "chart: %s at %g principals: using %s, not %s\n", engine, size, prev, name)
				continue
			}
			from[key{engine, size}] = name
			byEngine[engine] = append(byEngine[engine], point{size, ns, len(samples[name])})
		}
	}
	var ss []series
	for engine, ps := range byEngine {
		sort.Slice(ps, func(i, j int) bool { return ps[i].size < ps[j].size })
		ss = append(ss, series{engine, ps})
	}
	sort.Slice(ss, func(i, j int) bool { return engineLess(ss[i].engine, ss[j].engine) })
	return ss
}

// knownEngines fixes the legend order and colours of the README's engines.
var knownEngines = []string{"iam", "bare", "casbin", "cedar", "opa"}

func engineLess(a, b string) bool {
	ia, ib := slices.Index(knownEngines, a), slices.Index(knownEngines, b)
	switch {
	case ia >= 0 && ib >= 0:
		return ia < ib
	case ia >= 0 || ib >= 0:
		return ia >= 0
	}
	return a < b
}
