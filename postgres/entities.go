package postgres

import (
	"context"

	"github.com/iamkit/iam"
)

// The Store's entity methods: each write is one transaction (see Atomic),
// each read one consistent snapshot. What they accept, refuse and cascade
// is decided by the write rules (iam.WriteRules), as for every store; see
// the interfaces of package iam.

// CreateOrganization stores a new Organization; see iam.OrganizationStore.
func (s *Store) CreateOrganization(ctx context.Context, o iam.Organization) (iam.Organization, error) {
	return writeOne(s, ctx, func(tx iam.Tx) (iam.Organization, error) { return tx.CreateOrganization(ctx, o) })
}

// GetOrganization returns one Organization.
func (s *Store) GetOrganization(ctx context.Context, id string) (iam.Organization, error) {
	return readOne(s, ctx, "GetOrganization", func(e iam.Entities) (iam.Organization, error) { return e.GetOrganization(ctx, id) })
}

// ListOrganizations returns every organization, sorted by ID.
func (s *Store) ListOrganizations(ctx context.Context) ([]iam.Organization, error) {
	return readOne(s, ctx, "ListOrganizations", func(e iam.Entities) ([]iam.Organization, error) { return e.ListOrganizations(ctx) })
}

// UpdateOrganization replaces a stored Organization.
func (s *Store) UpdateOrganization(ctx context.Context, o iam.Organization) (iam.Organization, error) {
	return writeOne(s, ctx, func(tx iam.Tx) (iam.Organization, error) { return tx.UpdateOrganization(ctx, o) })
}

// DeleteOrganization deletes an Organization and applies its cascade.
func (s *Store) DeleteOrganization(ctx context.Context, id string) error {
	return s.Atomic(ctx, func(tx iam.Tx) error { return tx.DeleteOrganization(ctx, id) })
}

// CreateProject stores a new Project; see iam.ProjectStore.
func (s *Store) CreateProject(ctx context.Context, p iam.Project) (iam.Project, error) {
	return writeOne(s, ctx, func(tx iam.Tx) (iam.Project, error) { return tx.CreateProject(ctx, p) })
}

// GetProject returns one Project.
func (s *Store) GetProject(ctx context.Context, id string) (iam.Project, error) {
	return readOne(s, ctx, "GetProject", func(e iam.Entities) (iam.Project, error) { return e.GetProject(ctx, id) })
}

// ListProjects returns an organization's projects, sorted by ID.
func (s *Store) ListProjects(ctx context.Context, organizationID string) ([]iam.Project, error) {
	return readOne(s, ctx, "ListProjects", func(e iam.Entities) ([]iam.Project, error) { return e.ListProjects(ctx, organizationID) })
}

// UpdateProject replaces a stored Project.
func (s *Store) UpdateProject(ctx context.Context, p iam.Project) (iam.Project, error) {
	return writeOne(s, ctx, func(tx iam.Tx) (iam.Project, error) { return tx.UpdateProject(ctx, p) })
}

// DeleteProject deletes a Project and applies its cascade.
func (s *Store) DeleteProject(ctx context.Context, id string) error {
	return s.Atomic(ctx, func(tx iam.Tx) error { return tx.DeleteProject(ctx, id) })
}

// CreateUser stores a new User; see iam.UserStore.
func (s *Store) CreateUser(ctx context.Context, u iam.User) (iam.User, error) {
	return writeOne(s, ctx, func(tx iam.Tx) (iam.User, error) { return tx.CreateUser(ctx, u) })
}

// GetUser returns one User.
func (s *Store) GetUser(ctx context.Context, id string) (iam.User, error) {
	return readOne(s, ctx, "GetUser", func(e iam.Entities) (iam.User, error) { return e.GetUser(ctx, id) })
}

// ListUsers returns an organization's users, sorted by ID.
func (s *Store) ListUsers(ctx context.Context, organizationID string) ([]iam.User, error) {
	return readOne(s, ctx, "ListUsers", func(e iam.Entities) ([]iam.User, error) { return e.ListUsers(ctx, organizationID) })
}

// UpdateUser replaces a stored User.
func (s *Store) UpdateUser(ctx context.Context, u iam.User) (iam.User, error) {
	return writeOne(s, ctx, func(tx iam.Tx) (iam.User, error) { return tx.UpdateUser(ctx, u) })
}

// DeleteUser deletes a User and applies its cascade.
func (s *Store) DeleteUser(ctx context.Context, id string) error {
	return s.Atomic(ctx, func(tx iam.Tx) error { return tx.DeleteUser(ctx, id) })
}

// CreateApplication stores a new Application; see iam.ApplicationStore.
func (s *Store) CreateApplication(ctx context.Context, a iam.Application) (iam.Application, error) {
	return writeOne(s, ctx, func(tx iam.Tx) (iam.Application, error) { return tx.CreateApplication(ctx, a) })
}

// GetApplication returns one Application.
func (s *Store) GetApplication(ctx context.Context, id string) (iam.Application, error) {
	return readOne(s, ctx, "GetApplication", func(e iam.Entities) (iam.Application, error) { return e.GetApplication(ctx, id) })
}

// ListApplications returns an organization's applications, sorted by ID.
func (s *Store) ListApplications(ctx context.Context, organizationID string) ([]iam.Application, error) {
	return readOne(s, ctx, "ListApplications", func(e iam.Entities) ([]iam.Application, error) { return e.ListApplications(ctx, organizationID) })
}

// UpdateApplication replaces a stored Application.
func (s *Store) UpdateApplication(ctx context.Context, a iam.Application) (iam.Application, error) {
	return writeOne(s, ctx, func(tx iam.Tx) (iam.Application, error) { return tx.UpdateApplication(ctx, a) })
}

// DeleteApplication deletes an Application and applies its cascade.
func (s *Store) DeleteApplication(ctx context.Context, id string) error {
	return s.Atomic(ctx, func(tx iam.Tx) error { return tx.DeleteApplication(ctx, id) })
}

// CreateGroup stores a new Group; see iam.GroupStore.
func (s *Store) CreateGroup(ctx context.Context, g iam.Group) (iam.Group, error) {
	return writeOne(s, ctx, func(tx iam.Tx) (iam.Group, error) { return tx.CreateGroup(ctx, g) })
}

// GetGroup returns one Group.
func (s *Store) GetGroup(ctx context.Context, id string) (iam.Group, error) {
	return readOne(s, ctx, "GetGroup", func(e iam.Entities) (iam.Group, error) { return e.GetGroup(ctx, id) })
}

// ListGroups returns an organization's groups, sorted by ID.
func (s *Store) ListGroups(ctx context.Context, organizationID string) ([]iam.Group, error) {
	return readOne(s, ctx, "ListGroups", func(e iam.Entities) ([]iam.Group, error) { return e.ListGroups(ctx, organizationID) })
}

// UpdateGroup replaces a stored Group.
func (s *Store) UpdateGroup(ctx context.Context, g iam.Group) (iam.Group, error) {
	return writeOne(s, ctx, func(tx iam.Tx) (iam.Group, error) { return tx.UpdateGroup(ctx, g) })
}

// DeleteGroup deletes a Group and applies its cascade.
func (s *Store) DeleteGroup(ctx context.Context, id string) error {
	return s.Atomic(ctx, func(tx iam.Tx) error { return tx.DeleteGroup(ctx, id) })
}

// CreatePolicy stores a new Policy; see iam.PolicyStore.
func (s *Store) CreatePolicy(ctx context.Context, p iam.Policy) (iam.Policy, error) {
	return writePolicy(s, ctx, p, func(tx iam.Tx) (iam.Policy, error) { return tx.CreatePolicy(ctx, p) })
}

// GetPolicy returns one Policy.
func (s *Store) GetPolicy(ctx context.Context, id string) (iam.Policy, error) {
	return readOne(s, ctx, "GetPolicy", func(e iam.Entities) (iam.Policy, error) { return e.GetPolicy(ctx, id) })
}

// ListPolicies returns an organization's policies, sorted by ID.
func (s *Store) ListPolicies(ctx context.Context, organizationID string) ([]iam.Policy, error) {
	return readOne(s, ctx, "ListPolicies", func(e iam.Entities) ([]iam.Policy, error) { return e.ListPolicies(ctx, organizationID) })
}

// UpdatePolicy replaces a stored Policy.
func (s *Store) UpdatePolicy(ctx context.Context, p iam.Policy) (iam.Policy, error) {
	return writePolicy(s, ctx, p, func(tx iam.Tx) (iam.Policy, error) { return tx.UpdatePolicy(ctx, p) })
}

// writePolicy runs a write of policy p after the work that needs no
// database: the bounds on its size, and the compilation of its conditions,
// done before the write lock is taken.
func writePolicy(s *Store, ctx context.Context, p iam.Policy, fn func(tx iam.Tx) (iam.Policy, error)) (iam.Policy, error) {
	release, err := s.rules.Precompile(ctx, p)
	if err != nil {
		return iam.Policy{}, err
	}
	defer release()
	return writeOne(s, ctx, fn)
}

// DeletePolicy deletes a Policy and applies its cascade.
func (s *Store) DeletePolicy(ctx context.Context, id string) error {
	return s.Atomic(ctx, func(tx iam.Tx) error { return tx.DeletePolicy(ctx, id) })
}

// CreatePermissionSet stores a new PermissionSet; see iam.PermissionSetStore.
func (s *Store) CreatePermissionSet(ctx context.Context, ps iam.PermissionSet) (iam.PermissionSet, error) {
	return writeOne(s, ctx, func(tx iam.Tx) (iam.PermissionSet, error) { return tx.CreatePermissionSet(ctx, ps) })
}

// GetPermissionSet returns one of an organization's own sets, or a
// built-in one when organizationID is empty.
func (s *Store) GetPermissionSet(ctx context.Context, organizationID, name string) (iam.PermissionSet, error) {
	return readOne(s, ctx, "GetPermissionSet", func(e iam.Entities) (iam.PermissionSet, error) { return e.GetPermissionSet(ctx, organizationID, name) })
}

// ListPermissionSets returns an organization's own sets sorted by name,
// or the built-in catalogue when organizationID is empty.
func (s *Store) ListPermissionSets(ctx context.Context, organizationID string) ([]iam.PermissionSet, error) {
	return readOne(s, ctx, "ListPermissionSets", func(e iam.Entities) ([]iam.PermissionSet, error) { return e.ListPermissionSets(ctx, organizationID) })
}

// UpdatePermissionSet replaces a stored PermissionSet.
func (s *Store) UpdatePermissionSet(ctx context.Context, ps iam.PermissionSet) (iam.PermissionSet, error) {
	return writeOne(s, ctx, func(tx iam.Tx) (iam.PermissionSet, error) { return tx.UpdatePermissionSet(ctx, ps) })
}

// DeletePermissionSet deletes one of an organization's own sets.
func (s *Store) DeletePermissionSet(ctx context.Context, organizationID, name string) error {
	return s.Atomic(ctx, func(tx iam.Tx) error { return tx.DeletePermissionSet(ctx, organizationID, name) })
}

// CreateAPIKey stores a new APIKey; see iam.APIKeyStore.
func (s *Store) CreateAPIKey(ctx context.Context, k iam.APIKey) (iam.APIKey, error) {
	return writeOne(s, ctx, func(tx iam.Tx) (iam.APIKey, error) { return tx.CreateAPIKey(ctx, k) })
}

// GetAPIKey returns one APIKey.
func (s *Store) GetAPIKey(ctx context.Context, accessKey string) (iam.APIKey, error) {
	return readOne(s, ctx, "GetAPIKey", func(e iam.Entities) (iam.APIKey, error) { return e.GetAPIKey(ctx, accessKey) })
}

// ListAPIKeys returns an organization's API keys, sorted by ID.
func (s *Store) ListAPIKeys(ctx context.Context, organizationID string) ([]iam.APIKey, error) {
	return readOne(s, ctx, "ListAPIKeys", func(e iam.Entities) ([]iam.APIKey, error) { return e.ListAPIKeys(ctx, organizationID) })
}

// UpdateAPIKey replaces a stored APIKey.
func (s *Store) UpdateAPIKey(ctx context.Context, k iam.APIKey) (iam.APIKey, error) {
	return writeOne(s, ctx, func(tx iam.Tx) (iam.APIKey, error) { return tx.UpdateAPIKey(ctx, k) })
}

// DeleteAPIKey deletes an APIKey and applies its cascade.
func (s *Store) DeleteAPIKey(ctx context.Context, accessKey string) error {
	return s.Atomic(ctx, func(tx iam.Tx) error { return tx.DeleteAPIKey(ctx, accessKey) })
}
