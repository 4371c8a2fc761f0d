package wire

// Span returns the byte offsets at which the value named by path starts
// and ends (just past its last byte) in the JSON document data. ok is
// false when the path is not in the document, or the value there is not
// valid JSON.
func Span(data []byte, path string) (start, end int64, ok bool) {
	segs, ok := parsePath(path)
	if !ok {
		return 0, 0, false
	}
	start, _, exact := locate(data, segs)
	if !exact {
		return 0, 0, false
	}
	d := &decoder{data: data, pos: int(start), quiet: true}
	if d.skip(0) != nil {
		return 0, 0, false
	}
	end = int64(d.pos)
	for end > start && isSpace(data[end-1]) { // skip read the space after the value
		end--
	}
	return start, end, true
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
