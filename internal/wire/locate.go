package wire

import (
	"bytes"
	"strconv"
	"strings"
)

// A JSON path names a value from the document root: object keys joined by
// dots, array indexes in brackets ("policies[0].rules[1].permission_sets[2]").
// A key that is not a plain identifier is written quoted in brackets
// (`a["odd key"]`). The root is the empty path.

// seg is one step of a path: an object key or an array index.
type seg struct {
	key     string
	index   int
	isIndex bool
}

func formatPath(segs []seg) string {
	var b strings.Builder
	for _, s := range segs {
		switch {
		case s.isIndex:
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(s.index))
			b.WriteByte(']')
		case isIdent(s.key):
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(s.key)
		default:
			b.WriteByte('[')
			b.WriteString(strconv.Quote(s.key))
			b.WriteByte(']')
		}
	}
	return b.String()
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c == '-' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// parsePath splits a path written by formatPath. ok is false if it is
// malformed.
func parsePath(p string) (segs []seg, ok bool) {
	for i := 0; i < len(p); {
		switch p[i] {
		case '.':
			if i == 0 {
				return nil, false
			}
			i++
			fallthrough
		default:
			j := i
			for j < len(p) && p[j] != '.' && p[j] != '[' {
				j++
			}
			if j == i {
				return nil, false
			}
			segs = append(segs, seg{key: p[i:j]})
			i = j
		case '[':
			end := strings.IndexByte(p[i:], ']')
			if i+1 < len(p) && p[i+1] == '"' {
				// A quoted key: find the closing quote, then ']'.
				q, err := strconv.QuotedPrefix(p[i+1:])
				if err != nil || i+1+len(q) >= len(p) || p[i+1+len(q)] != ']' {
					return nil, false
				}
				key, _ := strconv.Unquote(q)
				segs = append(segs, seg{key: key})
				i += 1 + len(q) + 1
				continue
			}
			if end < 0 {
				return nil, false
			}
			n, err := strconv.Atoi(p[i+1 : i+end])
			if err != nil || n < 0 {
				return nil, false
			}
			segs = append(segs, seg{index: n, isIndex: true})
			i += end + 1
		}
	}
	return segs, true
}

// Locate returns the byte offset at which the value named by path starts
// in the JSON document data. When the path does not exist in the document
// (or data is not valid JSON there) it returns the offset of the deepest
// value on the path that does, and exact is false; the root's offset when
// nothing matches. It reads only as far as the value, at the speed of
// Decode's scanner.
func Locate(data []byte, path string) (offset int64, exact bool) {
	segs, ok := parsePath(path)
	if !ok {
		return skipSpace(data, 0), false
	}
	off, _, exact := locate(data, segs)
	return off, exact
}

// LocateKey returns the byte offset of the key (its opening quote) that
// path's last step names, when that step is an object key present in the
// document; otherwise it behaves as Locate.
func LocateKey(data []byte, path string) (offset int64, exact bool) {
	segs, ok := parsePath(path)
	if !ok {
		return skipSpace(data, 0), false
	}
	off, key, exact := locate(data, segs)
	if exact && len(segs) > 0 && !segs[len(segs)-1].isIndex {
		return key, true
	}
	return off, exact
}

// locate walks segs down from the root. It returns the offset of the
// deepest value reached, the offset of the key that leads to it (when the
// last step is a key), and whether the whole path was found.
func locate(data []byte, segs []seg) (offset, key int64, exact bool) {
	d := &decoder{data: data, quiet: true}
	d.space()
	offset = int64(d.pos)
	for _, s := range segs {
		if s.isIndex {
			if d.peek() != '[' {
				return offset, 0, false
			}
			d.pos++
			d.space()
			for i := 0; ; i++ {
				if d.peek() == ']' {
					return offset, 0, false
				}
				if i > 0 && d.expect(',') != nil {
					return offset, 0, false
				}
				if i == s.index {
					break
				}
				if d.skip(0) != nil {
					return offset, 0, false
				}
			}
		} else {
			if d.peek() != '{' {
				return offset, 0, false
			}
			d.pos++
			d.space()
			found := false
			for first := true; d.peek() != '}'; first = false {
				if !first && d.expect(',') != nil {
					return offset, 0, false
				}
				key = int64(d.pos)
				start, end, slow, err := d.rawStr()
				if err != nil || d.expect(':') != nil {
					return offset, 0, false
				}
				if (!slow && string(data[start+1:end-1]) == s.key) || (slow && d.text(start, end, slow) == s.key) {
					found = true
					break
				}
				if d.skip(0) != nil {
					return offset, 0, false
				}
			}
			if !found {
				return offset, 0, false
			}
		}
		offset = int64(d.pos)
	}
	return offset, key, true
}

// LineColumn converts a byte offset of data to a 1-based line and a 1-based
// column counted in bytes. An offset past the end is clamped to the end.
func LineColumn(data []byte, offset int64) (line, column int) {
	offset = min(max(offset, 0), int64(len(data)))
	before := data[:offset]
	line = 1 + bytes.Count(before, []byte{'\n'})
	column = int(offset) - (bytes.LastIndexByte(before, '\n') + 1) + 1
	return line, column
}

func skipSpace(data []byte, off int64) int64 {
	for off < int64(len(data)) {
		switch data[off] {
		case ' ', '\t', '\n', '\r':
			off++
		default:
			return off
		}
	}
	return off
}
