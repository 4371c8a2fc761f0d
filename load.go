package iam

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/iamkit/iam/internal/scaleway"
	"github.com/iamkit/iam/internal/wire"
)

// LoadOption configures LoadFile and Load.
type LoadOption func(*loadOptions)

type loadOptions struct {
	org     string
	replace bool
}

// IntoOrganization names the organization that a policy file loads into.
// Without it, a policy file loads into the one organization the store
// holds, and is rejected when the store holds several. Given with a world
// file, it must name the file's own organization.
func IntoOrganization(id string) LoadOption {
	return func(o *loadOptions) { o.org = id }
}

// ReplaceExisting lets a load overwrite what the store already holds. For
// a world file, an organization with the file's ID is deleted (with
// everything in it) and created again from the file, in the same atomic
// write: no reader ever sees it half loaded or missing. For a policy file,
// a policy whose ID the organization already holds is updated (replaced
// whole) instead of being a conflict.
func ReplaceExisting() LoadOption {
	return func(o *loadOptions) { o.replace = true }
}

// LoadFile reads the file at path and loads it as Load does, naming path
// in its errors. A file over MaxFileSize bytes is refused (ErrInvalid,
// naming the bound) without being read, and LoadFile never reads more than
// the bound from a file that grows or is no regular file.
func LoadFile(ctx context.Context, store Store, path string, opts ...LoadOption) error {
	data, err := readBounded(path)
	if err != nil {
		return err
	}
	return Load(ctx, store, path, data, opts...)
}

// readBounded reads the file at path, refusing one over MaxFileSize bytes.
func readBounded(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("iam: load: %w", err)
	}
	defer f.Close()
	var size int64
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
		size = fi.Size()
	}
	if size > MaxFileSize {
		return nil, fileTooLarge(path)
	}
	var buf bytes.Buffer
	buf.Grow(int(size) + bytes.MinRead) // room to see the end of the file at once
	if _, err := buf.ReadFrom(io.LimitReader(f, MaxFileSize+1)); err != nil {
		return nil, fmt.Errorf("iam: load: %w", err)
	}
	if buf.Len() > MaxFileSize {
		return nil, fileTooLarge(path)
	}
	return buf.Bytes(), nil
}

func fileTooLarge(name string) error {
	return &ValidationError{File: name, Reason: fmt.Sprintf("the file is larger than %d bytes (MaxFileSize), the most a world or policy file may hold", MaxFileSize), Hint: "split it: load the organization's policies from policy files of their own"}
}

// Load loads a world file or a policy file (their format: the README's
// "File format", and schema/) into store, all or nothing: every write
// happens inside one store.Atomic call, so a rejected file changes nothing,
// revision included, and an accepted one is one revision and one Change.
// name is the file's name in error messages. data over MaxFileSize bytes is
// refused (ErrInvalid, naming the bound).
//
// The kind of file follows from its top-level keys: "organization" makes a
// world file; "policies" alone a list of policies; the keys of a policy
// object ("application", "user", "group", "rules", "name", "id",
// "description", "tags") a single policy. A policy file loads into the one
// organization the store holds, or the one named by IntoOrganization.
//
// Load also reads an export of an organization in Scaleway's own format
// (the objects as Scaleway's IAM API and CLI return them: "user_ids",
// "application_id", "no_principal", "project_ids", "permission_set_names",
// ...), told from those keys, and loads it as the world it describes, with
// the same options; its errors name the export's own paths and positions.
// The format, and what it cannot say (an API key read from it never
// authenticates: the API never returns secrets), is described in the
// repository's docs/scaleway-format.md.
//
// IDs and references. Every entity may give an "id"; otherwise its ID is its
// name (a user's email; an API key's ID is its "access_key"). A policy with
// neither "id" nor "name" is named after its principal, and that name is its
// ID too: "user-ID", "application-ID", "group-ID", or "no-principal", with
// "-2", "-3"... for a second and third such policy in one file. So loading
// the same file again names the same policies: a conflict, or with
// ReplaceExisting an update, never a duplicate. A project without an
// "id" named "default", or with the organization's ID, is the organization's
// default project, which the entry then edits. References (group members, a
// policy's principal, a rule's projects, an API key's bearer and default
// project) name an entity of the same organization by ID or by name, an ID
// winning over a name; a user is named by its email, compared without
// regard to case. A name that two entities of the kind share is ambiguous
// (ErrInvalid, naming both). In a world file references resolve against the
// file; in a policy file, against the organization as stored. A reference
// that resolves to nothing is passed on to the store, whose error says what
// is wrong and suggests the nearest name.
//
// A file never carries a plain API key secret, only its hex SHA-256
// ("secret_sha256", see HashSecret). Conditions are passed to the store as
// written: a store without a condition engine rejects them.
//
// Errors. Decoding is strict: an unknown or repeated key, a value of the
// wrong JSON type or a syntax error is an error, and so is text that is not
// valid UTF-8 or a \u escape of a lone UTF-16 surrogate: text reaches the
// store as written, never replaced by U+FFFD. Invalid input of any kind
// is reported as a *ValidationError (matching ErrInvalid, and its Cause:
// ErrUnknownPermission, ErrScopeMismatch, ErrNotFound...) whose File, Line,
// Column and Path locate the offending value in the file; Field is the path
// inside the entity, Path the JSON path from the document root (Line is 0
// for the few errors that no place in the file causes, such as a store
// holding several organizations). Two entities of one file with the same
// ID are a *ValidationError whose Cause is ErrConflict. Other errors the
// store returns for an entity of the file, such as ErrConflict for an ID
// already used in the store, come wrapped in a *FileError that locates the
// entity and unwraps to the store's error. Loading a world file for an
// organization the store holds is such an ErrConflict, unless
// ReplaceExisting is given; so is a policy file naming a policy ID the
// organization already holds. An error wrapping ErrDelivery means that the
// file was loaded, and a subscriber to the store failed (see Store).
func Load(ctx context.Context, store Store, name string, data []byte, opts ...LoadOption) error {
	if len(data) > MaxFileSize {
		return fileTooLarge(name)
	}
	var o loadOptions
	for _, opt := range opts {
		opt(&o)
	}
	if bytes.HasPrefix(data, utf8BOM) {
		// Blank the byte-order mark out rather than cut it, so that offsets
		// still match the file.
		data = append([]byte("   "), data[len(utf8BOM):]...)
	}
	l := &loader{name: name, data: data, opts: o, refs: map[Kind]*refTable{}}
	if scaleway.IsScaleway(data) {
		return l.loadScaleway(ctx, store)
	}
	var f wire.File
	keys, err := wire.Decode(data, &f)
	if err != nil {
		return l.decodeError(err)
	}
	kind, err := l.kindOf(keys)
	if err != nil {
		return err
	}
	switch kind {
	case worldFile:
		return l.loadWorld(ctx, store, &f)
	case policyList:
		return l.loadPolicies(ctx, store, f.Policies, "policies")
	default:
		return l.loadPolicies(ctx, store, []wire.Policy{f.Policy()}, "")
	}
}

var utf8BOM = []byte("\xef\xbb\xbf")

// FileError locates, in a loaded file, an error that is not about invalid
// input: a conflict with what the store holds (ErrConflict), or another
// error the store returned for one entity of the file. It unwraps to the
// store's error, so errors.Is(err, ErrConflict) holds. Invalid input is
// reported as a *ValidationError instead, which carries its own position.
type FileError struct {
	File   string
	Line   int    // 1-based; 0 when unknown
	Column int    // 1-based, in bytes
	Path   string // JSON path of the entity or field from the document root
	Hint   string // how to fix it, or ""
	Err    error  // the store's error
}

// Error renders "iam: file:line:col: path: error; hint".
func (e *FileError) Error() string {
	var b strings.Builder
	b.WriteString("iam: ")
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", e.Line, e.Column)
	}
	b.WriteString(": ")
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(strings.TrimPrefix(e.Err.Error(), "iam: "))
	if e.Hint != "" {
		b.WriteString("; ")
		b.WriteString(e.Hint)
	}
	return b.String()
}

// Unwrap returns the store's error.
func (e *FileError) Unwrap() error { return e.Err }
