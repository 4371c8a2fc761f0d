package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/iamkit/iam/internal/suggest"
)

// ErrorKind classifies a decoding Error.
type ErrorKind uint8

// Error kinds.
const (
	ErrSyntax       ErrorKind = iota + 1 // not JSON
	ErrUnknownField                      // a key the format does not have
	ErrDuplicateKey                      // a key given twice in one object
	ErrType                              // a value of the wrong JSON type
	ErrTrailingData                      // something after the document
	ErrEncoding                          // a string that is not valid UTF-8, or an escape that encodes no character
)

// Error is a decoding error at a byte offset of the document.
type Error struct {
	Kind   ErrorKind
	Offset int64  // byte offset of the offending key, value or character
	Path   string // JSON path of the offending key or value ("" for the root)
	Key    string // the key, for ErrUnknownField and ErrDuplicateKey
	Msg    string // what is wrong
	Hint   string // how to fix it, or ""
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "offset %d: ", e.Offset)
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	if e.Hint != "" {
		b.WriteString("; ")
		b.WriteString(e.Hint)
	}
	return b.String()
}

// ErrValue is the kind of the errors that a converter of a decoded
// document reports for a value its format does not accept (package
// scaleway's ToWorld); Decode itself never returns it. Its value stays
// clear of the kinds above as they grow.
const ErrValue ErrorKind = 64

// Key is a key of the document's top-level object and its byte offset.
type Key struct {
	Name   string
	Offset int64
}

// FieldHinter is implemented by wire structs that know a better hint than
// "did you mean" for some unknown keys.
type FieldHinter interface {
	FieldHint(key string) string
}

// Decode decodes the JSON document data into v, a pointer to a struct of
// this package, strictly: object keys match the fields' json tags exactly
// (case included), an unknown or repeated key is an error, and so is a
// value of the wrong JSON type. null leaves a field at its zero value; it
// is an error inside an array. Text is never replaced: a string holding
// invalid UTF-8, or a \u escape of a lone UTF-16 surrogate, is an
// ErrEncoding error at the offending byte (encoding/json would turn either
// into U+FFFD). It returns the keys of the top-level object in document
// order, and stops at the first error, an *Error.
//
// Decode reads the document with a small validating scanner that knows
// every value's offset: several times faster than json.Decoder.Token, which
// allocates for every scalar, and it checks the syntax on the way. At a
// syntax error it hands over to encoding/json: json.Unmarshal, whose
// SyntaxError offset is exact, and a json.Decoder, for the path.
//
// Decode supports the field types used here: string, bool, slices and
// pointers of those, structs with json tags, and json.RawMessage, which
// takes any JSON value (checked, kept as written) for the fields whose
// content does not matter. It panics on others (a programming error).
func Decode(data []byte, v any) ([]Key, error) {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		panic("wire: Decode needs a non-nil pointer")
	}
	if int(skipSpace(data, 0)) == len(data) {
		return nil, &Error{Kind: ErrSyntax, Offset: int64(len(data)), Msg: "the document is empty", Hint: "a file holds one JSON object"}
	}
	d := &decoder{data: data, top: true, plans: planArrays(data)}
	d.space()
	err := d.value(rv.Elem())
	if err == errReplan {
		rv.Elem().SetZero()
		d = &decoder{data: data, top: true}
		d.space()
		err = d.value(rv.Elem())
	}
	if err != nil {
		return nil, err
	}
	if d.pos != len(data) {
		return nil, d.syntax()
	}
	return d.keys, nil
}

// errQuiet is the syntax error of a quiet decoder (see Locate), which
// needs no details.
var errQuiet = errors.New("wire: syntax error")

// syntax returns the located syntax error of the document.
func (d *decoder) syntax() error {
	if d.quiet {
		return errQuiet
	}
	e := syntaxError(d.data)
	if e.Offset == int64(len(d.data)) && e.Msg == "syntax error" {
		// encoding/json found nothing wrong: the scanner is stricter than
		// it somewhere, which would be a bug; point at the scanner's place.
		e.Offset = int64(min(d.pos, len(d.data)))
	}
	return e
}

// syntaxError locates the first syntax error of an invalid document.
func syntaxError(data []byte) *Error {
	e := &Error{Kind: ErrSyntax, Offset: int64(len(data)), Path: pathAtError(data), Msg: "syntax error"}
	var raw json.RawMessage
	var se *json.SyntaxError
	if err := json.Unmarshal(data, &raw); errors.As(err, &se) {
		msg := se.Error()
		e.Msg = "syntax error: " + msg
		switch {
		case strings.HasPrefix(msg, "unexpected end"):
			e.Offset = se.Offset
			e.Hint = "the document is cut short: close every string, array and object"
		case strings.Contains(msg, "after top-level value"):
			e.Kind, e.Offset, e.Path = ErrTrailingData, se.Offset-1, ""
			e.Msg, e.Hint = "unexpected data after the top-level object", "a file holds one JSON object"
		default:
			e.Offset = se.Offset - 1 // the offending byte
		}
		e.Offset = min(max(e.Offset, 0), int64(len(data)))
	}
	return e
}

// pathAtError returns the path of the value that a json.Decoder was
// reading when it met the document's syntax error: the element about to
// be read when the error falls between two elements of an array.
func pathAtError(data []byte) string {
	type frame struct {
		array   bool
		index   int    // arrays: the current element; -1 before the first
		done    bool   // arrays: the current element is complete
		key     string // objects: the current key
		wantKey bool   // objects: the next token is a key
	}
	var stack []frame
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	valueDone := func() {
		if n := len(stack); n > 0 {
			if stack[n-1].array {
				stack[n-1].done = true
			} else {
				stack[n-1].wantKey = true
			}
		}
	}
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		if n := len(stack); n > 0 {
			top := &stack[n-1]
			if tok == json.Delim('}') || tok == json.Delim(']') {
				stack = stack[:n-1]
				valueDone()
				continue
			}
			if !top.array && top.wantKey {
				top.key, _ = tok.(string)
				top.wantKey = false
				continue
			}
			if top.array {
				top.index++
				top.done = false
			}
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, frame{wantKey: true})
		case json.Delim('['):
			stack = append(stack, frame{array: true, index: -1, done: true})
		default:
			valueDone()
		}
	}
	var segs []seg
	for _, f := range stack {
		switch {
		case f.array && f.done:
			segs = append(segs, seg{index: f.index + 1, isIndex: true})
		case f.array:
			segs = append(segs, seg{index: f.index, isIndex: true})
		case !f.wantKey:
			segs = append(segs, seg{key: f.key})
		}
	}
	return formatPath(segs)
}

// decoder decodes a JSON document, checking its syntax and tracking the
// path for errors.
type decoder struct {
	data []byte
	pos  int
	path []seg
	top  bool // the next object read is the top-level one
	keys []Key

	quiet    bool // syntax errors need no details (Locate)
	interned map[string]string
	scratch  []reflect.Value // free scratch slices, one per type; see array

	strScratch []string // the scratch slice of strings; see strings
	strBlock   []string // the rest of the block short lists are cut from; see stringList

	plans map[int]*arrayPlan // long top-level arrays, by offset; see parallelArray
}

// peek returns the byte at d.pos, or 0 at the end (0 is never valid there).
func (d *decoder) peek() byte {
	if d.pos < len(d.data) {
		return d.data[d.pos]
	}
	return 0
}

func (d *decoder) space() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

// expect consumes the byte c and the space after it, or reports a syntax
// error.
func (d *decoder) expect(c byte) error {
	if d.peek() != c {
		return d.syntax()
	}
	d.pos++
	d.space()
	return nil
}

func (d *decoder) push(s seg) { d.path = append(d.path, s) }
func (d *decoder) pop()       { d.path = d.path[:len(d.path)-1] }

// rawStr reads the string literal at d.pos, and the space after it. It
// returns its bounds, quotes included, and whether it needs the slow path
// (escapes, or bytes outside ASCII). The bytes outside ASCII must be valid
// UTF-8, and a \u escape of a UTF-16 high surrogate must be followed by
// one of a low surrogate (a pair encodes one character): anything else is
// an ErrEncoding error. A quiet decoder (Locate) skips those checks and
// walks text as encoding/json does, so that it finds its way through any
// document json.Valid accepts.
func (d *decoder) rawStr() (start, end int, slow bool, err error) {
	strict := !d.quiet
	start = d.pos
	if d.peek() != '"' {
		return 0, 0, false, d.syntax()
	}
	data := d.data
	i := start + 1
	high := -1   // offset of a \u escape of a high surrogate awaiting its low one
	utf := false // some byte is outside ASCII
	for {
		if i >= len(data) {
			d.pos = i
			return 0, 0, false, d.syntax()
		}
		c := data[i]
		if strict && high >= 0 && !(c == '\\' && i+1 < len(data) && data[i+1] == 'u') {
			return 0, 0, false, d.loneSurrogate(high)
		}
		switch {
		case c == '"':
			if strict && utf {
				if off := invalidUTF8(data[start+1 : i]); off >= 0 {
					off += start + 1
					return 0, 0, false, &Error{Kind: ErrEncoding, Offset: int64(off), Path: formatPath(d.path),
						Msg:  fmt.Sprintf("invalid UTF-8 (byte 0x%02X)", data[off]),
						Hint: "save the file as UTF-8: text is loaded as written, never replaced"}
				}
			}
			d.pos = i + 1
			d.space()
			return start, i + 1, slow, nil
		case c < 0x20:
			d.pos = i
			return 0, 0, false, d.syntax()
		case c == '\\':
			slow = true
			i++
			if i >= len(data) {
				d.pos = i
				return 0, 0, false, d.syntax()
			}
			switch data[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(data) || !isHex(data[i+1]) || !isHex(data[i+2]) || !isHex(data[i+3]) || !isHex(data[i+4]) {
					d.pos = i
					return 0, 0, false, d.syntax()
				}
				switch v := hex4(data[i+1 : i+5]); {
				case !strict:
				case v >= 0xD800 && v < 0xDC00: // high surrogate
					if high >= 0 {
						return 0, 0, false, d.loneSurrogate(high)
					}
					high = i - 1
				case v >= 0xDC00 && v < 0xE000: // low surrogate
					if high < 0 {
						return 0, 0, false, d.loneSurrogate(i - 1)
					}
					high = -1
				case high >= 0:
					return 0, 0, false, d.loneSurrogate(high)
				}
				i += 4
			default:
				d.pos = i
				return 0, 0, false, d.syntax()
			}
		case c >= 0x80:
			slow, utf = true, true
		}
		i++
	}
}

// loneSurrogate reports the \u escape at off as encoding no character.
func (d *decoder) loneSurrogate(off int) error {
	return &Error{Kind: ErrEncoding, Offset: int64(off), Path: formatPath(d.path),
		Msg:  fmt.Sprintf("%s is a lone UTF-16 surrogate, which encodes no character", d.data[off:off+6]),
		Hint: `a character beyond U+FFFF is written as a surrogate pair ("\ud83d\ude80") or as itself`}
}

// invalidUTF8 returns the offset of the first byte of b that is not part
// of a valid UTF-8 sequence, or -1.
func invalidUTF8(b []byte) int {
	if utf8.Valid(b) {
		return -1
	}
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			return i
		}
		i += size
	}
	return -1
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// hex4 returns the value of four hexadecimal digits, checked by isHex.
func hex4(b []byte) rune {
	var v rune
	for _, c := range b[:4] {
		switch {
		case c <= '9':
			c -= '0'
		case c >= 'a':
			c -= 'a' - 10
		default:
			c -= 'A' - 10
		}
		v = v<<4 | rune(c)
	}
	return v
}

// str reads the string at d.pos.
func (d *decoder) str() (string, error) {
	start, end, slow, err := d.rawStr()
	if err != nil {
		return "", err
	}
	return d.text(start, end, slow), nil
}

// Interning: values repeat a lot (permission set names, project
// references, "member"), so short ones are shared rather than allocated
// each time, up to a bound on the table.
const (
	internMaxLen  = 40
	internMaxSize = 1 << 14
)

// text returns the string whose literal is data[start:end], checked by
// rawStr, as encoding/json decodes it.
func (d *decoder) text(start, end int, slow bool) string {
	raw := d.data[start+1 : end-1]
	if slow && (bytes.IndexByte(raw, '\\') >= 0 || !utf8.Valid(raw)) {
		var s string
		_ = json.Unmarshal(d.data[start:end], &s) // a valid literal: checked by rawStr
		return s
	}
	if len(raw) > internMaxLen {
		return string(raw)
	}
	if s, ok := d.interned[string(raw)]; ok {
		return s
	}
	s := string(raw)
	if len(d.interned) < internMaxSize {
		if d.interned == nil {
			d.interned = make(map[string]string, 256)
		}
		d.interned[s] = s
	}
	return s
}

// scalar reads the literal or number at d.pos, and the space after it,
// and returns it as a token: true, false, nil or a json.Number.
func (d *decoder) scalar() (json.Token, error) {
	start := d.pos
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		if c == ',' || c == '}' || c == ']' || c == ' ' || c == '\t' || c == '\n' || c == '\r' {
			break
		}
		d.pos++
	}
	lit := d.data[start:d.pos]
	var tok json.Token
	switch string(lit) {
	case "true":
		tok = true
	case "false":
		tok = false
	case "null":
		tok = nil
	default:
		if !isNumber(lit) {
			d.pos = start
			return nil, d.syntax()
		}
		tok = json.Number(lit)
	}
	d.space()
	return tok, nil
}

// isNumber reports whether b is a JSON number:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func isNumber(b []byte) bool {
	i := 0
	digits := func() bool {
		j := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		return i > j
	}
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case !digits():
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if !digits() {
			return false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if !digits() {
			return false
		}
	}
	return i == len(b)
}

// maxDepth bounds the nesting that skip follows, as encoding/json does.
const maxDepth = 10000

// skip reads one whole value, checking its syntax. depth is its nesting.
func (d *decoder) skip(depth int) error {
	if depth > maxDepth {
		return d.syntax()
	}
	switch d.peek() {
	case '{':
		d.pos++
		d.space()
		for first := true; d.peek() != '}'; first = false {
			if !first {
				if err := d.expect(','); err != nil {
					return err
				}
			}
			if _, _, _, err := d.rawStr(); err != nil {
				return err
			}
			if err := d.expect(':'); err != nil {
				return err
			}
			if err := d.skip(depth + 1); err != nil {
				return err
			}
		}
		return d.expect('}')
	case '[':
		d.pos++
		d.space()
		for first := true; d.peek() != ']'; first = false {
			if !first {
				if err := d.expect(','); err != nil {
					return err
				}
			}
			if err := d.skip(depth + 1); err != nil {
				return err
			}
		}
		return d.expect(']')
	case '"':
		_, _, _, err := d.rawStr()
		return err
	case 0:
		return d.syntax()
	}
	_, err := d.scalar()
	return err
}

// token returns the value at d.pos as a json.Token without consuming it
// (a Delim for an object or array), or the syntax error in it.
func (d *decoder) token() (json.Token, error) {
	save := d.pos
	defer func() { d.pos = save }()
	switch c := d.peek(); c {
	case '{', '[':
		if err := d.skip(0); err != nil {
			return nil, err
		}
		return json.Delim(c), nil
	case '"':
		return d.str()
	case 0:
		return nil, d.syntax()
	}
	return d.scalar()
}

// value decodes the value at d.pos into rv.
func (d *decoder) value(rv reflect.Value) error {
	c := d.peek()
	if c == 'n' { // null leaves the zero value
		tok, err := d.scalar()
		if err != nil {
			return err
		}
		if tok == nil {
			return nil
		}
		return d.typeError(rv.Type()) // unreachable: "n..." is null or invalid
	}
	if rv.Type() == rawMessageType {
		start := d.pos
		if err := d.skip(0); err != nil {
			return err
		}
		rv.SetBytes(bytes.TrimRight(bytes.Clone(d.data[start:d.pos]), " \t\r\n"))
		return nil
	}
	if rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			rv.Set(reflect.New(rv.Type().Elem()))
		}
		rv = rv.Elem()
	}
	switch rv.Kind() {
	case reflect.String:
		if c != '"' {
			return d.typeError(rv.Type())
		}
		s, err := d.str()
		if err != nil {
			return err
		}
		rv.SetString(s)
	case reflect.Bool:
		if c != 't' && c != 'f' {
			return d.typeError(rv.Type())
		}
		tok, err := d.scalar()
		if err != nil {
			return err
		}
		rv.SetBool(tok == true)
	case reflect.Slice:
		if c != '[' {
			return d.typeError(rv.Type())
		}
		if rv.Type() == stringsType && rv.CanAddr() {
			return d.strings(rv.Addr().Interface().(*[]string))
		}
		return d.array(rv)
	case reflect.Struct:
		if c != '{' {
			return d.typeError(rv.Type())
		}
		return d.object(rv)
	default:
		panic("wire: unsupported field type " + rv.Type().String())
	}
	return nil
}

var (
	rawMessageType = reflect.TypeFor[json.RawMessage]()
	stringsType    = reflect.TypeFor[[]string]()
)

// strings decodes an array of strings into *p, as array does, without
// reflection: most lists of a file (a rule's projects and permission
// sets) are lists of strings.
func (d *decoder) strings(p *[]string) error {
	d.top = false
	d.pos++ // '['
	d.space()
	buf := d.strScratch[:0]
	for d.peek() != ']' {
		if len(buf) > 0 {
			if err := d.expect(','); err != nil {
				return err
			}
		}
		d.push(seg{index: len(buf), isIndex: true})
		if d.peek() != '"' {
			return d.typeError(stringsType.Elem())
		}
		s, err := d.str()
		if err != nil {
			return err
		}
		buf = append(buf, s)
		d.pop()
	}
	d.pos++ // ']'
	d.space()
	*p = d.stringList(len(buf)) // [] is an empty list, not an absent one
	copy(*p, buf)
	clear(buf)
	d.strScratch = buf[:0]
	return nil
}

// stringList returns an empty-valued, non-nil list of n strings, which
// short lists cut from a shared block: one allocation for many lists. A
// list's capacity is its length, so that appending to it never writes
// into another list.
func (d *decoder) stringList(n int) []string {
	switch {
	case n == 0:
		return []string{}
	case n > stringBlock/16:
		return make([]string, n)
	}
	if len(d.strBlock) < n {
		d.strBlock = make([]string, stringBlock)
	}
	l := d.strBlock[:n:n]
	d.strBlock = d.strBlock[n:]
	return l
}

// stringBlock is the length of the blocks that short string lists are cut
// from: a list kept keeps its block in memory, so blocks are small.
const stringBlock = 1024

func (d *decoder) array(rv reflect.Value) error {
	d.top = false
	et := rv.Type().Elem()
	d.pos++ // '['
	d.space()
	// Elements are decoded into a scratch slice kept per type, then copied
	// into a slice of the exact length: no regrowth of the result. (The
	// wire types never nest a slice type inside itself; if one did, the
	// inner array would find the scratch taken and use a fresh one.)
	buf := d.takeScratch(rv.Type())
	n := 0
	for d.peek() != ']' {
		if n > 0 {
			if err := d.expect(','); err != nil {
				return err
			}
		}
		d.push(seg{index: n, isIndex: true})
		if d.peek() == 'n' {
			return d.typeError(et)
		}
		if n == buf.Len() {
			buf.Grow(1)
			buf.SetLen(buf.Cap())
		}
		if err := d.value(buf.Index(n)); err != nil {
			return err
		}
		d.pop()
		n++
	}
	d.pos++ // ']'
	d.space()
	if n > handOver {
		// A long list keeps the buffer itself (at most twice its length).
		rv.Set(buf.Slice(0, n))
		return nil
	}
	out := reflect.MakeSlice(rv.Type(), n, n) // [] is an empty list, not an absent one
	reflect.Copy(out, buf)                    // the first n
	for i := range n {
		buf.Index(i).SetZero() // decoding starts from zero values
	}
	rv.Set(out)
	d.scratch = append(d.scratch, buf)
	return nil
}

// handOver is the length above which a decoded list keeps its scratch
// buffer rather than being copied out of it.
const handOver = 256

// takeScratch returns an empty-valued scratch slice of type t, the one
// kept from an earlier list of that type or a new one.
func (d *decoder) takeScratch(t reflect.Type) reflect.Value {
	for i, v := range d.scratch {
		if v.Type() == t {
			d.scratch = slices.Delete(d.scratch, i, i+1)
			return v
		}
	}
	return reflect.New(t).Elem()
}

func (d *decoder) object(rv reflect.Value) error {
	top := d.top
	d.top = false
	fs := fieldsOf(rv.Type())
	var seen uint64 // field i seen: bit i (structs here have < 64 fields)
	d.pos++         // '{'
	d.space()
	for first := true; d.peek() != '}'; first = false {
		if !first {
			if err := d.expect(','); err != nil {
				return err
			}
		}
		keyStart := int64(d.pos)
		start, end, slow, err := d.rawStr()
		if err != nil {
			return err
		}
		var key string
		i, ok := fs.index[string(d.data[start+1:end-1])] // no allocation
		if ok && !slow {
			key = fs.names[i] // the same text, already allocated
		} else {
			key = d.text(start, end, slow)
			i, ok = fs.index[key]
		}
		if err := d.expect(':'); err != nil {
			return err
		}
		d.push(seg{key: key})
		if !ok {
			return &Error{Kind: ErrUnknownField, Offset: keyStart, Path: formatPath(d.path), Key: key,
				Msg: fmt.Sprintf("unknown field %q", key), Hint: fs.hint(rv.Type(), key)}
		}
		if seen&(1<<i) != 0 {
			return &Error{Kind: ErrDuplicateKey, Offset: keyStart, Path: formatPath(d.path), Key: key,
				Msg: fmt.Sprintf("the field %q is given twice", key), Hint: "keep one of them"}
		}
		seen |= 1 << i
		if top {
			d.keys = append(d.keys, Key{Name: key, Offset: keyStart})
		}
		fv := rv.Field(fs.fields[i])
		if p := d.planAt(top, fv); p != nil {
			err = d.parallelArray(fv, p, key)
		} else {
			err = d.value(fv)
		}
		if err != nil {
			return err
		}
		d.pop()
	}
	d.pos++ // '}'
	d.space()
	return nil
}

// typeError reports the value at d.pos as of the wrong type, unless it is
// not even valid JSON.
func (d *decoder) typeError(want reflect.Type) error {
	tok, err := d.token()
	if err != nil {
		return err
	}
	return &Error{Kind: ErrType, Offset: int64(d.pos), Path: formatPath(d.path),
		Msg: fmt.Sprintf("expected %s, got %s", describeType(want), describeToken(tok))}
}
func describeType(t reflect.Type) string {
	if t == rawMessageType {
		return "a value"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice:
		if t.Elem().Kind() == reflect.String {
			return "an array of strings"
		}
		return "an array of objects"
	case reflect.Struct:
		return "an object"
	}
	return t.String()
}

func describeToken(tok json.Token) string {
	switch v := tok.(type) {
	case nil:
		return "null"
	case string:
		return "the string " + strconv.Quote(v)
	case bool:
		return "the boolean " + strconv.FormatBool(v)
	case json.Number:
		return "the number " + v.String()
	case float64:
		return "a number"
	case json.Delim:
		if v == '{' {
			return "an object"
		}
		return "an array"
	}
	return fmt.Sprintf("%v", tok)
}

// structFields is the json-tag view of a struct type.
type structFields struct {
	index  map[string]int // json name -> position in names and fields
	names  []string
	fields []int // reflect field index
}

var fieldCache sync.Map // reflect.Type -> *structFields

func fieldsOf(t reflect.Type) *structFields {
	if fs, ok := fieldCache.Load(t); ok {
		return fs.(*structFields)
	}
	if t.NumField() > 64 {
		panic("wire: more than 64 fields in " + t.String()) // Decode's seen mask
	}
	fs := &structFields{index: map[string]int{}}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !f.IsExported() || name == "" || name == "-" {
			continue
		}
		fs.index[name] = len(fs.names)
		fs.names = append(fs.names, name)
		fs.fields = append(fs.fields, i)
	}
	v, _ := fieldCache.LoadOrStore(t, fs)
	return v.(*structFields)
}

// hint suggests a fix for an unknown key of a struct of type t: the
// struct's own hint, a key that differs only in case, or the nearest key.
func (fs *structFields) hint(t reflect.Type, key string) string {
	if h, ok := reflect.Zero(t).Interface().(FieldHinter); ok {
		if s := h.FieldHint(key); s != "" {
			return s
		}
	}
	for _, n := range fs.names {
		if strings.EqualFold(n, key) {
			return fmt.Sprintf("did you mean %q? (keys are case-sensitive)", n)
		}
	}
	if s := closest(key, fs.names); s != "" {
		return fmt.Sprintf("did you mean %q?", s)
	}
	return "known fields: " + strings.Join(slices.Sorted(slices.Values(fs.names)), ", ")
}

// closest returns the candidate nearest to s in edit distance, if near
// enough to be a likely typo, or "".
func closest(s string, candidates []string) string { return suggest.Closest(s, candidates) }
