package iamfile

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/iamkit/iam"
	"github.com/iamkit/iam/internal/scaleway"
	"github.com/iamkit/iam/internal/wire"
)

// Source is one file given to Apply: its name, for error messages (a
// path), and its contents.
type Source struct {
	Name string
	Data []byte
}

// Option configures Apply.
type Option func(*options)

type options struct {
	org   string
	prune bool
}

// IntoOrganization names the organization that policy files apply to.
// Without it, they apply to the organization of the world file given with
// them, or else to the one organization the store holds.
func IntoOrganization(id string) Option {
	return func(o *options) { o.org = id }
}

// Prune makes the files the whole list of the organization's policies:
// a stored policy that no file names is deleted. Without it, Apply leaves
// such policies alone (see Apply).
func Prune() Option {
	return func(o *options) { o.prune = true }
}

// Op is what Apply does to an entity.
type Op uint8

// Operations.
const (
	OpCreate Op = iota + 1
	OpUpdate
	OpDelete
)

var opNames = [...]string{"", "create", "update", "delete"}

// String returns "create", "update" or "delete".
func (o Op) String() string {
	if int(o) < len(opNames) {
		return opNames[o]
	}
	return "unknown"
}

// EntityChange is one entity that Apply writes, or that a Plan finds
// created, updated or deleted.
type EntityChange struct {
	Op   Op
	Kind iam.Kind
	ID   string // a permission set's name; an API key's access key
	// Fields lists, for an update, the fields that differ, by their
	// names in files ("rules", "users", "description").
	Fields []string
}

// String renders "create project A", "update policy ops (rules, tags)".
func (c EntityChange) String() string {
	s := fmt.Sprintf("%s %s %s", c.Op, c.Kind, c.ID)
	if len(c.Fields) > 0 {
		s += " (" + strings.Join(c.Fields, ", ") + ")"
	}
	return s
}

// Result is what Apply did.
type Result struct {
	OrganizationID string
	// Changes lists the entities written, in the order they were; empty
	// when the organization already was what the files say, in which
	// case nothing was written and the store's revision did not move.
	Changes []EntityChange
}

// ApplyFiles reads the files at paths and applies them as Apply does.
func ApplyFiles(ctx context.Context, store iam.Store, paths []string, opts ...Option) (*Result, error) {
	files := make([]Source, len(paths))
	for i, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("iam: apply: %w", err)
		}
		files[i] = Source{Name: p, Data: data}
	}
	return Apply(ctx, store, files, opts...)
}

// Apply makes one organization of store what files say, in one atomic
// write (one store.Atomic call): every entity the files describe is
// created or updated, and what they no longer describe is deleted. It is
// idempotent: applying the same files again writes nothing, and the
// store's revision does not move. A failure of any kind writes nothing.
//
// files hold at most one world file and any number of policy files (the
// formats of iam.Load). With a world file, the organization is the
// file's: it is created when the store does not hold it, and its
// projects, users, applications, groups, API keys and permission sets
// become exactly the file's. Policy files then apply to it, resolving
// their references against it. Without a world file, policy files apply
// to the organization named by IntoOrganization, or to the one the store
// holds, as stored.
//
// Policies are identified by ID: a policy's "id", else its "name", else
// the name derived from its principal ("application-production-c"; see
// iam.Load). A policy that two files define is an error (ErrConflict). A
// policy that the files define replaces the stored one whole, so a rule
// removed from a file is removed from the store, and its grant with it.
//
// A stored policy that no file names is kept, because a store's policies
// may come from several files applied one at a time (a world file, then
// each team's policy file): applying the world file again must not delete
// the others. A kept policy follows the world's deletions as the store's
// cascades do: it loses a deleted principal and deleted projects (a rule
// left with no project goes). Pass Prune to delete the policies that no
// file names instead; to make an organization exactly what a repository
// says, apply all of its files together with Prune.
//
// The files are checked by the loader first, on a scratch copy of the
// organization (the store's built-in catalogue, and its condition engine
// when it is an iam.ConditionSource, as MemoryStore is), so that an
// invalid file is reported at its file:line:column, as iam.Load reports
// it; then the store checks every write again. Apply holds the store's
// write transaction while it works, so that no other write slips in
// between reading the organization and writing it.
func Apply(ctx context.Context, store iam.Store, files []Source, opts ...Option) (*Result, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	var world *Source
	var policies []Source
	for i := range files {
		f := &files[i]
		isWorld, err := worldFile(ctx, f)
		if err != nil {
			return nil, err
		}
		switch {
		case !isWorld:
			policies = append(policies, *f)
		case world != nil:
			return nil, fmt.Errorf("iam: apply: %s and %s are both world files: apply one organization at a time: %w", world.Name, f.Name, iam.ErrInvalid)
		default:
			world = f
		}
	}
	if world == nil && len(policies) == 0 {
		return nil, fmt.Errorf("iam: apply: no file to apply: %w", iam.ErrInvalid)
	}
	var res *Result
	err := store.Atomic(ctx, func(tx iam.Tx) error {
		res = nil
		a := &applier{ctx: ctx, store: store, tx: tx, opts: o, world: world, policies: policies}
		r, err := a.run()
		res = r
		return err
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// worldFile reports whether a file is a world file. A file that does not
// decode is reported as iam.Load reports it.
func worldFile(ctx context.Context, f *Source) (bool, error) {
	if scaleway.IsScaleway(f.Data) {
		return true, nil // an export of one organization: a world, once converted
	}
	var w wire.File
	keys, err := wire.Decode(f.Data, &w)
	if err != nil {
		// The loader places the error; it fails before it writes.
		if lerr := iam.Load(ctx, iam.NewMemoryStore(iam.WithCatalogue(nil)), f.Name, f.Data); lerr != nil {
			return false, lerr
		}
		return false, fmt.Errorf("iam: %s: %w", f.Name, err)
	}
	return slices.ContainsFunc(keys, func(k wire.Key) bool { return k.Name == "organization" }), nil
}

// applier is one Apply call inside its transaction.
type applier struct {
	ctx      context.Context
	store    iam.Store
	tx       iam.Tx
	opts     options
	world    *Source
	policies []Source

	org     string
	scratch *iam.MemoryStore
	defined map[string]string // policy ID -> the file that defines it
}

func (a *applier) run() (*Result, error) {
	if err := a.buildScratch(); err != nil {
		return nil, err
	}
	changes, err := reconcile(a.ctx, a.tx, a.scratch, a.org, a.locate)
	if err != nil {
		return nil, err
	}
	return &Result{OrganizationID: a.org, Changes: changes}, nil
}

// buildScratch works out what the organization must become, in a scratch
// store: the world file, or the organization as stored; then the policy
// files; then the policies no file names, kept or pruned.
func (a *applier) buildScratch() error {
	ctx, tx := a.ctx, a.tx
	builtin, err := tx.ListPermissionSets(ctx, "")
	if err != nil {
		return err
	}
	sopts := []iam.Option{iam.WithCatalogue(builtin)}
	if p, ok := a.store.(iam.ConditionSource); ok && p.ConditionEngine() != nil {
		sopts = append(sopts, iam.WithConditions(p.ConditionEngine()))
	}
	a.scratch = iam.NewMemoryStore(sopts...)
	a.defined = map[string]string{}

	if a.world != nil {
		var lopts []iam.LoadOption
		if a.opts.org != "" {
			lopts = append(lopts, iam.IntoOrganization(a.opts.org))
		}
		if err := iam.Load(ctx, a.scratch, a.world.Name, a.world.Data, lopts...); err != nil {
			return err
		}
		orgs, err := a.scratch.ListOrganizations(ctx)
		if err != nil {
			return err
		}
		a.org = orgs[0].ID
		pols, err := a.scratch.ListPolicies(ctx, a.org)
		if err != nil {
			return err
		}
		for _, p := range pols {
			a.defined[p.ID] = a.world.Name
		}
	} else {
		if a.org, err = a.target(); err != nil {
			return err
		}
		f, err := exportFile(ctx, tx, a.org)
		if err != nil {
			return err
		}
		if err := iam.Load(ctx, a.scratch, "organization "+a.org+" as stored", wire.Encode(f)); err != nil {
			return fmt.Errorf("iam: apply: reading organization %q: %w", a.org, err)
		}
	}

	for _, pf := range a.policies {
		var put []string
		cancel := a.scratch.Subscribe(func(ch iam.Change) {
			for _, ev := range ch.Events {
				if ev.Kind == iam.KindPolicy && ev.Op == iam.OpPut {
					put = append(put, ev.ID)
				}
			}
		})
		err := iam.Load(ctx, a.scratch, pf.Name, pf.Data, iam.ReplaceExisting())
		cancel()
		if err != nil {
			return err
		}
		for _, id := range put {
			if prev, ok := a.defined[id]; ok {
				return fmt.Errorf("iam: %s: policy %q is already defined by %s: give each policy one file: %w", pf.Name, id, prev, iam.ErrConflict)
			}
			a.defined[id] = pf.Name
		}
	}

	stored, err := tx.ListPolicies(ctx, a.org)
	if errors.Is(err, iam.ErrNotFound) {
		return nil // a new organization has no policies yet
	}
	if err != nil {
		return err
	}
	for _, p := range stored {
		if _, ok := a.defined[p.ID]; ok {
			continue
		}
		switch {
		case a.opts.prune && a.world == nil:
			if err := a.scratch.DeletePolicy(ctx, p.ID); err != nil {
				return err
			}
		case !a.opts.prune && a.world != nil:
			if err := a.keep(p); err != nil {
				return err
			}
		}
		// Otherwise the scratch store already lacks it (a world with
		// Prune) or holds it as stored (policy files alone).
	}
	return nil
}

// target picks the organization that policy files alone apply to.
func (a *applier) target() (string, error) {
	orgs, err := a.tx.ListOrganizations(a.ctx)
	if err != nil {
		return "", err
	}
	switch {
	case a.opts.org != "":
		if slices.ContainsFunc(orgs, func(o iam.Organization) bool { return o.ID == a.opts.org }) {
			return a.opts.org, nil
		}
		return "", fmt.Errorf("iam: apply: organization %q, named with IntoOrganization, is not in the store: %w", a.opts.org, iam.ErrNotFound)
	case len(orgs) == 1:
		return orgs[0].ID, nil
	case len(orgs) == 0:
		return "", fmt.Errorf("iam: apply: the store holds no organization to apply the policy files to: apply a world file first: %w", iam.ErrNotFound)
	}
	return "", fmt.Errorf("iam: apply: the store holds %d organizations, so policy files need one named with IntoOrganization: %w", len(orgs), iam.ErrInvalid)
}

// keep copies into the scratch store a stored policy that no file names,
// as the store's cascades would leave it after the world's deletions.
func (a *applier) keep(p iam.Policy) error {
	ctx, s := a.ctx, a.scratch
	var exists error
	switch p.Principal.Type {
	case iam.PrincipalUser:
		_, exists = s.GetUser(ctx, p.Principal.ID)
	case iam.PrincipalApplication:
		_, exists = s.GetApplication(ctx, p.Principal.ID)
	case iam.PrincipalGroup:
		_, exists = s.GetGroup(ctx, p.Principal.ID)
	}
	if exists != nil {
		p.Principal = iam.Principal{}
	}
	rules := make([]iam.Rule, 0, len(p.Rules))
	for _, r := range p.Rules {
		if r.Scope.OrganizationID == "" {
			ids := slices.DeleteFunc(slices.Clone(r.Scope.ProjectIDs), func(id string) bool {
				pr, err := s.GetProject(ctx, id)
				return err != nil || pr.OrganizationID != a.org
			})
			if len(ids) == 0 {
				continue
			}
			r.Scope.ProjectIDs = ids
		}
		rules = append(rules, r)
	}
	if p.Rules != nil {
		p.Rules = rules
	}
	if _, err := s.CreatePolicy(ctx, p); err != nil {
		return fmt.Errorf("iam: apply: policy %q, which no file names and which is kept (apply with iamfile.Prune() to delete it), does not fit the files: %w", p.ID, err)
	}
	return nil
}

// locate places an error on an entity in the file that defines it.
func (a *applier) locate(err error, k iam.Kind, id string) error {
	var files []Source
	if a.world != nil {
		files = append(files, *a.world)
	}
	files = append(files, a.policies...)
	for _, f := range files {
		if path, ok := findEntity(f.Data, a.org, k, id); ok {
			off, _ := wire.Locate(f.Data, path)
			line, col := wire.LineColumn(f.Data, off)
			fe := &iam.FileError{File: f.Name, Line: line, Column: col, Path: path, Err: err}
			if errors.Is(err, iam.ErrConflict) && a.idTakenElsewhere(k, id) {
				fe.Hint = fmt.Sprintf("IDs are unique across the store, whatever the kind and the organization: give this %s another explicit id", k)
			}
			return fe
		}
	}
	return err
}

// idTakenElsewhere reports whether the ID id is held by something other
// than the entity of kind k and ID id of the organization: another kind,
// or another organization.
func (a *applier) idTakenElsewhere(k iam.Kind, id string) bool {
	ctx, tx := a.ctx, a.tx
	if _, err := tx.GetOrganization(ctx, id); err == nil {
		return !(k == iam.KindOrganization || k == iam.KindProject && id == a.org)
	}
	for _, l := range []struct {
		kind iam.Kind
		org  func() (string, error)
	}{
		{iam.KindProject, func() (string, error) { v, err := tx.GetProject(ctx, id); return v.OrganizationID, err }},
		{iam.KindUser, func() (string, error) { v, err := tx.GetUser(ctx, id); return v.OrganizationID, err }},
		{iam.KindApplication, func() (string, error) { v, err := tx.GetApplication(ctx, id); return v.OrganizationID, err }},
		{iam.KindGroup, func() (string, error) { v, err := tx.GetGroup(ctx, id); return v.OrganizationID, err }},
		{iam.KindPolicy, func() (string, error) { v, err := tx.GetPolicy(ctx, id); return v.OrganizationID, err }},
		{iam.KindAPIKey, func() (string, error) { v, err := tx.GetAPIKey(ctx, id); return v.OrganizationID, err }},
	} {
		if org, err := l.org(); err == nil {
			return l.kind != k || org != a.org
		}
	}
	return false
}

// findEntity finds the JSON path of the entity of kind k and ID id in a
// file, from its explicit IDs and names (not from derived policy names).
func findEntity(data []byte, org string, k iam.Kind, id string) (string, bool) {
	var f wire.File
	if _, err := wire.Decode(data, &f); err != nil {
		return "", false
	}
	pick := func(explicit, fallback string) string {
		if explicit != "" {
			return explicit
		}
		return fallback
	}
	at := func(list string, n int, idOf func(i int) string) (string, bool) {
		for i := range n {
			if idOf(i) == id {
				return fmt.Sprintf("%s[%d]", list, i), true
			}
		}
		return "", false
	}
	switch k {
	case iam.KindProject:
		return at("projects", len(f.Projects), func(i int) string {
			p := f.Projects[i]
			if p.ID == "" && p.Name == "default" {
				return org
			}
			return pick(p.ID, p.Name)
		})
	case iam.KindUser:
		return at("users", len(f.Users), func(i int) string { return pick(f.Users[i].ID, f.Users[i].Email) })
	case iam.KindApplication:
		return at("applications", len(f.Applications), func(i int) string { return pick(f.Applications[i].ID, f.Applications[i].Name) })
	case iam.KindGroup:
		return at("groups", len(f.Groups), func(i int) string { return pick(f.Groups[i].ID, f.Groups[i].Name) })
	case iam.KindAPIKey:
		return at("api_keys", len(f.APIKeys), func(i int) string { return f.APIKeys[i].AccessKey })
	case iam.KindPermissionSet:
		return at("permission_sets", len(f.PermissionSets), func(i int) string { return f.PermissionSets[i].Name })
	case iam.KindPolicy:
		if f.Organization == nil && f.Policies == nil {
			top := f.Policy()
			return "", pick(top.ID, top.Name) == id
		}
		return at("policies", len(f.Policies), func(i int) string { return pick(f.Policies[i].ID, f.Policies[i].Name) })
	case iam.KindOrganization:
		if f.Organization != nil && pick(f.Organization.ID, f.Organization.Name) == id {
			return "organization", true
		}
	}
	return "", false
}
