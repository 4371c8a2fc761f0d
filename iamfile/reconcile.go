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
// deletions that free names and references first (policies, API keys),
// then creations and updates in dependency order (sets, projects, users,
// with the old owner demoted before the new one is promoted, applications,
// groups, keys, policies), then the remaining deletions. locate places an
// error on the entity of the files that caused it.
func reconcile(ctx context.Context, tx iam.Tx, want iam.Entities, org string, locate func(error, iam.Kind, string) error) ([]EntityChange, error) {
	have, err := readState(ctx, tx, org)
	if err != nil {
		return nil, err
	}
	next, err := readState(ctx, want, org)
	if err != nil {
		return nil, err
	}
	var out []EntityChange
	record := func(op Op, k iam.Kind, id string, fields []string, err error) error {
		if err != nil {
			return locate(err, k, id)
		}
		out = append(out, EntityChange{Op: op, Kind: k, ID: id, Fields: fields})
		return nil
	}

	// The organization.
	switch {
	case !have.exists:
		if _, err := tx.CreateOrganization(ctx, next.org); err != nil {
			return nil, locate(err, iam.KindOrganization, org)
		}
		out = append(out, EntityChange{Op: OpCreate, Kind: iam.KindOrganization, ID: org})
		// CreateOrganization made the default project as it is by default.
		def, err := tx.GetProject(ctx, org)
		if err != nil {
			return nil, err
		}
		have.projects[org] = def
	case have.org.Name != next.org.Name:
		_, err := tx.UpdateOrganization(ctx, next.org)
		if err := record(OpUpdate, iam.KindOrganization, org, []string{"name"}, err); err != nil {
			return nil, err
		}
	}

	// Policies and API keys that go, first: they free permission sets,
	// principals and access keys.
	for _, id := range sortedKeys(have.policies) {
		if _, ok := next.policies[id]; !ok {
			if err := record(OpDelete, iam.KindPolicy, id, nil, tx.DeletePolicy(ctx, id)); err != nil {
				return nil, err
			}
		}
	}
	replaced := map[string]iam.APIKey{} // keys whose bearer or secret changed, as they were
	for _, id := range sortedKeys(have.keys) {
		old := have.keys[id]
		nk, ok := next.keys[id]
		switch {
		case !ok:
			if err := record(OpDelete, iam.KindAPIKey, id, nil, tx.DeleteAPIKey(ctx, id)); err != nil {
				return nil, err
			}
		case nk.Bearer != old.Bearer || nk.SecretSHA256 != old.SecretSHA256:
			// A key never takes a new bearer or secret in place: it is
			// deleted here and created again below, one update.
			if err := tx.DeleteAPIKey(ctx, id); err != nil {
				return nil, locate(err, iam.KindAPIKey, id)
			}
			replaced[id] = old
			delete(have.keys, id)
		}
	}

	// Permission sets, a set after the sets it includes.
	for _, name := range includeOrder(next.sets) {
		ps := next.sets[name]
		old, ok := have.sets[name]
		switch fields := setFields(old, ps); {
		case !ok:
			_, err := tx.CreatePermissionSet(ctx, ps)
			err = record(OpCreate, iam.KindPermissionSet, name, nil, err)
			if err != nil {
				return nil, err
			}
		case len(fields) > 0:
			_, err := tx.UpdatePermissionSet(ctx, ps)
			if err := record(OpUpdate, iam.KindPermissionSet, name, fields, err); err != nil {
				return nil, err
			}
		}
	}

	// Projects.
	for _, id := range sortedKeys(next.projects) {
		p, old := next.projects[id], have.projects[id]
		if err := upsert(ctx, iam.KindProject, id, old, p, have.projects, projectFields, tx.CreateProject, tx.UpdateProject, record); err != nil {
			return nil, err
		}
	}

	// Users: demote an owner that stops being one before another is
	// promoted, as the store allows one owner at a time.
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
	for _, id := range sortedKeys(next.users) {
		u := next.users[id]
		old, ok := demoted[id]
		if !ok {
			if err := upsert(ctx, iam.KindUser, id, have.users[id], u, have.users, userFields, tx.CreateUser, tx.UpdateUser, record); err != nil {
				return nil, err
			}
			continue
		}
		var err error
		if len(userFields(have.users[id], u)) > 0 {
			_, err = tx.UpdateUser(ctx, u)
		}
		if err := record(OpUpdate, iam.KindUser, id, userFields(old, u), err); err != nil {
			return nil, err
		}
	}

	for _, id := range sortedKeys(next.apps) {
		if err := upsert(ctx, iam.KindApplication, id, have.apps[id], next.apps[id], have.apps, appFields, tx.CreateApplication, tx.UpdateApplication, record); err != nil {
			return nil, err
		}
	}
	for _, id := range sortedKeys(next.groups) {
		if err := upsert(ctx, iam.KindGroup, id, have.groups[id], next.groups[id], have.groups, groupFields, tx.CreateGroup, tx.UpdateGroup, record); err != nil {
			return nil, err
		}
	}
	for _, id := range sortedKeys(next.keys) {
		k := next.keys[id]
		if old, ok := replaced[id]; ok {
			_, err := tx.CreateAPIKey(ctx, k)
			if err := record(OpUpdate, iam.KindAPIKey, id, keyFields(old, k), err); err != nil {
				return nil, err
			}
			continue
		}
		if err := upsert(ctx, iam.KindAPIKey, id, have.keys[id], k, have.keys, keyFields, tx.CreateAPIKey, tx.UpdateAPIKey, record); err != nil {
			return nil, err
		}
	}
	for _, id := range sortedKeys(next.policies) {
		if err := upsert(ctx, iam.KindPolicy, id, have.policies[id], next.policies[id], have.policies, policyFields, tx.CreatePolicy, tx.UpdatePolicy, record); err != nil {
			return nil, err
		}
	}

	// The rest of the deletions, referrers before what they refer to.
	for _, id := range sortedKeys(have.groups) {
		if _, ok := next.groups[id]; !ok {
			if err := record(OpDelete, iam.KindGroup, id, nil, tx.DeleteGroup(ctx, id)); err != nil {
				return nil, err
			}
		}
	}
	for _, id := range sortedKeys(have.apps) {
		if _, ok := next.apps[id]; !ok {
			if err := record(OpDelete, iam.KindApplication, id, nil, tx.DeleteApplication(ctx, id)); err != nil {
				return nil, err
			}
		}
	}
	for _, id := range sortedKeys(have.users) {
		if _, ok := next.users[id]; !ok {
			if err := record(OpDelete, iam.KindUser, id, nil, tx.DeleteUser(ctx, id)); err != nil {
				return nil, err
			}
		}
	}
	for _, id := range sortedKeys(have.projects) {
		if _, ok := next.projects[id]; !ok {
			if err := record(OpDelete, iam.KindProject, id, nil, tx.DeleteProject(ctx, id)); err != nil {
				return nil, err
			}
		}
	}
	gone := map[string]iam.PermissionSet{}
	for name, ps := range have.sets {
		if _, ok := next.sets[name]; !ok {
			gone[name] = ps
		}
	}
	order := includeOrder(gone)
	slices.Reverse(order) // a set before the sets it includes
	for _, name := range order {
		if err := record(OpDelete, iam.KindPermissionSet, name, nil, tx.DeletePermissionSet(ctx, org, name)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// upsert creates v, or updates it when it differs from old (have holds
// old when ok).
func upsert[T any](ctx context.Context, k iam.Kind, id string, old, v T, have map[string]T, diff func(a, b T) []string,
	create, update func(context.Context, T) (T, error), record func(Op, iam.Kind, string, []string, error) error) error {
	if _, ok := have[id]; !ok {
		_, err := create(ctx, v)
		return record(OpCreate, k, id, nil, err)
	}
	if fields := diff(old, v); len(fields) > 0 {
		_, err := update(ctx, v)
		return record(OpUpdate, k, id, fields, err)
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
