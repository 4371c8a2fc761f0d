// The loader's errors: placed at file:line:column, with the JSON path.

package iam

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/iamkit/iam/internal/wire"
)

// pos returns the line and column of a byte offset.
func (l *loader) pos(off int64) (int, int) { return wire.LineColumn(l.data, off) }

// at returns the line and column of the value at path, or of its deepest
// ancestor present in the file.
func (l *loader) at(path string) (int, int) {
	off, _ := wire.Locate(l.data, path)
	return l.pos(off)
}

func joinPath(base, field string) string {
	switch {
	case base == "":
		return field
	case field == "":
		return base
	case field[0] == '[':
		return base + field
	}
	return base + "." + field
}

// place locates ve, an error on entity e, in the file.
func (l *loader) place(ve *ValidationError, e entity) *ValidationError {
	ve.Path = joinPath(e.path(), fileField(ve.Field, e))
	ve.File = l.name
	ve.Line, ve.Column = l.at(ve.Path)
	return ve
}

// fileField maps a store field name of entity e onto the file's keys.
func fileField(field string, e entity) string {
	switch field {
	case "organization_id":
		return ""
	case "principal":
		return e.principal
	case "bearer":
		return e.bearer
	case "secret":
		return "secret_sha256"
	case "id":
		if e.kind == KindAPIKey {
			return "access_key"
		}
		return e.idFrom
	}
	return field
}

// invalid returns a ValidationError on field of entity e, placed in the
// file.
func (l *loader) invalid(e entity, field, value, reason, hint string, cause error) error {
	return l.place(&ValidationError{Entity: e.kind.String(), ID: e.id, Field: field, Value: value, Reason: reason, Hint: hint, Cause: cause}, e)
}

// fileError wraps err, located at path.
func (l *loader) fileError(err error, path, hint string) *FileError {
	line, col := l.at(path)
	return &FileError{File: l.name, Line: line, Column: col, Path: path, Hint: hint, Err: err}
}

// storeError places an error that the store returned for entity e.
func (l *loader) storeError(err error, e entity) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var ve *ValidationError
	if errors.As(err, &ve) {
		c := *ve
		if e.id == "" {
			// The store made the ID up for this write; the path names the
			// entity better.
			c.ID = ""
		}
		if c.Field == "id" && e.idFrom != "id" && e.idFrom != "" && e.kind != KindAPIKey {
			c.Hint = joinHint(c.Hint, fmt.Sprintf(`the %s's id defaults to its %s; give it an explicit "id"`, e.kind, e.idFrom))
		}
		return l.place(&c, e)
	}
	if errors.Is(err, ErrConflict) && e.id != "" && l.idTaken(e.id) {
		return l.fileError(err, joinPath(e.path(), e.idFrom), idAdvice(e))
	}
	return l.fileError(err, e.path(), "")
}

// idAdvice says how to fix an ID that another entity of the store has.
func idAdvice(e entity) string {
	const unique = "IDs are unique across the store, whatever the kind and the organization"
	switch e.idFrom {
	case "access_key":
		return fmt.Sprintf(`%s: give this API key another explicit "access_key"`, unique)
	case "id":
		return fmt.Sprintf(`%s: give this %s another explicit "id"`, unique, e.kind)
	}
	return fmt.Sprintf(`the %s's id defaults to its %s, and %s: give this %s an explicit "id"`, e.kind, e.idFrom, unique, e.kind)
}

// idTaken reports whether an entity of any kind has the ID id.
func (l *loader) idTaken(id string) bool {
	ctx, tx := l.ctx, l.tx
	found := func(err error) bool { return err == nil }
	if _, err := tx.GetOrganization(ctx, id); found(err) {
		return true
	}
	if _, err := tx.GetProject(ctx, id); found(err) {
		return true
	}
	if _, err := tx.GetUser(ctx, id); found(err) {
		return true
	}
	if _, err := tx.GetApplication(ctx, id); found(err) {
		return true
	}
	if _, err := tx.GetGroup(ctx, id); found(err) {
		return true
	}
	if _, err := tx.GetPolicy(ctx, id); found(err) {
		return true
	}
	_, err := tx.GetAPIKey(ctx, id)
	return found(err)
}

func joinHint(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// decodeError turns a decoding error into a placed ValidationError.
func (l *loader) decodeError(err error) error {
	var we *wire.Error
	if !errors.As(err, &we) {
		return fmt.Errorf("iam: %s: %w", l.name, err)
	}
	ve := &ValidationError{Reason: we.Msg, Hint: we.Hint, File: l.name, Path: we.Path}
	ve.Line, ve.Column = l.pos(we.Offset)
	ve.Entity, ve.Field = entityOfPath(we.Path)
	return ve
}

// worldLists names the entity kind of each list of a world file.
var worldLists = map[string]Kind{
	"projects": KindProject, "users": KindUser, "applications": KindApplication,
	"groups": KindGroup, "api_keys": KindAPIKey, "permission_sets": KindPermissionSet,
	"policies": KindPolicy,
}

// entityOfPath splits a document path into the entity it falls in and the
// field inside it ("policies[0].rules[1].x" -> "policy", "rules[1].x").
func entityOfPath(path string) (entityName, field string) {
	head := path
	if i := strings.IndexAny(path, ".["); i >= 0 {
		head = path[:i]
	}
	rest := path[len(head):]
	if k, ok := worldLists[head]; ok && strings.HasPrefix(rest, "[") {
		if j := strings.IndexByte(rest, ']'); j >= 0 {
			return k.String(), strings.TrimPrefix(rest[j+1:], ".")
		}
	}
	if head == "organization" {
		return KindOrganization.String(), strings.TrimPrefix(rest, ".")
	}
	if slices.Contains(wire.PolicyKeys, head) {
		return KindPolicy.String(), path
	}
	return "", ""
}

// kindOf tells the kind of file from its top-level keys, and rejects keys
// of the other kind.
func (l *loader) kindOf(keys []wire.Key) (fileKind, error) {
	has := func(name string) bool {
		return slices.ContainsFunc(keys, func(k wire.Key) bool { return k.Name == name })
	}
	keyErr := func(k wire.Key, reason, hint string) error {
		ve := &ValidationError{Reason: reason, Hint: hint, File: l.name, Path: k.Name}
		ve.Line, ve.Column = l.pos(k.Offset)
		return ve
	}
	switch {
	case has("organization"):
		for _, k := range keys {
			if slices.Contains(wire.PolicyKeys, k.Name) {
				return 0, keyErr(k, fmt.Sprintf("unknown field %q in a world file", k.Name), `a world file lists its policies in "policies": [...]`)
			}
		}
		return worldFile, nil
	case has("policies"):
		for _, k := range keys {
			switch {
			case k.Name == "policies":
			case slices.Contains(wire.WorldKeys, k.Name):
				return 0, keyErr(k, fmt.Sprintf("%q belongs in a world file, which needs an \"organization\"", k.Name), "")
			default:
				return 0, keyErr(k, fmt.Sprintf("unknown field %q beside \"policies\"", k.Name), `a policy file holds one policy object, or {"policies": [...]}`)
			}
		}
		return policyList, nil
	case len(keys) == 0:
		ve := &ValidationError{File: l.name, Reason: "the file holds neither a world nor a policy", Hint: `a world file starts with "organization"; a policy file is one policy object, or {"policies": [...]}`}
		ve.Line, ve.Column = l.at("")
		return 0, ve
	}
	for _, k := range keys {
		if slices.Contains(wire.WorldKeys, k.Name) {
			return 0, keyErr(k, fmt.Sprintf("%q belongs in a world file, which needs an \"organization\"", k.Name), "")
		}
	}
	return policyObject, nil
}
