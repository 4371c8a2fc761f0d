// Package scaleway reads and writes Scaleway's own format: the IAM objects
// of an organization as Scaleway's API (IAM v1alpha1, and Account v3 for
// projects) and its CLI's JSON output return them, so that an export of a
// real organization can be loaded as a world and checked offline.
//
// # The export
//
// An export is one JSON object whose keys are the API's list names, each
// holding the objects exactly as the API returns them:
//
//	{
//	  "organization": {"id": "…", "name": "Acme"},
//	  "projects":     [ …scw account project list -o json… ],
//	  "users":        [ …scw iam user list -o json… ],
//	  "applications": [ …scw iam application list -o json… ],
//	  "groups":       [ …scw iam group list -o json… ],
//	  "policies":     [ …scw iam policy get policy-id=… -o json, one per policy… ],
//	  "api_keys":     [ …scw iam api-key list -o json… ]
//	}
//
// Every key is optional. "organization" is this format's own addition (the
// API has no organization object in IAM): without it, the organization is
// the one that the objects' "organization_id" names, and its name is its ID.
// A policy carries its rules in "rules" (a list of the API's Rule objects,
// as "scw iam rule list policy-id=… -o json" prints them) or in "Rules" (the
// key under which "scw iam policy get" prints them); a policy listed
// without rules but whose "nb_rules" says it has some is an error, since
// the export would silently miss grants.
//
// # Reading it
//
// Objects are read strictly: each object takes the fields the API returns
// (those that do not matter here, such as "created_at" or "nb_api_keys", are
// read and ignored), and a field this package does not know is an error, so
// that a field of a newer API that changes what a policy grants is never
// silently dropped. References are IDs only, as in the API, and must name
// an object of the export (a rule's project may also be the organization's
// ID, its default project). A user of type "guest", the type of invited
// users before Scaleway's 2025 migration, reads as "member". Scaleway's
// rejections are kept: a rule needs exactly one scope ("project_ids" or
// "organization_id", never both), at least one permission set, and an
// organization-scoped set ("permission_sets_scope_type": "organization") is
// never granted on projects; a policy has exactly one of "user_id",
// "group_id", "application_id" and "no_principal": true; an API key one of
// "user_id" and "application_id". Rules scoped to Scaleway's account root
// user ("account_root_user_id") have no counterpart in a world and are an
// error. The special groups ("all_users", "all_applications") have implicit
// members, so the IDs they list are not needed and are left out.
//
// The API never returns an API key's secret, so a key read from an export
// gets the SHA-256 NoSecretSHA256 (all zeros, whose preimage nobody knows):
// it names its bearer in checks, and never authenticates. A plain
// "secret_key" in an export is an error: a file never carries a secret.
//
// IsScaleway tells the format from the file's own keys, ToWorld converts an
// export to the shapes of package wire (errors are *wire.Error, located in
// the export), Path maps a path of the converted world back into the export,
// and FromWorld writes a world in this format.
package scaleway

import (
	"encoding/json"
	"strings"
)

// NoSecretSHA256 is the secret hash of every API key read from an export:
// 64 zeros, a SHA-256 that no known secret has.
var NoSecretSHA256 = strings.Repeat("0", 64)

// File is an export: the organization and its objects.
type File struct {
	Organization *Organization `json:"organization"`
	Projects     []Project     `json:"projects"`
	Users        []User        `json:"users"`
	Applications []Application `json:"applications"`
	Groups       []Group       `json:"groups"`
	Policies     []Policy      `json:"policies"`
	APIKeys      []APIKey      `json:"api_keys"`
}

// FieldHint implements wire.FieldHinter.
func (File) FieldHint(key string) string {
	switch key {
	case "permission_sets":
		return "Scaleway's format has no custom permission sets: its rules grant Scaleway's own"
	case "rules":
		return `list each policy's rules in its "rules"`
	}
	return ""
}

// Organization is the export's "organization", this format's own addition.
type Organization struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Project is a project as Account v3 returns it.
type Project struct {
	ID             string          `json:"id"`
	Name           string          `json:"name"`
	OrganizationID string          `json:"organization_id"`
	CreatedAt      json.RawMessage `json:"created_at,omitempty"`
	UpdatedAt      json.RawMessage `json:"updated_at,omitempty"`
	Description    string          `json:"description"`
	Qualification  json.RawMessage `json:"qualification,omitempty"`
	Status         json.RawMessage `json:"status,omitempty"`
}

// User is a user as IAM returns it. Type is "owner", "member", or "guest"
// (read as "member").
type User struct {
	ID                string          `json:"id"`
	Email             string          `json:"email"`
	Username          string          `json:"username"`
	FirstName         json.RawMessage `json:"first_name,omitempty"`
	LastName          json.RawMessage `json:"last_name,omitempty"`
	PhoneNumber       json.RawMessage `json:"phone_number,omitempty"`
	Locale            json.RawMessage `json:"locale,omitempty"`
	CreatedAt         json.RawMessage `json:"created_at,omitempty"`
	UpdatedAt         json.RawMessage `json:"updated_at,omitempty"`
	OrganizationID    string          `json:"organization_id"`
	Deletable         json.RawMessage `json:"deletable,omitempty"`
	LastLoginAt       json.RawMessage `json:"last_login_at,omitempty"`
	Type              string          `json:"type"`
	TwoFactorEnabled  json.RawMessage `json:"two_factor_enabled,omitempty"`
	Status            json.RawMessage `json:"status,omitempty"`
	MFA               json.RawMessage `json:"mfa,omitempty"`
	AccountRootUserID json.RawMessage `json:"account_root_user_id,omitempty"`
	Tags              []string        `json:"tags"`
	Locked            bool            `json:"locked"`
	SRN               json.RawMessage `json:"srn,omitempty"`
}

// FieldHint implements wire.FieldHinter.
func (User) FieldHint(key string) string {
	if key == "owner" {
		return `write "type": "owner"`
	}
	return ""
}

// Application is an application as IAM returns it.
type Application struct {
	ID             string          `json:"id"`
	Name           string          `json:"name"`
	Description    string          `json:"description"`
	CreatedAt      json.RawMessage `json:"created_at,omitempty"`
	UpdatedAt      json.RawMessage `json:"updated_at,omitempty"`
	OrganizationID string          `json:"organization_id"`
	Editable       json.RawMessage `json:"editable,omitempty"`
	Deletable      json.RawMessage `json:"deletable,omitempty"`
	Managed        bool            `json:"managed"`
	NbAPIKeys      json.RawMessage `json:"nb_api_keys,omitempty"`
	Tags           []string        `json:"tags"`
	SRN            json.RawMessage `json:"srn,omitempty"`
}

// Group is a group as IAM returns it.
type Group struct {
	ID              string          `json:"id"`
	CreatedAt       json.RawMessage `json:"created_at,omitempty"`
	UpdatedAt       json.RawMessage `json:"updated_at,omitempty"`
	OrganizationID  string          `json:"organization_id"`
	Name            string          `json:"name"`
	Description     string          `json:"description"`
	UserIDs         []string        `json:"user_ids"`
	ApplicationIDs  []string        `json:"application_ids"`
	Tags            []string        `json:"tags"`
	Editable        json.RawMessage `json:"editable,omitempty"`
	Deletable       json.RawMessage `json:"deletable,omitempty"`
	Managed         json.RawMessage `json:"managed,omitempty"`
	AllUsers        bool            `json:"all_users"`
	AllApplications bool            `json:"all_applications"`
	SRN             json.RawMessage `json:"srn,omitempty"`
}

// FieldHint implements wire.FieldHinter.
func (Group) FieldHint(key string) string {
	switch key {
	case "users", "members":
		return `in Scaleway's format a group lists its members' IDs in "user_ids" and "application_ids"`
	case "applications":
		return `in Scaleway's format a group lists its applications' IDs in "application_ids"`
	}
	return ""
}

// Policy is a policy as IAM returns it, with its rules: Rules, or CLIRules
// as "scw iam policy get" prints them. Exactly one of UserID, GroupID,
// ApplicationID and NoPrincipal (true) is set.
type Policy struct {
	ID               string          `json:"id"`
	Name             string          `json:"name"`
	Description      string          `json:"description"`
	OrganizationID   string          `json:"organization_id"`
	CreatedAt        json.RawMessage `json:"created_at,omitempty"`
	UpdatedAt        json.RawMessage `json:"updated_at,omitempty"`
	Editable         json.RawMessage `json:"editable,omitempty"`
	Deletable        json.RawMessage `json:"deletable,omitempty"`
	Managed          json.RawMessage `json:"managed,omitempty"`
	NbRules          json.RawMessage `json:"nb_rules,omitempty"`
	NbScopes         json.RawMessage `json:"nb_scopes,omitempty"`
	NbPermissionSets json.RawMessage `json:"nb_permission_sets,omitempty"`
	Tags             []string        `json:"tags"`
	UserID           *string         `json:"user_id,omitempty"`
	GroupID          *string         `json:"group_id,omitempty"`
	ApplicationID    *string         `json:"application_id,omitempty"`
	NoPrincipal      *bool           `json:"no_principal,omitempty"`
	SRN              json.RawMessage `json:"srn,omitempty"`
	Rules            []Rule          `json:"rules"`
	CLIRules         []Rule          `json:"Rules,omitempty"`
}

// FieldHint implements wire.FieldHinter.
func (Policy) FieldHint(key string) string {
	switch key {
	case "user", "application", "group", "principal":
		return `in Scaleway's format the principal is "user_id", "group_id" or "application_id", or "no_principal": true`
	}
	return ""
}

// Rule is a rule as IAM returns it. Exactly one of ProjectIDs,
// OrganizationID and AccountRootUserID gives its scope.
type Rule struct {
	ID                      json.RawMessage `json:"id,omitempty"`
	PermissionSetNames      []string        `json:"permission_set_names"`
	PermissionSetsScopeType string          `json:"permission_sets_scope_type,omitempty"`
	Condition               string          `json:"condition"`
	ProjectIDs              []string        `json:"project_ids,omitempty"`
	OrganizationID          *string         `json:"organization_id,omitempty"`
	AccountRootUserID       *string         `json:"account_root_user_id,omitempty"`
	SRN                     json.RawMessage `json:"srn,omitempty"`
}

// FieldHint implements wire.FieldHinter.
func (Rule) FieldHint(key string) string {
	switch key {
	case "projects":
		return `in Scaleway's format a rule's projects are "project_ids"`
	case "organization":
		return `in Scaleway's format a rule on the organization has "organization_id": "<the organization's ID>"`
	case "permission_sets":
		return `in Scaleway's format a rule's sets are "permission_set_names"`
	}
	return ""
}

// APIKey is an API key as IAM returns it. Exactly one of UserID and
// ApplicationID names its bearer; SecretKey is only ever set in the
// response that creates the key, and is refused here.
type APIKey struct {
	AccessKey        string          `json:"access_key"`
	SecretKey        *string         `json:"secret_key,omitempty"`
	ApplicationID    *string         `json:"application_id,omitempty"`
	UserID           *string         `json:"user_id,omitempty"`
	Description      string          `json:"description"`
	CreatedAt        json.RawMessage `json:"created_at,omitempty"`
	UpdatedAt        json.RawMessage `json:"updated_at,omitempty"`
	ExpiresAt        *string         `json:"expires_at"`
	DefaultProjectID string          `json:"default_project_id"`
	Editable         json.RawMessage `json:"editable,omitempty"`
	Deletable        json.RawMessage `json:"deletable,omitempty"`
	Managed          json.RawMessage `json:"managed,omitempty"`
	CreationIP       json.RawMessage `json:"creation_ip,omitempty"`
	SRN              json.RawMessage `json:"srn,omitempty"`
}

// FieldHint implements wire.FieldHinter.
func (APIKey) FieldHint(key string) string {
	switch key {
	case "user", "application", "bearer":
		return `in Scaleway's format the bearer is "user_id" or "application_id"`
	case "secret_sha256", "secret":
		return "Scaleway's format carries no secret: a key read from it names its bearer in checks and never authenticates"
	}
	return ""
}
