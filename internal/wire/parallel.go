package wire

import (
	"bytes"
	"errors"
	"reflect"
	"runtime"
	"sync"
	"sync/atomic"
)

// parallelMin is the smallest document whose long top-level arrays Decode
// splits between several goroutines: below it, one goroutine is as fast.
var parallelMin = 1 << 20

// chunkLen is how many elements of an array one goroutine decodes at a
// time.
const chunkLen = 512

// arrayPlan is a guess, made by a quick scan, of where the chunks of a
// top-level array start. The decoders check it: a wrong guess (a document
// with an error in it) only costs the sequential decoding after all.
type arrayPlan struct {
	n      int   // elements
	starts []int // offset of elements 0, chunkLen, 2*chunkLen...
	last   int   // offset of the closing bracket, found by the last chunk
}

// errReplan is the error of a parallel decoding that found its plan wrong
// or an error in the document: Decode starts again on one goroutine, which
// reports the first error as it always does.
var errReplan = errors.New("wire: decode again sequentially")

// planArrays scans data quickly, without checking it, for the arrays that
// are values of the top-level object, and guesses where their chunks
// start. It returns nil when there is nothing worth splitting.
func planArrays(data []byte) map[int]*arrayPlan {
	if len(data) < parallelMin || runtime.GOMAXPROCS(0) < 2 {
		return nil
	}
	var plans map[int]*arrayPlan
	var cur *arrayPlan
	depth := 0
	elemStart := func(i int) int { // the first non-space after i
		for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r') {
			i++
		}
		return i
	}
	for i := 0; i < len(data); i++ {
		switch data[i] {
		case '"':
			for {
				j := bytes.IndexByte(data[i+1:], '"')
				if j < 0 {
					return nil
				}
				i += 1 + j
				k := i - 1
				for data[k] == '\\' {
					k--
				}
				if (i-1-k)%2 == 0 { // not escaped
					break
				}
			}
		case '{', '[':
			depth++
			if depth == 2 && data[i] == '[' {
				cur = &arrayPlan{}
				if plans == nil {
					plans = map[int]*arrayPlan{}
				}
				plans[i] = cur
				if s := elemStart(i + 1); s < len(data) && data[s] != ']' {
					cur.n, cur.starts = 1, append(cur.starts, s)
				}
			}
		case '}', ']':
			depth--
			if depth == 1 {
				cur = nil
			}
		case ',':
			if depth == 2 && cur != nil {
				if cur.n%chunkLen == 0 {
					cur.starts = append(cur.starts, elemStart(i+1))
				}
				cur.n++
			}
		}
	}
	for at, p := range plans {
		if p.n < 2*chunkLen {
			delete(plans, at)
		}
	}
	return plans
}

// planAt returns the plan of the array at d.pos, the value of a field
// of the top-level object that decodes into fv, or nil.
func (d *decoder) planAt(top bool, fv reflect.Value) *arrayPlan {
	if !top || d.plans == nil || fv.Kind() != reflect.Slice || fv.Type() == rawMessageType || fv.Type() == stringsType {
		return nil
	}
	return d.plans[d.pos]
}

// parallelArray decodes the top-level array at d.pos, which p plans, into
// rv, a slice, on several goroutines, each decoding whole chunks with the
// sequential decoder's code. Any error, or a chunk that does not end where
// the next one starts, is errReplan.
func (d *decoder) parallelArray(rv reflect.Value, p *arrayPlan, key string) error {
	out := reflect.MakeSlice(rv.Type(), p.n, p.n)
	var next atomic.Int64
	var failed atomic.Bool
	work := func() {
		w := &decoder{data: d.data}
		for !failed.Load() {
			c := int(next.Add(1)) - 1
			if c >= len(p.starts) {
				return
			}
			if !w.chunk(out, p, c, key) {
				failed.Store(true)
			}
		}
	}
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), 4) - 1 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			work()
		}()
	}
	work()
	wg.Wait()
	if failed.Load() {
		return errReplan
	}
	// Continue after the array, as array does.
	d.pos = p.last + 1 // ']'
	d.space()
	rv.Set(out)
	return nil
}

// chunk decodes chunk c of the array into out, reporting whether it
// decoded without error and ended where the plan says the next chunk
// starts (or the array ends).
func (d *decoder) chunk(out reflect.Value, p *arrayPlan, c int, key string) bool {
	d.pos, d.top = p.starts[c], false
	d.path = append(d.path[:0], seg{key: key})
	from, to := c*chunkLen, min((c+1)*chunkLen, p.n)
	for i := from; i < to; i++ {
		if i > from && d.expect(',') != nil {
			return false
		}
		d.push(seg{index: i, isIndex: true})
		if d.peek() == 'n' || d.value(out.Index(i)) != nil {
			return false
		}
		d.pop()
	}
	if to < p.n {
		return d.expect(',') == nil && d.pos == p.starts[c+1]
	}
	if d.peek() != ']' {
		return false
	}
	p.last = d.pos
	return true
}
