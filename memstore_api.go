package iam

import (
	"context"
	"errors"
)

// The MemoryStore's Store methods: each runs as its own transaction (a
// write) or under the read lock (a read). See the interfaces in store.go.

func writeOne[T any](s *MemoryStore, ctx context.Context, fn func(tx Tx) (T, error)) (T, error) {
	var out T
	err := s.Atomic(ctx, func(tx Tx) error {
		var err error
		out, err = fn(tx)
		return err
	})
	if err != nil && !errors.Is(err, ErrDelivery) {
		var zero T
		return zero, err
	}
	return out, err // the write landed, even when a subscriber failed
}

func readOne[T any](s *MemoryStore, ctx context.Context, fn func(tx Entities) (T, error)) (T, error) {
	var out T
	err := s.read(ctx, func(tx Entities) error {
		var err error
		out, err = fn(tx)
		return err
	})
	return out, err
}

// CreateOrganization stores a new Organization; see OrganizationStore.
func (s *MemoryStore) CreateOrganization(ctx context.Context, o Organization) (Organization, error) {
	return writeOne(s, ctx, func(tx Tx) (Organization, error) { return tx.CreateOrganization(ctx, o) })
}

// GetOrganization returns one Organization.
func (s *MemoryStore) GetOrganization(ctx context.Context, id string) (Organization, error) {
	return readOne(s, ctx, func(tx Entities) (Organization, error) { return tx.GetOrganization(ctx, id) })
}

// ListOrganizations returns the stored values, sorted by ID.
func (s *MemoryStore) ListOrganizations(ctx context.Context) ([]Organization, error) {
	return readOne(s, ctx, func(tx Entities) ([]Organization, error) { return tx.ListOrganizations(ctx) })
}

// UpdateOrganization replaces a stored Organization.
func (s *MemoryStore) UpdateOrganization(ctx context.Context, o Organization) (Organization, error) {
	return writeOne(s, ctx, func(tx Tx) (Organization, error) { return tx.UpdateOrganization(ctx, o) })
}

// DeleteOrganization deletes a Organization and applies its cascade.
func (s *MemoryStore) DeleteOrganization(ctx context.Context, id string) error {
	return s.Atomic(ctx, func(tx Tx) error { return tx.DeleteOrganization(ctx, id) })
}

// CreateProject stores a new Project; see ProjectStore.
func (s *MemoryStore) CreateProject(ctx context.Context, p Project) (Project, error) {
	return writeOne(s, ctx, func(tx Tx) (Project, error) { return tx.CreateProject(ctx, p) })
}

// GetProject returns one Project.
func (s *MemoryStore) GetProject(ctx context.Context, id string) (Project, error) {
	return readOne(s, ctx, func(tx Entities) (Project, error) { return tx.GetProject(ctx, id) })
}

// ListProjects returns the stored values, sorted by ID.
func (s *MemoryStore) ListProjects(ctx context.Context, organizationID string) ([]Project, error) {
	return readOne(s, ctx, func(tx Entities) ([]Project, error) { return tx.ListProjects(ctx, organizationID) })
}

// UpdateProject replaces a stored Project.
func (s *MemoryStore) UpdateProject(ctx context.Context, p Project) (Project, error) {
	return writeOne(s, ctx, func(tx Tx) (Project, error) { return tx.UpdateProject(ctx, p) })
}

// DeleteProject deletes a Project and applies its cascade.
func (s *MemoryStore) DeleteProject(ctx context.Context, id string) error {
	return s.Atomic(ctx, func(tx Tx) error { return tx.DeleteProject(ctx, id) })
}

// CreateUser stores a new User; see UserStore.
func (s *MemoryStore) CreateUser(ctx context.Context, u User) (User, error) {
	return writeOne(s, ctx, func(tx Tx) (User, error) { return tx.CreateUser(ctx, u) })
}

// GetUser returns one User.
func (s *MemoryStore) GetUser(ctx context.Context, id string) (User, error) {
	return readOne(s, ctx, func(tx Entities) (User, error) { return tx.GetUser(ctx, id) })
}

// ListUsers returns the stored values, sorted by ID.
func (s *MemoryStore) ListUsers(ctx context.Context, organizationID string) ([]User, error) {
	return readOne(s, ctx, func(tx Entities) ([]User, error) { return tx.ListUsers(ctx, organizationID) })
}

// UpdateUser replaces a stored User.
func (s *MemoryStore) UpdateUser(ctx context.Context, u User) (User, error) {
	return writeOne(s, ctx, func(tx Tx) (User, error) { return tx.UpdateUser(ctx, u) })
}

// DeleteUser deletes a User and applies its cascade.
func (s *MemoryStore) DeleteUser(ctx context.Context, id string) error {
	return s.Atomic(ctx, func(tx Tx) error { return tx.DeleteUser(ctx, id) })
}

// CreateApplication stores a new Application; see ApplicationStore.
func (s *MemoryStore) CreateApplication(ctx context.Context, a Application) (Application, error) {
	return writeOne(s, ctx, func(tx Tx) (Application, error) { return tx.CreateApplication(ctx, a) })
}

// GetApplication returns one Application.
func (s *MemoryStore) GetApplication(ctx context.Context, id string) (Application, error) {
	return readOne(s, ctx, func(tx Entities) (Application, error) { return tx.GetApplication(ctx, id) })
}

// ListApplications returns the stored values, sorted by ID.
func (s *MemoryStore) ListApplications(ctx context.Context, organizationID string) ([]Application, error) {
	return readOne(s, ctx, func(tx Entities) ([]Application, error) { return tx.ListApplications(ctx, organizationID) })
}

// UpdateApplication replaces a stored Application.
func (s *MemoryStore) UpdateApplication(ctx context.Context, a Application) (Application, error) {
	return writeOne(s, ctx, func(tx Tx) (Application, error) { return tx.UpdateApplication(ctx, a) })
}

// DeleteApplication deletes a Application and applies its cascade.
func (s *MemoryStore) DeleteApplication(ctx context.Context, id string) error {
	return s.Atomic(ctx, func(tx Tx) error { return tx.DeleteApplication(ctx, id) })
}

// CreateGroup stores a new Group; see GroupStore.
func (s *MemoryStore) CreateGroup(ctx context.Context, g Group) (Group, error) {
	return writeOne(s, ctx, func(tx Tx) (Group, error) { return tx.CreateGroup(ctx, g) })
}

// GetGroup returns one Group.
func (s *MemoryStore) GetGroup(ctx context.Context, id string) (Group, error) {
	return readOne(s, ctx, func(tx Entities) (Group, error) { return tx.GetGroup(ctx, id) })
}

// ListGroups returns the stored values, sorted by ID.
func (s *MemoryStore) ListGroups(ctx context.Context, organizationID string) ([]Group, error) {
	return readOne(s, ctx, func(tx Entities) ([]Group, error) { return tx.ListGroups(ctx, organizationID) })
}

// UpdateGroup replaces a stored Group.
func (s *MemoryStore) UpdateGroup(ctx context.Context, g Group) (Group, error) {
	return writeOne(s, ctx, func(tx Tx) (Group, error) { return tx.UpdateGroup(ctx, g) })
}

// DeleteGroup deletes a Group and applies its cascade.
func (s *MemoryStore) DeleteGroup(ctx context.Context, id string) error {
	return s.Atomic(ctx, func(tx Tx) error { return tx.DeleteGroup(ctx, id) })
}

// CreatePolicy stores a new Policy; see PolicyStore. The bounds on the
// policy's size are checked, and its conditions compiled, before the
// store's lock is taken: other reads and writes never wait for them.
func (s *MemoryStore) CreatePolicy(ctx context.Context, p Policy) (Policy, error) {
	return writePolicy(s, ctx, p, func(tx Tx) (Policy, error) { return tx.CreatePolicy(ctx, p) })
}

// GetPolicy returns one Policy.
func (s *MemoryStore) GetPolicy(ctx context.Context, id string) (Policy, error) {
	return readOne(s, ctx, func(tx Entities) (Policy, error) { return tx.GetPolicy(ctx, id) })
}

// ListPolicies returns the stored values, sorted by ID.
func (s *MemoryStore) ListPolicies(ctx context.Context, organizationID string) ([]Policy, error) {
	return readOne(s, ctx, func(tx Entities) ([]Policy, error) { return tx.ListPolicies(ctx, organizationID) })
}

// UpdatePolicy replaces a stored Policy. As with CreatePolicy, its size
// is checked and its conditions compiled before the store's lock is taken.
func (s *MemoryStore) UpdatePolicy(ctx context.Context, p Policy) (Policy, error) {
	return writePolicy(s, ctx, p, func(tx Tx) (Policy, error) { return tx.UpdatePolicy(ctx, p) })
}

// writePolicy runs a write of policy p after the work that needs no lock
// (WriteRules.Precompile): the bounds on its size, and the compilation of
// its conditions, which the transaction then finds compiled.
func writePolicy(s *MemoryStore, ctx context.Context, p Policy, fn func(tx Tx) (Policy, error)) (Policy, error) {
	release, err := s.rules.Precompile(ctx, p)
	defer release()
	if err != nil {
		return Policy{}, err
	}
	return writeOne(s, ctx, fn)
}

// DeletePolicy deletes a Policy and applies its cascade.
func (s *MemoryStore) DeletePolicy(ctx context.Context, id string) error {
	return s.Atomic(ctx, func(tx Tx) error { return tx.DeletePolicy(ctx, id) })
}

// CreatePermissionSet stores a new PermissionSet; see PermissionSetStore.
func (s *MemoryStore) CreatePermissionSet(ctx context.Context, ps PermissionSet) (PermissionSet, error) {
	return writeOne(s, ctx, func(tx Tx) (PermissionSet, error) { return tx.CreatePermissionSet(ctx, ps) })
}

// GetPermissionSet returns one PermissionSet.
func (s *MemoryStore) GetPermissionSet(ctx context.Context, organizationID string, name string) (PermissionSet, error) {
	return readOne(s, ctx, func(tx Entities) (PermissionSet, error) { return tx.GetPermissionSet(ctx, organizationID, name) })
}

// ListPermissionSets returns the stored values, sorted by ID.
func (s *MemoryStore) ListPermissionSets(ctx context.Context, organizationID string) ([]PermissionSet, error) {
	return readOne(s, ctx, func(tx Entities) ([]PermissionSet, error) { return tx.ListPermissionSets(ctx, organizationID) })
}

// UpdatePermissionSet replaces a stored PermissionSet.
func (s *MemoryStore) UpdatePermissionSet(ctx context.Context, ps PermissionSet) (PermissionSet, error) {
	return writeOne(s, ctx, func(tx Tx) (PermissionSet, error) { return tx.UpdatePermissionSet(ctx, ps) })
}

// DeletePermissionSet deletes a PermissionSet and applies its cascade.
func (s *MemoryStore) DeletePermissionSet(ctx context.Context, organizationID string, name string) error {
	return s.Atomic(ctx, func(tx Tx) error { return tx.DeletePermissionSet(ctx, organizationID, name) })
}

// CreateAPIKey stores a new APIKey; see APIKeyStore.
func (s *MemoryStore) CreateAPIKey(ctx context.Context, k APIKey) (APIKey, error) {
	return writeOne(s, ctx, func(tx Tx) (APIKey, error) { return tx.CreateAPIKey(ctx, k) })
}

// GetAPIKey returns one APIKey.
func (s *MemoryStore) GetAPIKey(ctx context.Context, accessKey string) (APIKey, error) {
	return readOne(s, ctx, func(tx Entities) (APIKey, error) { return tx.GetAPIKey(ctx, accessKey) })
}

// ListAPIKeys returns the stored values, sorted by ID.
func (s *MemoryStore) ListAPIKeys(ctx context.Context, organizationID string) ([]APIKey, error) {
	return readOne(s, ctx, func(tx Entities) ([]APIKey, error) { return tx.ListAPIKeys(ctx, organizationID) })
}

// UpdateAPIKey replaces a stored APIKey.
func (s *MemoryStore) UpdateAPIKey(ctx context.Context, k APIKey) (APIKey, error) {
	return writeOne(s, ctx, func(tx Tx) (APIKey, error) { return tx.UpdateAPIKey(ctx, k) })
}

// DeleteAPIKey deletes a APIKey and applies its cascade.
func (s *MemoryStore) DeleteAPIKey(ctx context.Context, accessKey string) error {
	return s.Atomic(ctx, func(tx Tx) error { return tx.DeleteAPIKey(ctx, accessKey) })
}
