package cowmap

import (
	"strconv"
	"testing"
)

type fat struct {
	a, b, c, d, e, f, g, h, i, j, k, l int64
	s                                  string
}

// BenchmarkEditOne derives a new map with one value replaced, as an index
// write does, at 100k entries.
func BenchmarkEditOne(b *testing.B) {
	e := Map[fat]{}.Edit()
	for i := 0; i < 100_000; i++ {
		e.Set("org1-u"+strconv.Itoa(i), fat{a: int64(i)})
	}
	m := e.Map()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		ed := m.Edit()
		ed.Set("org1-u"+strconv.Itoa(i%100_000), fat{b: 1})
		m = ed.Map()
		i++
	}
}
