package iam

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors, for callers to branch on with [errors.Is], never on
// message text. Every error that the package makes wraps at least one of
// them (or is [ErrUnauthenticated], from Authenticate). The errors it
// passes on from elsewhere keep their own identity instead, wrapped or as
// they are:
//   - a done context: [context.Canceled] or [context.DeadlineExceeded];
//   - LoadFile's errors opening or reading the file ([io/fs.ErrNotExist],
//     [io/fs.ErrPermission], ...);
//   - the error that the function given to [Store.Atomic] returns, which
//     Atomic returns as is;
//   - what a [Store] of another kind than [MemoryStore] fails with for
//     reasons of its own (a lost connection), which the [Evaluator] and the
//     loader pass on wrapped.
var (
	// ErrInvalid: the input breaks a validation rule (docs/semantics.md,
	// "Validation") or a request is malformed. A *ValidationError carries
	// the details.
	ErrInvalid = errors.New("iam: invalid")
	// ErrNotFound: an entity named by ID (or a project or principal named in
	// a request) does not exist.
	ErrNotFound = errors.New("iam: not found")
	// ErrConflict: the write collides with what the store holds (an ID in
	// use, a second owner, a group name taken, an organization loaded twice).
	ErrConflict = errors.New("iam: conflict")
	// ErrUnknownPermission: a permission set name or a permission triple that
	// the organization's catalogue does not know (a triple of a service with
	// declared permissions is known only when declared), or a set's pattern
	// that matches none of its service's declared permissions.
	ErrUnknownPermission = errors.New("iam: unknown permission")
	// ErrScopeMismatch: an organization-level permission asked for in a
	// project, or granted on projects, or a set whose pattern overlaps a
	// pattern of a set of the other scope type.
	ErrScopeMismatch = errors.New("iam: scope mismatch")
	// ErrForbidden: the write is never allowed (deleting or locking the
	// owner, deleting the default project), or the caller lacks the right.
	ErrForbidden = errors.New("iam: forbidden")
	// ErrExpired: an API key used at or after its expiry.
	ErrExpired = errors.New("iam: expired")
	// ErrDelivery: the write committed, but a subscriber failed. The store
	// holds the write and its revision counts it (do not retry it); a
	// subscriber told of it panicked. A *DeliveryError carries the details.
	ErrDelivery = errors.New("iam: change delivery failed")
	// ErrCompacted: a store no longer holds the changes asked of
	// Store.Changes; the caller must read the store's whole state instead.
	ErrCompacted = errors.New("iam: changes compacted")
	// ErrStale: the Evaluator missed a change it could not catch up with,
	// or failed to apply one, and is rebuilding its index from the store.
	// Until it has, it answers nothing rather than answer from a state
	// that could still hold a revoked grant. Retry shortly.
	ErrStale = errors.New("iam: evaluator index is stale")
)

// DeliveryError reports a write that committed while some subscribers to
// the store's changes failed to take its [Change]. It matches [ErrDelivery]
// with errors.Is. The write landed: Revision is its revision, and every
// other subscriber was told of it.
type DeliveryError struct {
	Revision uint64
	// Failures holds one error per failed subscriber (a recovered panic,
	// wrapped when its value was an error).
	Failures []error
}

// Error renders "iam: revision N committed, but K subscribers failed: ...".
func (e *DeliveryError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "iam: revision %d committed, but %d subscriber", e.Revision, len(e.Failures))
	if len(e.Failures) != 1 {
		b.WriteString("s")
	}
	b.WriteString(" failed to take the change")
	for i, f := range e.Failures {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(strings.TrimPrefix(f.Error(), "iam: "))
	}
	return b.String()
}

// Is reports whether target is [ErrDelivery]. A DeliveryError does not
// unwrap to its Failures: what a subscriber panicked with never passes for
// a cause of the write (read Failures to inspect them).
func (e *DeliveryError) Is(target error) bool { return target == ErrDelivery }

// ValidationError describes one invalid field of one entity. It matches
// [ErrInvalid] with errors.Is, and also its Cause when one is set
// ([ErrUnknownPermission], [ErrScopeMismatch], [ErrNotFound] for a
// reference to something that does not exist). errors.As reaches it through
// any wrapping.
//
// Field is the path of the field inside the entity, in the JSON names of the
// file format ("rules[1].permission_sets[0]"). When the error comes from a
// file, File, Line, Column and Path locate it there (Path is the JSON path
// from the document root).
type ValidationError struct {
	Entity string // "policy", "user", ...
	ID     string // the entity's ID or name, when known
	Field  string // path inside the entity, in JSON names
	Value  string // the offending value, when there is one
	Reason string // what is wrong, in words
	Hint   string // how to fix it, or a "did you mean" suggestion
	Cause  error  // a more specific sentinel, or nil

	File   string // set by the file loader
	Line   int    // 1-based; 0 when unknown
	Column int    // 1-based, in bytes
	Path   string // JSON path from the document root
}

// Error renders "iam: [file:line:col: ]entity "id": field: reason (value); hint".
func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString("iam: ")
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d:%d", e.Line, e.Column)
		}
		b.WriteString(": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	if e.Entity != "" {
		b.WriteString(e.Entity)
		if e.ID != "" {
			fmt.Fprintf(&b, " %q", e.ID)
		}
		b.WriteString(": ")
	}
	if e.Field != "" && e.Path == "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Reason)
	if e.Value != "" {
		fmt.Fprintf(&b, " (got %q)", e.Value)
	}
	if e.Hint != "" {
		b.WriteString("; ")
		b.WriteString(e.Hint)
	}
	return b.String()
}

// Is reports whether target is [ErrInvalid]; Unwrap exposes the Cause.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalid }

// Unwrap returns the specific cause, if any.
func (e *ValidationError) Unwrap() error { return e.Cause }

// Organization is the security boundary: nothing ever crosses it. Creating
// one creates its default project, whose ID equals the organization's.
type Organization struct {
	ID   string
	Name string
}

// Project groups resources inside an organization. The default project of
// an organization has the organization's ID and cannot be deleted.
type Project struct {
	ID             string
	OrganizationID string
	Name           string
	Description    string
}
