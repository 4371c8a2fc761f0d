// Package wire holds the JSON shapes of iamkit's files (world files and
// policy files, described in the README's "File format") and a strict,
// position-aware decoder for them. It does not depend on the root package:
// the loader there turns these structs into the domain types.
//
// Every string field that names another entity (a group member, a
// policy's principal, a rule's projects) holds what the file wrote: an ID
// or a name. The loader resolves them.
//
// A field that the file leaves out, or sets to null, keeps its zero value;
// a list given as [] decodes to an empty, non-nil slice, so that the loader
// can tell "projects": [] from no "projects" at all.
//
// Positions: Decode's errors carry the byte offset and JSON path of the
// offending key or value; Locate finds the offset of any value from its
// path ("policies[0].rules[2].condition"), for errors found after decoding
// (by the store); LineColumn turns an offset into a 1-based line and a
// byte column.
package wire

// File is any file the loader reads: the top-level keys of a world file
// and those of a policy file side by side. Which keys a document uses (see
// Decode's keys) tells its kind: "organization" makes a world file,
// "policies" alone a list of policies, anything else one policy object.
type File struct {
	// World file.
	Organization   *Organization   `json:"organization"`
	Projects       []Project       `json:"projects"`
	Users          []User          `json:"users"`
	Applications   []Application   `json:"applications"`
	Groups         []Group         `json:"groups"`
	APIKeys        []APIKey        `json:"api_keys"`
	PermissionSets []PermissionSet `json:"permission_sets"`
	Policies       []Policy        `json:"policies"` // also a policy file's list

	// A policy file holding one policy object: the fields of Policy.
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Description string   `json:"description"`
	User        string   `json:"user"`
	Application string   `json:"application"`
	Group       string   `json:"group"`
	Rules       []Rule   `json:"rules"`
	Tags        []string `json:"tags"`
}

// WorldKeys are the top-level keys of a world file.
var WorldKeys = []string{"organization", "projects", "users", "applications", "groups", "api_keys", "permission_sets", "policies"}

// PolicyKeys are the keys of a policy object.
var PolicyKeys = []string{"id", "name", "description", "user", "application", "group", "rules", "tags"}

// Policy returns the policy object that f holds at its top level.
func (f *File) Policy() Policy {
	return Policy{
		ID: f.ID, Name: f.Name, Description: f.Description,
		User: f.User, Application: f.Application, Group: f.Group,
		Rules: f.Rules, Tags: f.Tags,
	}
}

// FieldHint implements FieldHinter.
func (File) FieldHint(key string) string {
	switch key {
	case "policy":
		return `a policy file is one policy object, or {"policies": [...]}`
	case "permissions":
		return `define permission sets in "permission_sets"`
	}
	return ""
}

// Organization is a world file's "organization".
type Organization struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Project is an element of "projects".
type Project struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
}

// User is an element of "users".
type User struct {
	ID       string   `json:"id"`
	Email    string   `json:"email"`
	Username string   `json:"username"`
	Type     string   `json:"type"`
	Locked   bool     `json:"locked"`
	Tags     []string `json:"tags"`
}

// FieldHint implements FieldHinter.
func (User) FieldHint(key string) string {
	switch key {
	case "owner":
		return `write "type": "owner"`
	case "name":
		return `a user is named by its "email" (and may have a "username")`
	}
	return ""
}

// Application is an element of "applications".
type Application struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Managed     bool     `json:"managed"`
	Tags        []string `json:"tags"`
}

// Group is an element of "groups".
type Group struct {
	ID              string   `json:"id"`
	Name            string   `json:"name"`
	Description     string   `json:"description"`
	Users           []string `json:"users"`
	Applications    []string `json:"applications"`
	AllUsers        bool     `json:"all_users"`
	AllApplications bool     `json:"all_applications"`
	Tags            []string `json:"tags"`
}

// FieldHint implements FieldHinter.
func (Group) FieldHint(key string) string {
	switch key {
	case "members":
		return `list members in "users" and "applications"`
	case "groups":
		return "groups do not nest"
	}
	return ""
}

// APIKey is an element of "api_keys". A file never carries a plain
// secret, only its SHA-256.
type APIKey struct {
	AccessKey        string `json:"access_key"`
	User             string `json:"user"`
	Application      string `json:"application"`
	SecretSHA256     string `json:"secret_sha256"`
	DefaultProjectID string `json:"default_project_id"`
	ExpiresAt        string `json:"expires_at"` // RFC 3339; empty: never
	Description      string `json:"description"`
}

// FieldHint implements FieldHinter.
func (APIKey) FieldHint(key string) string {
	switch key {
	case "secret", "secret_key":
		return `a file never carries a plain secret: give its hex SHA-256 as "secret_sha256" (iam.HashSecret computes it)`
	case "id":
		return `an API key's id is its "access_key"`
	case "bearer":
		return `name the bearer with "user" or "application"`
	}
	return ""
}

// PermissionSet is an element of "permission_sets": an organization's own
// set, named by its name.
type PermissionSet struct {
	Name        string   `json:"name"`
	ScopeType   string   `json:"scope_type"`
	Permissions []string `json:"permissions"`
	Includes    []string `json:"includes"`
	Declared    []string `json:"declared"`
	Description string   `json:"description"`
	Categories  []string `json:"categories"`
}

// FieldHint implements FieldHinter.
func (PermissionSet) FieldHint(key string) string {
	if key == "id" {
		return `a permission set has no id: its "name" names it`
	}
	return ""
}

// Policy is an element of "policies", or a policy file's top level. At
// most one of User, Application and Group is set.
type Policy struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Description string   `json:"description"`
	User        string   `json:"user"`
	Application string   `json:"application"`
	Group       string   `json:"group"`
	Rules       []Rule   `json:"rules"`
	Tags        []string `json:"tags"`
}

// FieldHint implements FieldHinter.
func (Policy) FieldHint(key string) string {
	if key == "principal" {
		return `name the principal with "user", "application" or "group"`
	}
	return ""
}

// Rule is an element of a policy's "rules": exactly one of Projects (a
// non-empty list) and Organization (true) gives its scope.
type Rule struct {
	Projects       []string `json:"projects"`
	Organization   bool     `json:"organization"`
	PermissionSets []string `json:"permission_sets"`
	Condition      string   `json:"condition"`
}

// FieldHint implements FieldHinter.
func (Rule) FieldHint(key string) string {
	switch key {
	case "scope":
		return `a rule's scope is "projects": [...] or "organization": true`
	case "organization_id":
		return `write "organization": true; a rule only ever acts in its policy's organization`
	case "project_ids":
		return `write "projects": [...] with project ids or names`
	case "permissions":
		return `rules grant permission sets by name: "permission_sets": [...]`
	}
	return ""
}
