package iam

// Scope says where a rule grants: either in the listed projects, or, with
// OrganizationID set, at the organization. A rule on the organization grants
// sets of type ScopeOrganization for the organization-level features, and
// sets of type ScopeProjects in all current and future projects.
// Exactly one of the two fields is set.
type Scope struct {
	ProjectIDs     []string
	OrganizationID string
}

// ProjectsScope is a Scope over the given projects.
func ProjectsScope(projectIDs ...string) Scope { return Scope{ProjectIDs: projectIDs} }

// OrganizationScope is a Scope over the whole organization.
func OrganizationScope(organizationID string) Scope { return Scope{OrganizationID: organizationID} }
