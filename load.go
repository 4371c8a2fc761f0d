package iam

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

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

type fileKind uint8

const (
	worldFile fileKind = iota + 1
	policyList
	policyObject
)

// loader holds one Load call's state.
type loader struct {
	name string
	data []byte
	opts loadOptions

	ctx context.Context
	tx  Tx
	org string // the target organization's ID

	// refs resolves references, by the kind referred to. A world file fills
	// them from the file before the transaction; a policy file from the
	// store, on first use (fromStore).
	refs      map[Kind]*refTable
	fromStore bool
}

// entity is one entity of the file, for resolving and placing errors.
type entity struct {
	kind      Kind
	list      string // the key of its list ("policies"), or its own key ("organization")
	index     int    // its index in list, or -1 when it is not in a list
	id        string // its ID; "" when the store generates it
	idFrom    string // the key the ID comes from: "id", "name", "email", "access_key"; "" when generated
	bearer    string // API keys: the key naming the bearer
	principal string // policies: the key naming the principal
}

// path returns the entity's JSON path ("policies[3]"; "" for a policy
// file's top level). Paths are only built for errors.
func (e *entity) path() string { return elemPath(e.list, e.index) }

func elemPath(list string, index int) string {
	if index < 0 {
		return list
	}
	return list + "[" + strconv.Itoa(index) + "]"
}

// pickID sets the entity's ID: the explicit one, else the fallback (a
// name), recording which key it came from.
func (e *entity) pickID(id, fallbackKey, fallback string) {
	switch {
	case id != "":
		e.id, e.idFrom = id, "id"
	case fallback != "":
		e.id, e.idFrom = fallback, fallbackKey
	}
}

// refTable maps IDs and names of one kind of entity to IDs.
type refTable struct {
	byID   map[string]refEntry   // ID -> entity
	byName map[string][]refEntry // name -> entities
}

type refEntry struct {
	id    string
	list  string // where the file defines it; "" when stored
	index int
}

func newRefTable() *refTable {
	return &refTable{byID: map[string]refEntry{}, byName: map[string][]refEntry{}}
}

func (t *refTable) add(id, name string, e *entity) {
	r := refEntry{id: id, index: -1}
	if e != nil {
		r.list, r.index = e.list, e.index
	}
	t.byID[id] = r
	if name != "" && !slices.ContainsFunc(t.byName[name], func(x refEntry) bool { return x.id == id }) {
		t.byName[name] = append(t.byName[name], r)
	}
}

// ----- errors -----

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

// ----- references -----

// table returns the reference table of kind k.
func (l *loader) table(k Kind) (*refTable, error) {
	if t := l.refs[k]; t != nil {
		return t, nil
	}
	t := newRefTable()
	l.refs[k] = t
	if !l.fromStore {
		return t, nil
	}
	ctx, tx := l.ctx, l.tx
	switch k {
	case KindProject:
		vs, err := tx.ListProjects(ctx, l.org)
		if err != nil {
			return nil, err
		}
		for _, v := range vs {
			t.add(v.ID, v.Name, nil)
		}
	case KindUser:
		vs, err := tx.ListUsers(ctx, l.org)
		if err != nil {
			return nil, err
		}
		for _, v := range vs {
			t.add(v.ID, strings.ToLower(v.Email), nil)
		}
	case KindApplication:
		vs, err := tx.ListApplications(ctx, l.org)
		if err != nil {
			return nil, err
		}
		for _, v := range vs {
			t.add(v.ID, v.Name, nil)
		}
	case KindGroup:
		vs, err := tx.ListGroups(ctx, l.org)
		if err != nil {
			return nil, err
		}
		for _, v := range vs {
			t.add(v.ID, v.Name, nil)
		}
	}
	return t, nil
}

// resolve turns ref, written at field of entity e to name an entity of
// kind k, into an ID: an ID of the organization first, then a name. A ref
// that matches nothing is returned as is, for the store to reject with its
// suggestions. field is only called to report an ambiguous name.
func (l *loader) resolve(k Kind, ref string, e entity, field func() string) (string, error) {
	t, err := l.table(k)
	if err != nil {
		return "", err
	}
	if _, ok := t.byID[ref]; ok {
		return ref, nil
	}
	name := ref
	if k == KindUser {
		name = strings.ToLower(ref)
	}
	switch ents := t.byName[name]; len(ents) {
	case 0:
		return ref, nil
	case 1:
		return ents[0].id, nil
	default:
		list := make([]string, len(ents))
		for i, x := range ents {
			list[i] = fmt.Sprintf("%q", x.id)
			if x.list != "" {
				path := elemPath(x.list, x.index)
				line, col := l.at(path)
				list[i] += fmt.Sprintf(" (%s at %s:%d:%d)", path, l.name, line, col)
			}
		}
		return "", l.invalid(e, field(), ref, fmt.Sprintf("ambiguous reference: %d %ss are named %q: %s", len(ents), k, ref, strings.Join(list, " and ")), "refer to one of them by its id", nil)
	}
}

// ----- world files -----

// worldPlan is a world file with every entity's ID worked out.
type worldPlan struct {
	f                                                   *wire.File
	org                                                 Organization
	orgEnt                                              entity
	projects, users, apps, groups, keys, sets, policies []entity
	ids                                                 map[string]entity // every ID the file gives
}

func (l *loader) loadWorld(ctx context.Context, store Store, f *wire.File) error {
	w, err := l.planWorld(f)
	if err != nil {
		return err
	}
	return store.Atomic(ctx, func(tx Tx) error {
		l.ctx, l.tx = ctx, tx
		return l.writeWorld(w)
	})
}

// planWorld works out the IDs of the file's entities, rejects IDs used
// twice in the file, and fills the reference tables.
func (l *loader) planWorld(f *wire.File) (*worldPlan, error) {
	w := &worldPlan{f: f, orgEnt: entity{kind: KindOrganization, list: "organization", index: -1}}
	if f.Organization == nil {
		return nil, l.invalid(w.orgEnt, "", "", "the organization is missing", `write "organization": {"id": "...", "name": "..."}`, nil)
	}
	w.org = Organization{ID: f.Organization.ID, Name: f.Organization.Name}
	w.orgEnt.pickID(w.org.ID, "name", w.org.Name)
	w.org.ID = w.orgEnt.id
	if w.org.ID == "" {
		return nil, l.invalid(w.orgEnt, "", "", `the organization needs an "id" or a "name"`, "", nil)
	}
	if l.opts.org != "" && l.opts.org != w.org.ID {
		return nil, l.invalid(w.orgEnt, w.orgEnt.idFrom, w.org.ID, fmt.Sprintf("the file describes organization %q, not %q named with IntoOrganization", w.org.ID, l.opts.org), "", nil)
	}
	l.org = w.org.ID

	ents := func(list string, n int, kind Kind, id func(i int, e *entity)) []entity {
		out := make([]entity, n)
		for i := range out {
			out[i] = entity{kind: kind, list: list, index: i}
			id(i, &out[i])
		}
		return out
	}
	w.projects = ents("projects", len(f.Projects), KindProject, func(i int, e *entity) {
		p := f.Projects[i]
		if p.ID == "" && p.Name == "default" {
			e.id, e.idFrom = l.org, "name" // the default project
			return
		}
		e.pickID(p.ID, "name", p.Name)
	})
	w.users = ents("users", len(f.Users), KindUser, func(i int, e *entity) { e.pickID(f.Users[i].ID, "email", f.Users[i].Email) })
	w.apps = ents("applications", len(f.Applications), KindApplication, func(i int, e *entity) {
		e.pickID(f.Applications[i].ID, "name", f.Applications[i].Name)
	})
	w.groups = ents("groups", len(f.Groups), KindGroup, func(i int, e *entity) { e.pickID(f.Groups[i].ID, "name", f.Groups[i].Name) })
	w.keys = ents("api_keys", len(f.APIKeys), KindAPIKey, func(i int, e *entity) {
		if k := f.APIKeys[i].AccessKey; k != "" {
			e.id, e.idFrom = k, "access_key"
		}
	})
	w.sets = ents("permission_sets", len(f.PermissionSets), KindPermissionSet, func(i int, e *entity) {
		if n := f.PermissionSets[i].Name; n != "" {
			e.id, e.idFrom = n, "name"
		}
	})
	w.policies = ents("policies", len(f.Policies), KindPolicy, func(i int, e *entity) {
		e.pickID(f.Policies[i].ID, "name", f.Policies[i].Name)
	})

	// IDs are unique across kinds (the default project shares the
	// organization's); set names only among sets.
	seen := map[string]entity{w.org.ID: w.orgEnt}
	for _, list := range [][]entity{w.projects, w.users, w.apps, w.groups, w.keys, w.policies} {
		for _, e := range list {
			if e.id == "" {
				continue
			}
			if prev, ok := seen[e.id]; ok && !(prev.kind == KindOrganization && e.kind == KindProject) {
				return nil, l.duplicate(e, prev)
			}
			seen[e.id] = e
		}
	}
	w.ids = seen
	names := map[string]entity{}
	for _, e := range w.sets {
		if prev, ok := names[e.id]; ok && e.id != "" {
			return nil, l.duplicate(e, prev)
		}
		names[e.id] = e
	}

	// Reference tables.
	projects := newRefTable()
	defaultName := "default"
	for i, e := range w.projects {
		if e.id == l.org && f.Projects[i].Name != "" {
			defaultName = f.Projects[i].Name
		}
	}
	projects.add(l.org, defaultName, nil)
	for i, e := range w.projects {
		if e.id != "" {
			projects.add(e.id, f.Projects[i].Name, &w.projects[i])
		}
	}
	users, apps, groups := newRefTable(), newRefTable(), newRefTable()
	for i, e := range w.users {
		if e.id != "" {
			users.add(e.id, strings.ToLower(f.Users[i].Email), &w.users[i])
		}
	}
	for i, e := range w.apps {
		if e.id != "" {
			apps.add(e.id, f.Applications[i].Name, &w.apps[i])
		}
	}
	for i, e := range w.groups {
		if e.id != "" {
			groups.add(e.id, f.Groups[i].Name, &w.groups[i])
		}
	}
	l.refs[KindProject], l.refs[KindUser], l.refs[KindApplication], l.refs[KindGroup] = projects, users, apps, groups
	return w, nil
}

// duplicate reports that e has the ID of prev, another entity of the file.
func (l *loader) duplicate(e, prev entity) error {
	line, col := l.at(joinPath(prev.path(), prev.idFrom))
	what := fmt.Sprintf("%s %s", prev.kind, prev.path())
	if prev.kind == KindOrganization {
		what = "the organization"
	}
	reason := fmt.Sprintf("the id %q is already the id of %s (%s:%d:%d)", e.id, what, l.name, line, col)
	hint := "IDs are unique across the store, whatever the kind: give one of them another id"
	if e.kind == KindPermissionSet {
		reason = fmt.Sprintf("the permission set %q is already defined at %s (%s:%d:%d)", e.id, prev.path(), l.name, line, col)
		hint = "keep one of them"
	} else if e.idFrom != "id" && e.idFrom != "access_key" {
		hint = fmt.Sprintf(`the %s's id defaults to its %s; IDs are unique across the store, whatever the kind: give one of them an explicit "id"`, e.kind, e.idFrom)
	}
	return l.invalid(e, e.idFrom, e.id, reason, hint, ErrConflict)
}

// checkSets checks the file's permission sets together, as the store
// does when the transaction ends (a pattern must match a permission that
// some set declares), so that an error points into the file.
func (l *loader) checkSets(sets []wire.PermissionSet, ents []entity, org string) error {
	c, ok := l.tx.(interface{ checkCatalogue(org string) error })
	if !ok {
		return nil
	}
	err := c.checkCatalogue(org)
	var ve *ValidationError
	if errors.As(err, &ve) {
		for i, s := range sets {
			if s.Name == ve.ID {
				return l.storeError(err, ents[i])
			}
		}
	}
	return err
}

// writeWorld creates the organization and its entities, in dependency
// order, inside the transaction.
func (l *loader) writeWorld(w *worldPlan) error {
	ctx, tx, f, org := l.ctx, l.tx, w.f, w.org.ID
	if _, err := tx.GetOrganization(ctx, org); err == nil {
		if !l.opts.replace {
			return l.fileError(fmt.Errorf("iam: organization %q is already in the store: %w", org, ErrConflict),
				joinPath(w.orgEnt.path(), w.orgEnt.idFrom), "load the file with iam.ReplaceExisting() to replace it")
		}
		if err := tx.DeleteOrganization(ctx, org); err != nil {
			return l.storeError(err, w.orgEnt)
		}
	} else if !errors.Is(err, ErrNotFound) {
		return err
	}
	if _, err := tx.CreateOrganization(ctx, w.org); err != nil {
		return l.storeError(err, w.orgEnt)
	}

	order, err := l.setOrder(f.PermissionSets, w.sets)
	if err != nil {
		return err
	}
	for _, i := range order {
		s := f.PermissionSets[i]
		ps := PermissionSet{Name: s.Name, OrganizationID: org, ScopeType: ScopeType(s.ScopeType),
			Permissions: nonEmpty(s.Permissions), Includes: nonEmpty(s.Includes), Declared: nonEmpty(s.Declared), Description: s.Description, Categories: nonEmpty(s.Categories)}
		if _, err := tx.CreatePermissionSet(ctx, ps); err != nil {
			return l.storeError(err, w.sets[i])
		}
	}
	if err := l.checkSets(f.PermissionSets, w.sets, org); err != nil {
		return err
	}

	for i, p := range f.Projects {
		e := w.projects[i]
		proj := Project{ID: e.id, OrganizationID: org, Name: p.Name, Description: p.Description}
		var err error
		if e.id == org {
			if proj.Name == "" {
				proj.Name = "default"
			}
			_, err = tx.UpdateProject(ctx, proj)
		} else {
			_, err = tx.CreateProject(ctx, proj)
		}
		if err != nil {
			return l.storeError(err, e)
		}
	}

	for i, u := range f.Users {
		user := User{ID: w.users[i].id, OrganizationID: org, Email: u.Email, Username: u.Username,
			Type: UserType(u.Type), Locked: u.Locked, Tags: nonEmpty(u.Tags)}
		if _, err := tx.CreateUser(ctx, user); err != nil {
			return l.storeError(err, w.users[i])
		}
	}

	for i, a := range f.Applications {
		app := Application{ID: w.apps[i].id, OrganizationID: org, Name: a.Name, Description: a.Description,
			Managed: a.Managed, Tags: nonEmpty(a.Tags)}
		if _, err := tx.CreateApplication(ctx, app); err != nil {
			return l.storeError(err, w.apps[i])
		}
	}

	for i, g := range f.Groups {
		e := w.groups[i]
		group := Group{ID: e.id, OrganizationID: org, Name: g.Name, Description: g.Description,
			AllUsers: g.AllUsers, AllApplications: g.AllApplications, Tags: nonEmpty(g.Tags)}
		for j, ref := range g.Users {
			id, err := l.resolve(KindUser, ref, e, func() string { return fmt.Sprintf("users[%d]", j) })
			if err != nil {
				return err
			}
			group.UserIDs = append(group.UserIDs, id)
		}
		for j, ref := range g.Applications {
			id, err := l.resolve(KindApplication, ref, e, func() string { return fmt.Sprintf("applications[%d]", j) })
			if err != nil {
				return err
			}
			group.ApplicationIDs = append(group.ApplicationIDs, id)
		}
		if _, err := tx.CreateGroup(ctx, group); err != nil {
			return l.storeError(err, e)
		}
	}

	for i, k := range f.APIKeys {
		e := w.keys[i]
		key, err := l.apiKey(k, &e)
		if err != nil {
			return err
		}
		if _, err := tx.CreateAPIKey(ctx, key); err != nil {
			return l.storeError(err, e)
		}
	}

	named := namer(w.ids)
	for i, wp := range f.Policies {
		e := w.policies[i]
		p, err := l.policy(wp, &e)
		if err != nil {
			return err
		}
		named(&p, &e)
		if _, err := tx.CreatePolicy(ctx, p); err != nil {
			return l.storeError(err, e)
		}
	}
	return nil
}

// setOrder orders the file's permission sets so that a set comes after
// the sets of the file it includes, and rejects include cycles among them.
func (l *loader) setOrder(sets []wire.PermissionSet, ents []entity) ([]int, error) {
	byName := make(map[string]int, len(sets))
	for i, s := range sets {
		byName[s.Name] = i
	}
	const (
		fresh = iota
		visiting
		done
	)
	state := make([]uint8, len(sets))
	order := make([]int, 0, len(sets))
	var stack []int
	var visit func(i int) error
	visit = func(i int) error {
		state[i] = visiting
		stack = append(stack, i)
		for k, inc := range sets[i].Includes {
			j, ok := byName[inc]
			if !ok || j == i { // not the file's, or itself: the store says so
				continue
			}
			switch state[j] {
			case visiting:
				at := slices.Index(stack, j)
				var cycle []string
				for _, x := range stack[at:] {
					cycle = append(cycle, sets[x].Name)
				}
				cycle = append(cycle, inc)
				return l.invalid(ents[i], fmt.Sprintf("includes[%d]", k), inc, "includes form a cycle: "+strings.Join(cycle, " -> "), "remove one of these includes", nil)
			case fresh:
				if err := visit(j); err != nil {
					return err
				}
			}
		}
		stack = stack[:len(stack)-1]
		state[i] = done
		order = append(order, i)
		return nil
	}
	for i := range sets {
		if state[i] == fresh {
			if err := visit(i); err != nil {
				return nil, err
			}
		}
	}
	return order, nil
}

// apiKey converts an API key of the file.
func (l *loader) apiKey(k wire.APIKey, e *entity) (APIKey, error) {
	key := APIKey{AccessKey: k.AccessKey, OrganizationID: l.org, SecretSHA256: k.SecretSHA256, Description: k.Description}
	switch {
	case k.User != "" && k.Application != "":
		return key, l.invalid(*e, "application", k.Application, `an API key has one bearer: "user" or "application", not both`, "", nil)
	case k.User != "":
		e.bearer = "user"
		id, err := l.resolve(KindUser, k.User, *e, func() string { return "user" })
		if err != nil {
			return key, err
		}
		key.Bearer = UserPrincipal(id)
	case k.Application != "":
		e.bearer = "application"
		id, err := l.resolve(KindApplication, k.Application, *e, func() string { return "application" })
		if err != nil {
			return key, err
		}
		key.Bearer = ApplicationPrincipal(id)
	default:
		return key, l.invalid(*e, "", "", "an API key needs a bearer", `name it with "user" or "application"`, nil)
	}
	if k.SecretSHA256 == "" {
		return key, l.invalid(*e, "secret_sha256", "", `the secret's SHA-256 ("secret_sha256") is required`, "a file never carries a plain secret: give the hex SHA-256 of the key's secret (iam.HashSecret computes it)", nil)
	}
	if k.DefaultProjectID != "" {
		id, err := l.resolve(KindProject, k.DefaultProjectID, *e, func() string { return "default_project_id" })
		if err != nil {
			return key, err
		}
		key.DefaultProjectID = id
	}
	if k.ExpiresAt != "" {
		t, err := time.Parse(time.RFC3339, k.ExpiresAt)
		if err != nil {
			return key, l.invalid(*e, "expires_at", k.ExpiresAt, "not an RFC 3339 time", `write it as "2030-01-01T00:00:00Z"`, nil)
		}
		key.ExpiresAt = t.UTC()
	}
	return key, nil
}

// policy converts a policy of the file, resolving its references.
func (l *loader) policy(wp wire.Policy, e *entity) (Policy, error) {
	p := Policy{ID: e.id, OrganizationID: l.org, Name: wp.Name, Description: wp.Description, Tags: nonEmpty(wp.Tags)}
	type principalKey struct {
		key, ref string
		kind     Kind
		typ      PrincipalType
	}
	var given []principalKey
	for _, c := range []principalKey{
		{"user", wp.User, KindUser, PrincipalUser},
		{"application", wp.Application, KindApplication, PrincipalApplication},
		{"group", wp.Group, KindGroup, PrincipalGroup},
	} {
		if c.ref != "" {
			given = append(given, c)
		}
	}
	if len(given) > 1 {
		// Blame the second one in the file's order.
		offset := func(c principalKey) int64 {
			off, _ := wire.LocateKey(l.data, joinPath(e.path(), c.key))
			return off
		}
		slices.SortFunc(given, func(a, b principalKey) int { return cmp.Compare(offset(a), offset(b)) })
		return p, l.invalid(*e, given[1].key, given[1].ref, fmt.Sprintf("a policy has at most one principal, and this one already names its %s", given[0].key), "give each principal its own policy, or gather them in a group", nil)
	}
	for _, c := range given {
		e.principal = c.key
		id, err := l.resolve(c.kind, c.ref, *e, func() string { return c.key })
		if err != nil {
			return p, err
		}
		p.Principal = Principal{Type: c.typ, ID: id}
	}
	if wp.Rules != nil {
		p.Rules = make([]Rule, 0, len(wp.Rules))
	}
	for j, r := range wp.Rules {
		at := func(field string) string { return joinPath("rules["+strconv.Itoa(j)+"]", field) }
		rule := Rule{PermissionSets: r.PermissionSets, Condition: r.Condition}
		switch {
		case r.Projects != nil && r.Organization:
			return p, l.invalid(*e, at(""), "", `a rule has exactly one scope: "projects" or "organization": true, not both`, `remove "projects" to grant in every project, or "organization" to grant in the listed ones`, nil)
		case r.Organization:
			rule.Scope.OrganizationID = l.org
		case r.Projects == nil:
			return p, l.invalid(*e, at(""), "", "a rule has exactly one scope, and this one has none", `set either "projects": [...] or "organization": true`, nil)
		case len(r.Projects) == 0:
			return p, l.invalid(*e, at("projects"), "", "the list of projects is empty", `list at least one project, or write "organization": true for every project`, nil)
		default:
			rule.Scope.ProjectIDs = make([]string, len(r.Projects))
			for k, ref := range r.Projects {
				id, err := l.resolve(KindProject, ref, *e, func() string { return at(fmt.Sprintf("projects[%d]", k)) })
				if err != nil {
					return p, err
				}
				rule.Scope.ProjectIDs[k] = id
			}
		}
		p.Rules = append(p.Rules, rule)
	}
	return p, nil
}

// namer returns the function that names a file's policy given with
// neither "id" nor "name" (e.id is empty), once its principal is resolved:
// the name is derived from the principal, so that loading the same file
// again names the same policy (and updates it) instead of adding another.
// taken holds the IDs the file gives explicitly; names handed out are
// added to it, so that two such policies of one principal are told apart
// by their order in the file.
func namer(taken map[string]entity) func(p *Policy, e *entity) {
	given := map[string]bool{}
	return func(p *Policy, e *entity) {
		if e.id != "" {
			return
		}
		name := derivedPolicyName(p.Principal, func(s string) bool {
			_, inFile := taken[s]
			return inFile || given[s]
		})
		given[name] = true
		p.ID, p.Name = name, name
		e.id, e.idFrom = name, e.principal
	}
}

// derivedPolicyName is the name of a policy that a file gives neither an
// "id" nor a "name": "user-ID", "application-ID" or "group-ID" after its
// principal (spaces made dashes), "no-principal" without one, followed by
// "-2", "-3"... when taken says the name is in use. A name that would be
// longer than a name or an ID may be is cut, and keeps a hash of the whole
// so that two long principal IDs never share it.
func derivedPolicyName(p Principal, taken func(string) bool) string {
	base := "no-principal"
	if !p.IsZero() {
		// An ID has no spaces, but a reference that resolves to nothing
		// may: the store then reports the reference, not the name.
		base = p.Type.String() + "-" + strings.Map(func(r rune) rune {
			if unicode.IsSpace(r) || unicode.IsControl(r) {
				return '-'
			}
			return r
		}, p.ID)
	}
	for n := 1; ; n++ {
		suffix := ""
		if n > 1 {
			suffix = "-" + strconv.Itoa(n)
		}
		name := base + suffix
		if limit := min(MaxNameLength, MaxIDLength); utf8.RuneCountInString(name) > limit {
			sum := sha256.Sum256([]byte(base))
			tail := "-" + hex.EncodeToString(sum[:4]) + suffix
			name = string([]rune(base)[:limit-len(tail)]) + tail
		}
		if !taken(name) {
			return name
		}
	}
}

// nonEmpty returns s, or nil when it is empty.
func nonEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

// ----- policy files -----

func (l *loader) loadPolicies(ctx context.Context, store Store, pols []wire.Policy, list string) error {
	ents := make([]entity, len(pols))
	seen := map[string]entity{}
	for i, wp := range pols {
		e := entity{kind: KindPolicy, list: list, index: i}
		if list == "" {
			e.index = -1
		}
		e.pickID(wp.ID, "name", wp.Name)
		if prev, ok := seen[e.id]; ok && e.id != "" {
			return l.duplicate(e, prev)
		}
		seen[e.id] = e
		ents[i] = e
	}
	return store.Atomic(ctx, func(tx Tx) error {
		l.ctx, l.tx = ctx, tx
		org, err := l.targetOrganization()
		if err != nil {
			return err
		}
		l.org, l.fromStore = org, true
		named := namer(seen)
		for i, wp := range pols {
			e := ents[i]
			p, err := l.policy(wp, &e)
			if err != nil {
				return err
			}
			named(&p, &e)
			if err := l.putPolicy(p, e); err != nil {
				return err
			}
		}
		return nil
	})
}

// targetOrganization picks the organization a policy file loads into.
func (l *loader) targetOrganization() (string, error) {
	ctx, tx := l.ctx, l.tx
	orgs, err := tx.ListOrganizations(ctx)
	if err != nil {
		return "", err
	}
	ids := make([]string, len(orgs))
	for i, o := range orgs {
		ids[i] = o.ID
	}
	fail := func(reason, hint string, cause error) error {
		return &ValidationError{File: l.name, Reason: reason, Hint: hint, Cause: cause}
	}
	switch {
	case l.opts.org != "":
		if slices.Contains(ids, l.opts.org) {
			return l.opts.org, nil
		}
		return "", fail(fmt.Sprintf("organization %q, named with IntoOrganization, is not in the store", l.opts.org), didYouMean(l.opts.org, ids), ErrNotFound)
	case len(ids) == 1:
		return ids[0], nil
	case len(ids) == 0:
		return "", fail("the store holds no organization to load the policies into", "load a world file first", ErrNotFound)
	}
	shown := ids[:min(len(ids), 5)]
	more := ""
	if len(ids) > len(shown) {
		more = ", ..."
	}
	return "", fail(fmt.Sprintf("the store holds %d organizations (%s%s), so a policy file must name the one it loads into", len(ids), strings.Join(shown, ", "), more),
		"name it with iam.IntoOrganization(id)", nil)
}

// putPolicy creates a policy of a policy file, or updates the stored one
// with its ID when the load replaces existing policies.
func (l *loader) putPolicy(p Policy, e entity) error {
	ctx, tx := l.ctx, l.tx
	if p.ID != "" {
		old, err := tx.GetPolicy(ctx, p.ID)
		switch {
		case err == nil && old.OrganizationID == l.org:
			if !l.opts.replace {
				return l.fileError(fmt.Errorf("iam: policy %q already exists in organization %q: %w", p.ID, l.org, ErrConflict),
					joinPath(e.path(), e.idFrom), "load the file with iam.ReplaceExisting() to update it")
			}
			_, err = tx.UpdatePolicy(ctx, p)
			return l.storeError(err, e)
		case err != nil && !errors.Is(err, ErrNotFound):
			return err
		}
		// Not found, or another organization's: CreatePolicy reports the
		// conflict, with advice.
	}
	_, err := tx.CreatePolicy(ctx, p)
	return l.storeError(err, e)
}
