package iamfile

import (
	"context"
	"errors"
	"slices"

	"github.com/iamkit/iam"
)

// state is one organization's entities, by ID (permission sets by name).
type state struct {
	org      iam.Organization
	exists   bool
	projects map[string]iam.Project
	users    map[string]iam.User
	apps     map[string]iam.Application
	groups   map[string]iam.Group
	keys     map[string]iam.APIKey
	sets     map[string]iam.PermissionSet
	policies map[string]iam.Policy
}

// readState reads organization org from r; a missing organization is an
// empty state.
func readState(ctx context.Context, r iam.Entities, org string) (*state, error) {
	s := &state{projects: map[string]iam.Project{}, users: map[string]iam.User{}, apps: map[string]iam.Application{},
		groups: map[string]iam.Group{}, keys: map[string]iam.APIKey{}, sets: map[string]iam.PermissionSet{}, policies: map[string]iam.Policy{}}
	o, err := r.GetOrganization(ctx, org)
	if errors.Is(err, iam.ErrNotFound) {
		return s, nil
	}
	if err != nil {
		return nil, err
	}
	s.org, s.exists = o, true
	if err := fill(ctx, r.ListProjects, org, s.projects, func(v iam.Project) string { return v.ID }); err != nil {
		return nil, err
	}
	if err := fill(ctx, r.ListUsers, org, s.users, func(v iam.User) string { return v.ID }); err != nil {
		return nil, err
	}
	if err := fill(ctx, r.ListApplications, org, s.apps, func(v iam.Application) string { return v.ID }); err != nil {
		return nil, err
	}
	if err := fill(ctx, r.ListGroups, org, s.groups, func(v iam.Group) string { return v.ID }); err != nil {
		return nil, err
	}
	if err := fill(ctx, r.ListAPIKeys, org, s.keys, func(v iam.APIKey) string { return v.AccessKey }); err != nil {
		return nil, err
	}
	if err := fill(ctx, r.ListPermissionSets, org, s.sets, func(v iam.PermissionSet) string { return v.Name }); err != nil {
		return nil, err
	}
	for name, ps := range s.sets {
		if ps.OrganizationID != org {
			delete(s.sets, name) // the built-in catalogue
		}
	}
	if err := fill(ctx, r.ListPolicies, org, s.policies, func(v iam.Policy) string { return v.ID }); err != nil {
		return nil, err
	}
	return s, nil
}

func fill[T any](ctx context.Context, list func(context.Context, string) ([]T, error), org string, m map[string]T, id func(T) string) error {
	vs, err := list(ctx, org)
	if err != nil {
		return err
	}
	for _, v := range vs {
		m[id(v)] = v
	}
	return nil
}

// reconcile writes into tx what makes organization org what want holds,
// and returns the writes. The order keeps every write valid on its own:
// first the deletions, which free IDs, names and emails for the entities
// that take them over (permission sets excepted, which policies may still
// name); then, in dependency order, the updates and after them the
// creations of each kind (sets, projects, users, applications, groups,
// API keys, policies), an owner that stops being one demoted, and deleted
// if it goes, before another is promoted (the store checks at the end of
// the transaction that the organization has an owner); last, the sets
// that go. locate places an error on the entity of the files that caused
// it.
func reconcile(ctx context.Context, tx iam.Tx, want iam.Entities, org string, locate func(error, iam.Kind, string) error) ([]EntityChange, error) {
	have, err := readState(ctx, tx, org)
	if err != nil {
		return nil, err
	}
	next, err := readState(ctx, want, org)
	if err != nil {
		return nil, err
	}
	w := &writer{ctx: ctx, tx: tx, locate: locate}

	// The organization.
	switch {
	case !have.exists:
		if _, err := tx.CreateOrganization(ctx, next.org); err != nil {
			return nil, locate(err, iam.KindOrganization, org)
		}
		w.out = append(w.out, EntityChange{Op: OpCreate, Kind: iam.KindOrganization, ID: org})
		// CreateOrganization made the default project as it is by default.
		def, err := tx.GetProject(ctx, org)
		if err != nil {
			return nil, err
		}
		have.projects[org] = def
	case have.org.Name != next.org.Name:
		_, err := tx.UpdateOrganization(ctx, next.org)
		if err := w.record(OpUpdate, iam.KindOrganization, org, []string{"name"}, err); err != nil {
			return nil, err
		}
	}

	// Deletions. A key never takes a new bearer or secret in place: it is
	// deleted here and created again below, as one update.
	replaced := map[string]iam.APIKey{}
	for _, id := range sortedKeys(have.policies) {
		if _, ok := next.policies[id]; !ok {
			if err := w.record(OpDelete, iam.KindPolicy, id, nil, tx.DeletePolicy(ctx, id)); err != nil {
				return nil, err
			}
		}
	}
	for _, id := range sortedKeys(have.keys) {
		old := have.keys[id]
		nk, ok := next.keys[id]
		switch {
		case !ok:
			if err := w.record(OpDelete, iam.KindAPIKey, id, nil, tx.DeleteAPIKey(ctx, id)); err != nil {
				return nil, err
			}
		case nk.Bearer != old.Bearer || nk.SecretSHA256 != old.SecretSHA256:
			if err := tx.DeleteAPIKey(ctx, id); err != nil {
				return nil, locate(err, iam.KindAPIKey, id)
			}
			replaced[id] = old
			delete(have.keys, id)
		}
	}
	if err := deleteGone(w, iam.KindGroup, have.groups, next.groups, nil, tx.DeleteGroup); err != nil {
		return nil, err
	}
	if err := deleteGone(w, iam.KindApplication, have.apps, next.apps, nil, tx.DeleteApplication); err != nil {
		return nil, err
	}
	if err := deleteGone(w, iam.KindProject, have.projects, next.projects, nil, tx.DeleteProject); err != nil {
		return nil, err
	}

	// Permission sets, a set after the sets it includes.
	for _, name := range includeOrder(next.sets) {
		ps := next.sets[name]
		old, ok := have.sets[name]
		switch fields := setFields(old, ps); {
		case !ok:
			_, err := tx.CreatePermissionSet(ctx, ps)
			if err := w.record(OpCreate, iam.KindPermissionSet, name, nil, err); err != nil {
				return nil, err
			}
		case len(fields) > 0:
			_, err := tx.UpdatePermissionSet(ctx, ps)
			if err := w.record(OpUpdate, iam.KindPermissionSet, name, fields, err); err != nil {
				return nil, err
			}
		}
	}

	if err := upsert(w, iam.KindProject, have.projects, next.projects, projectFields, tx.CreateProject, tx.UpdateProject); err != nil {
		return nil, err
	}

	// Users: an owner that stops being one is demoted before another is
	// promoted, as an organization has one owner at a time; once demoted,
	// it can be deleted.
	demoted := map[string]iam.User{} // as they were
	for _, id := range sortedKeys(have.users) {
		u := have.users[id]
		if n, ok := next.users[id]; u.IsOwner() && (!ok || !n.IsOwner()) {
			demoted[id] = u
			u.Type = iam.UserMember
			if _, err := tx.UpdateUser(ctx, u); err != nil {
				return nil, locate(err, iam.KindUser, id)
			}
			have.users[id] = u
		}
	}
	if err := deleteGone(w, iam.KindUser, have.users, next.users, nil, tx.DeleteUser); err != nil {
		return nil, err
	}
	if err := upsert(w, iam.KindUser, have.users, next.users, userFields, tx.CreateUser, tx.UpdateUser); err != nil {
		return nil, err
	}
	for id, old := range demoted {
		if _, ok := next.users[id]; !ok {
			continue
		}
		// upsert recorded the update against the demoted user, or nothing
		// when the demotion was all: record it against the user as it was.
		i := slices.IndexFunc(w.out, func(c EntityChange) bool { return c.Kind == iam.KindUser && c.ID == id })
		c := EntityChange{Op: OpUpdate, Kind: iam.KindUser, ID: id, Fields: userFields(old, next.users[id])}
		if i < 0 {
			w.out = append(w.out, c)
		} else {
			w.out[i] = c
		}
	}

	if err := upsert(w, iam.KindApplication, have.apps, next.apps, appFields, tx.CreateApplication, tx.UpdateApplication); err != nil {
		return nil, err
	}
	if err := upsert(w, iam.KindGroup, have.groups, next.groups, groupFields, tx.CreateGroup, tx.UpdateGroup); err != nil {
		return nil, err
	}
	for _, id := range sortedKeys(replaced) {
		if k, ok := next.keys[id]; ok {
			_, err := tx.CreateAPIKey(ctx, k)
			if err := w.record(OpUpdate, iam.KindAPIKey, id, keyFields(replaced[id], k), err); err != nil {
				return nil, err
			}
			have.keys[id] = k
		}
	}
	if err := upsert(w, iam.KindAPIKey, have.keys, next.keys, keyFields, tx.CreateAPIKey, tx.UpdateAPIKey); err != nil {
		return nil, err
	}
	if err := upsert(w, iam.KindPolicy, have.policies, next.policies, policyFields, tx.CreatePolicy, tx.UpdatePolicy); err != nil {
		return nil, err
	}

	// Last, the permission sets that no policy names any more, a set
	// before the sets it includes.
	gone := map[string]iam.PermissionSet{}
	for name, ps := range have.sets {
		if _, ok := next.sets[name]; !ok {
			gone[name] = ps
		}
	}
	order := includeOrder(gone)
	slices.Reverse(order)
	for _, name := range order {
		if err := w.record(OpDelete, iam.KindPermissionSet, name, nil, tx.DeletePermissionSet(ctx, org, name)); err != nil {
			return nil, err
		}
	}
	return w.out, nil
}

// writer records reconcile's writes.
type writer struct {
	ctx    context.Context
	tx     iam.Tx
	locate func(error, iam.Kind, string) error
	out    []EntityChange
}

// record notes a write, or places its error.
func (w *writer) record(op Op, k iam.Kind, id string, fields []string, err error) error {
	if err != nil {
		return w.locate(err, k, id)
	}
	w.out = append(w.out, EntityChange{Op: op, Kind: k, ID: id, Fields: fields})
	return nil
}

// deleteGone deletes the entities of have that next lacks, but those
// that spare keeps, and forgets them in have.
func deleteGone[T any](w *writer, k iam.Kind, have, next map[string]T, spare func(T) bool, del func(context.Context, string) error) error {
	for _, id := range sortedKeys(have) {
		if _, ok := next[id]; ok || (spare != nil && spare(have[id])) {
			continue
		}
		if err := w.record(OpDelete, k, id, nil, del(w.ctx, id)); err != nil {
			return err
		}
		delete(have, id)
	}
	return nil
}

// upsert updates the entities of next that differ from have's, then
// creates those have lacks (updates first, so that a name or email that
// one entity leaves is free when another takes it).
func upsert[T any](w *writer, k iam.Kind, have, next map[string]T, diff func(a, b T) []string,
	create, update func(context.Context, T) (T, error)) error {
	for _, id := range sortedKeys(next) {
		old, ok := have[id]
		if !ok {
			continue
		}
		if fields := diff(old, next[id]); len(fields) > 0 {
			_, err := update(w.ctx, next[id])
			if err := w.record(OpUpdate, k, id, fields, err); err != nil {
				return err
			}
		}
	}
	for _, id := range sortedKeys(next) {
		if _, ok := have[id]; !ok {
			_, err := create(w.ctx, next[id])
			if err := w.record(OpCreate, k, id, nil, err); err != nil {
				return err
			}
		}
	}
	return nil
}

// includeOrder orders sets so that a set comes after the sets of the map
// it includes (a cycle, which no store holds, is cut anywhere).
func includeOrder(sets map[string]iam.PermissionSet) []string {
	var order []string
	done := map[string]bool{}
	var visit func(name string)
	visit = func(name string) {
		if done[name] {
			return
		}
		done[name] = true
		for _, inc := range sets[name].Includes {
			if _, ok := sets[inc]; ok {
				visit(inc)
			}
		}
		order = append(order, name)
	}
	for _, name := range sortedKeys(sets) {
		visit(name)
	}
	return order
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// ----- comparisons: the fields that differ, by their names in files -----

type fieldDiff []string

func (d *fieldDiff) add(name string, differs bool) {
	if differs {
		*d = append(*d, name)
	}
}

// same compares lists, nil and empty alike.
func same[T comparable](a, b []T) bool { return slices.Equal(a, b) }

func projectFields(a, b iam.Project) []string {
	var d fieldDiff
	d.add("name", a.Name != b.Name)
	d.add("description", a.Description != b.Description)
	return d
}

func userType(u iam.User) iam.UserType {
	if u.Type == "" {
		return iam.UserMember
	}
	return u.Type
}

func userFields(a, b iam.User) []string {
	var d fieldDiff
	d.add("email", a.Email != b.Email)
	d.add("username", a.Username != b.Username)
	d.add("type", userType(a) != userType(b))
	d.add("locked", a.Locked != b.Locked)
	d.add("tags", !same(a.Tags, b.Tags))
	return d
}

func appFields(a, b iam.Application) []string {
	var d fieldDiff
	d.add("name", a.Name != b.Name)
	d.add("description", a.Description != b.Description)
	d.add("managed", a.Managed != b.Managed)
	d.add("tags", !same(a.Tags, b.Tags))
	return d
}

func groupFields(a, b iam.Group) []string {
	var d fieldDiff
	d.add("name", a.Name != b.Name)
	d.add("description", a.Description != b.Description)
	d.add("users", !same(a.UserIDs, b.UserIDs))
	d.add("applications", !same(a.ApplicationIDs, b.ApplicationIDs))
	d.add("all_users", a.AllUsers != b.AllUsers)
	d.add("all_applications", a.AllApplications != b.AllApplications)
	d.add("tags", !same(a.Tags, b.Tags))
	return d
}

func keyFields(a, b iam.APIKey) []string {
	var d fieldDiff
	d.add(bearerKey(b.Bearer), a.Bearer != b.Bearer)
	d.add("secret_sha256", a.SecretSHA256 != b.SecretSHA256)
	d.add("default_project_id", a.DefaultProjectID != b.DefaultProjectID)
	d.add("expires_at", !a.ExpiresAt.Equal(b.ExpiresAt))
	d.add("description", a.Description != b.Description)
	return d
}

func bearerKey(p iam.Principal) string {
	if p.Type == iam.PrincipalApplication {
		return "application"
	}
	return "user"
}

func setFields(a, b iam.PermissionSet) []string {
	var d fieldDiff
	d.add("scope_type", a.ScopeType != b.ScopeType)
	d.add("permissions", !same(a.Permissions, b.Permissions))
	d.add("includes", !same(a.Includes, b.Includes))
	d.add("description", a.Description != b.Description)
	d.add("categories", !same(a.Categories, b.Categories))
	return d
}

func policyFields(a, b iam.Policy) []string {
	var d fieldDiff
	d.add("name", a.Name != b.Name)
	d.add("description", a.Description != b.Description)
	d.add("principal", a.Principal != b.Principal)
	d.add("rules", !slices.EqualFunc(a.Rules, b.Rules, sameRule))
	d.add("tags", !same(a.Tags, b.Tags))
	return d
}

func sameRule(a, b iam.Rule) bool {
	return same(a.Scope.ProjectIDs, b.Scope.ProjectIDs) && a.Scope.OrganizationID == b.Scope.OrganizationID &&
		same(a.PermissionSets, b.PermissionSets) && a.Condition == b.Condition
}
