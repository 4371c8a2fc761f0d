package wire

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
)

// Width is the line width that Encode fits short objects and lists into.
const Width = 100

// Encode renders v, a pointer to or a value of a struct of this package
// (or of any struct built like them: string, bool, slice, pointer and
// struct fields with json tags), in the canonical layout of iamkit's
// files:
//
//   - fields in the order of the struct, each under its json name;
//   - a field at its zero value (empty string, false, nil slice or
//     pointer) left out; an empty but non-nil slice kept as [];
//   - two spaces of indentation; the document's object one field a line;
//     an object or list inside it on one line when it holds no list of
//     objects and fits in Width columns, otherwise one field or element
//     per line;
//   - strings escaped as encoding/json does, but with <, > and & kept as
//     they are; a final newline.
//
// The result depends on v alone, so encoding what Decode read from an
// encoded document gives the same bytes again.
func Encode(v any) []byte {
	var b bytes.Buffer
	e := encoder{b: &b}
	e.value(reflect.ValueOf(v), 0, Width) // at the top, nothing fits on one line
	b.WriteByte('\n')
	return b.Bytes()
}

type encoder struct{ b *bytes.Buffer }

// value writes rv at indentation level depth; col is the column the value
// starts at, for the width test.
func (e *encoder) value(rv reflect.Value, depth, col int) {
	for rv.Kind() == reflect.Pointer || rv.Kind() == reflect.Interface {
		rv = rv.Elem()
	}
	if flat(rv) {
		if s := inline(rv); col+len(s)+1 <= Width { // +1: a comma may follow
			e.b.WriteString(s)
			return
		}
	}
	pad := strings.Repeat("  ", depth+1)
	switch rv.Kind() {
	case reflect.Struct:
		fs := fieldsOf(rv.Type())
		first := true
		e.b.WriteByte('{')
		for i, name := range fs.names {
			f := rv.Field(fs.fields[i])
			if omit(f) {
				continue
			}
			if !first {
				e.b.WriteByte(',')
			}
			first = false
			e.b.WriteByte('\n')
			e.b.WriteString(pad)
			key := quote(name) + ": "
			e.b.WriteString(key)
			e.value(f, depth+1, len(pad)+len(key))
		}
		if !first {
			e.b.WriteByte('\n')
			e.b.WriteString(pad[2:])
		}
		e.b.WriteByte('}')
	case reflect.Slice:
		if rv.Len() == 0 {
			e.b.WriteString("[]")
			return
		}
		e.b.WriteByte('[')
		for i := 0; i < rv.Len(); i++ {
			if i > 0 {
				e.b.WriteByte(',')
			}
			e.b.WriteByte('\n')
			e.b.WriteString(pad)
			e.value(rv.Index(i), depth+1, len(pad))
		}
		e.b.WriteByte('\n')
		e.b.WriteString(pad[2:])
		e.b.WriteByte(']')
	default:
		e.b.WriteString(inline(rv))
	}
}

// flat reports whether rv may be written on one line: it holds no list of
// objects.
func flat(rv reflect.Value) bool {
	for rv.Kind() == reflect.Pointer || rv.Kind() == reflect.Interface {
		if rv.IsNil() {
			return true
		}
		rv = rv.Elem()
	}
	switch rv.Kind() {
	case reflect.Struct:
		fs := fieldsOf(rv.Type())
		for i := range fs.names {
			if f := rv.Field(fs.fields[i]); !omit(f) && !flat(f) {
				return false
			}
		}
	case reflect.Slice:
		t := rv.Type().Elem()
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		return t.Kind() != reflect.Struct || rv.Len() == 0
	}
	return true
}

// inline renders rv on one line.
func inline(rv reflect.Value) string {
	for rv.Kind() == reflect.Pointer || rv.Kind() == reflect.Interface {
		if rv.IsNil() {
			return "null"
		}
		rv = rv.Elem()
	}
	switch rv.Kind() {
	case reflect.Struct:
		fs := fieldsOf(rv.Type())
		var parts []string
		for i, name := range fs.names {
			if f := rv.Field(fs.fields[i]); !omit(f) {
				parts = append(parts, quote(name)+": "+inline(f))
			}
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case reflect.Slice:
		parts := make([]string, rv.Len())
		for i := range parts {
			parts[i] = inline(rv.Index(i))
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case reflect.String:
		return quote(rv.String())
	case reflect.Bool:
		if rv.Bool() {
			return "true"
		}
		return "false"
	}
	panic("wire: unsupported field type " + rv.Type().String())
}

// omit reports whether a field is left out: its zero value, except that an
// empty non-nil slice is written as [].
func omit(f reflect.Value) bool {
	switch f.Kind() {
	case reflect.Slice, reflect.Pointer, reflect.Interface:
		return f.IsNil()
	}
	return f.IsZero()
}

// quote renders s as a JSON string, leaving <, > and & as they are.
func quote(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		panic(err) // a string always encodes
	}
	return strings.TrimSuffix(b.String(), "\n")
}
