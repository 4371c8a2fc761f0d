package postgres

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/iamkit/iam"
)

// The database holds every entity as one JSON document, and every change
// as a JSON array of events. The documents are written from the explicit
// structs below (never from the iam types themselves, whose field order or
// names may change), and read back into exactly the values written: a nil
// slice stays nil and an empty one stays empty ("omitzero" drops nil
// slices, zero strings, false and the zero time, and keeps [] for an
// empty slice), and times are kept in UTC to the nanosecond.

// kindNames are the names of the kinds in the database (column kind, and
// the events of the change log). They are part of the schema: never
// change one.
var kindNames = map[iam.Kind]string{
	iam.KindOrganization:  "organization",
	iam.KindProject:       "project",
	iam.KindUser:          "user",
	iam.KindApplication:   "application",
	iam.KindGroup:         "group",
	iam.KindPolicy:        "policy",
	iam.KindPermissionSet: "permission_set",
	iam.KindAPIKey:        "api_key",
}

var kindsByName = func() map[string]iam.Kind {
	m := make(map[string]iam.Kind, len(kindNames))
	for k, n := range kindNames {
		m[n] = k
	}
	return m
}()

func kindName(k iam.Kind) (string, error) {
	n, ok := kindNames[k]
	if !ok {
		return "", fmt.Errorf("iam: postgres: no stored name for entity kind %d: %w", k, iam.ErrInvalid)
	}
	return n, nil
}

func parseKind(s string) (iam.Kind, error) {
	k, ok := kindsByName[s]
	if !ok {
		return 0, fmt.Errorf("iam: postgres: unknown entity kind %q in the database", s)
	}
	return k, nil
}

type principalJSON struct {
	Type string `json:"type,omitzero"`
	ID   string `json:"id,omitzero"`
}

func encodePrincipal(p iam.Principal) principalJSON {
	if p.IsZero() {
		return principalJSON{}
	}
	return principalJSON{Type: p.Type.String(), ID: p.ID}
}

func (p principalJSON) decode() (iam.Principal, error) {
	var t iam.PrincipalType
	switch p.Type {
	case "":
		t = iam.PrincipalNone
	case "user":
		t = iam.PrincipalUser
	case "application":
		t = iam.PrincipalApplication
	case "group":
		t = iam.PrincipalGroup
	case "api_key":
		t = iam.PrincipalAPIKey
	default:
		return iam.Principal{}, fmt.Errorf("iam: postgres: unknown principal type %q in the database", p.Type)
	}
	return iam.Principal{Type: t, ID: p.ID}, nil
}

type organizationJSON struct {
	ID   string `json:"id,omitzero"`
	Name string `json:"name,omitzero"`
}

type projectJSON struct {
	ID             string `json:"id,omitzero"`
	OrganizationID string `json:"organization_id,omitzero"`
	Name           string `json:"name,omitzero"`
	Description    string `json:"description,omitzero"`
}

type userJSON struct {
	ID             string   `json:"id,omitzero"`
	OrganizationID string   `json:"organization_id,omitzero"`
	Email          string   `json:"email,omitzero"`
	Username       string   `json:"username,omitzero"`
	Type           string   `json:"type,omitzero"`
	Locked         bool     `json:"locked,omitzero"`
	Tags           []string `json:"tags,omitzero"`
}

type applicationJSON struct {
	ID             string   `json:"id,omitzero"`
	OrganizationID string   `json:"organization_id,omitzero"`
	Name           string   `json:"name,omitzero"`
	Description    string   `json:"description,omitzero"`
	Managed        bool     `json:"managed,omitzero"`
	Tags           []string `json:"tags,omitzero"`
}

type groupJSON struct {
	ID              string   `json:"id,omitzero"`
	OrganizationID  string   `json:"organization_id,omitzero"`
	Name            string   `json:"name,omitzero"`
	Description     string   `json:"description,omitzero"`
	UserIDs         []string `json:"user_ids,omitzero"`
	ApplicationIDs  []string `json:"application_ids,omitzero"`
	AllUsers        bool     `json:"all_users,omitzero"`
	AllApplications bool     `json:"all_applications,omitzero"`
	Tags            []string `json:"tags,omitzero"`
}

type scopeJSON struct {
	ProjectIDs     []string `json:"project_ids,omitzero"`
	OrganizationID string   `json:"organization_id,omitzero"`
}

type ruleJSON struct {
	Scope          scopeJSON `json:"scope"`
	PermissionSets []string  `json:"permission_sets,omitzero"`
	Condition      string    `json:"condition,omitzero"`
}

type policyJSON struct {
	ID             string        `json:"id,omitzero"`
	OrganizationID string        `json:"organization_id,omitzero"`
	Name           string        `json:"name,omitzero"`
	Description    string        `json:"description,omitzero"`
	Principal      principalJSON `json:"principal,omitzero"`
	Rules          []ruleJSON    `json:"rules,omitzero"`
	Tags           []string      `json:"tags,omitzero"`
}

type permissionSetJSON struct {
	Name           string   `json:"name,omitzero"`
	OrganizationID string   `json:"organization_id,omitzero"`
	ScopeType      string   `json:"scope_type,omitzero"`
	Permissions    []string `json:"permissions,omitzero"`
	Includes       []string `json:"includes,omitzero"`
	Declared       []string `json:"declared,omitzero"`
	Description    string   `json:"description,omitzero"`
	Categories     []string `json:"categories,omitzero"`
}

// apiKeyJSON never holds the secret itself, only its hash.
type apiKeyJSON struct {
	AccessKey        string        `json:"access_key,omitzero"`
	OrganizationID   string        `json:"organization_id,omitzero"`
	Bearer           principalJSON `json:"bearer,omitzero"`
	SecretSHA256     string        `json:"secret_sha256,omitzero"`
	DefaultProjectID string        `json:"default_project_id,omitzero"`
	ExpiresAt        string        `json:"expires_at,omitzero"` // RFC 3339 in UTC, nanoseconds kept
	Description      string        `json:"description,omitzero"`
}

// encodeValue returns the JSON document of an entity value (an iam
// Organization, Project, User, Application, Group, Policy, PermissionSet
// or APIKey).
func encodeValue(v any) ([]byte, error) {
	var doc any
	switch v := v.(type) {
	case iam.Organization:
		doc = organizationJSON{ID: v.ID, Name: v.Name}
	case iam.Project:
		doc = projectJSON{ID: v.ID, OrganizationID: v.OrganizationID, Name: v.Name, Description: v.Description}
	case iam.User:
		doc = userJSON{ID: v.ID, OrganizationID: v.OrganizationID, Email: v.Email, Username: v.Username,
			Type: string(v.Type), Locked: v.Locked, Tags: v.Tags}
	case iam.Application:
		doc = applicationJSON{ID: v.ID, OrganizationID: v.OrganizationID, Name: v.Name,
			Description: v.Description, Managed: v.Managed, Tags: v.Tags}
	case iam.Group:
		doc = groupJSON{ID: v.ID, OrganizationID: v.OrganizationID, Name: v.Name, Description: v.Description,
			UserIDs: v.UserIDs, ApplicationIDs: v.ApplicationIDs, AllUsers: v.AllUsers,
			AllApplications: v.AllApplications, Tags: v.Tags}
	case iam.Policy:
		p := policyJSON{ID: v.ID, OrganizationID: v.OrganizationID, Name: v.Name, Description: v.Description,
			Principal: encodePrincipal(v.Principal), Tags: v.Tags}
		if v.Rules != nil {
			p.Rules = make([]ruleJSON, len(v.Rules))
			for i, r := range v.Rules {
				p.Rules[i] = ruleJSON{
					Scope:          scopeJSON{ProjectIDs: r.Scope.ProjectIDs, OrganizationID: r.Scope.OrganizationID},
					PermissionSets: r.PermissionSets,
					Condition:      r.Condition,
				}
			}
		}
		doc = p
	case iam.PermissionSet:
		doc = permissionSetJSON{Name: v.Name, OrganizationID: v.OrganizationID, ScopeType: string(v.ScopeType),
			Permissions: v.Permissions, Includes: v.Includes, Declared: v.Declared,
			Description: v.Description, Categories: v.Categories}
	case iam.APIKey:
		k := apiKeyJSON{AccessKey: v.AccessKey, OrganizationID: v.OrganizationID, Bearer: encodePrincipal(v.Bearer),
			SecretSHA256: v.SecretSHA256, DefaultProjectID: v.DefaultProjectID, Description: v.Description}
		if !v.ExpiresAt.IsZero() {
			k.ExpiresAt = v.ExpiresAt.UTC().Format(time.RFC3339Nano)
		}
		doc = k
	default:
		return nil, fmt.Errorf("iam: postgres: cannot store a value of type %T: %w", v, iam.ErrInvalid)
	}
	return json.Marshal(doc)
}

// decodeValue reads the JSON document of an entity of kind k back into
// its iam value.
func decodeValue(k iam.Kind, data []byte) (any, error) {
	switch k {
	case iam.KindOrganization:
		return decodeAs(data, func(d organizationJSON) (iam.Organization, error) {
			return iam.Organization{ID: d.ID, Name: d.Name}, nil
		})
	case iam.KindProject:
		return decodeAs(data, func(d projectJSON) (iam.Project, error) {
			return iam.Project{ID: d.ID, OrganizationID: d.OrganizationID, Name: d.Name, Description: d.Description}, nil
		})
	case iam.KindUser:
		return decodeAs(data, decodeUser)
	case iam.KindApplication:
		return decodeAs(data, func(d applicationJSON) (iam.Application, error) {
			return iam.Application{ID: d.ID, OrganizationID: d.OrganizationID, Name: d.Name,
				Description: d.Description, Managed: d.Managed, Tags: d.Tags}, nil
		})
	case iam.KindGroup:
		return decodeAs(data, decodeGroup)
	case iam.KindPolicy:
		return decodeAs(data, decodePolicy)
	case iam.KindPermissionSet:
		return decodeAs(data, decodePermissionSet)
	case iam.KindAPIKey:
		return decodeAs(data, decodeAPIKey)
	}
	return nil, fmt.Errorf("iam: postgres: cannot read a value of kind %d", k)
}

func decodeAs[D, V any](data []byte, conv func(D) (V, error)) (any, error) {
	var d D
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, fmt.Errorf("iam: postgres: reading a stored %T: %w", d, err)
	}
	return conv(d)
}

func decodeUser(d userJSON) (iam.User, error) {
	return iam.User{ID: d.ID, OrganizationID: d.OrganizationID, Email: d.Email, Username: d.Username,
		Type: iam.UserType(d.Type), Locked: d.Locked, Tags: d.Tags}, nil
}

func decodeGroup(d groupJSON) (iam.Group, error) {
	return iam.Group{ID: d.ID, OrganizationID: d.OrganizationID, Name: d.Name, Description: d.Description,
		UserIDs: d.UserIDs, ApplicationIDs: d.ApplicationIDs, AllUsers: d.AllUsers,
		AllApplications: d.AllApplications, Tags: d.Tags}, nil
}

func decodePolicy(d policyJSON) (iam.Policy, error) {
	p, err := d.Principal.decode()
	if err != nil {
		return iam.Policy{}, err
	}
	out := iam.Policy{ID: d.ID, OrganizationID: d.OrganizationID, Name: d.Name, Description: d.Description,
		Principal: p, Tags: d.Tags}
	if d.Rules != nil {
		out.Rules = make([]iam.Rule, len(d.Rules))
		for i, r := range d.Rules {
			out.Rules[i] = iam.Rule{
				Scope:          iam.Scope{ProjectIDs: r.Scope.ProjectIDs, OrganizationID: r.Scope.OrganizationID},
				PermissionSets: r.PermissionSets,
				Condition:      r.Condition,
			}
		}
	}
	return out, nil
}

func decodePermissionSet(d permissionSetJSON) (iam.PermissionSet, error) {
	return iam.PermissionSet{Name: d.Name, OrganizationID: d.OrganizationID, ScopeType: iam.ScopeType(d.ScopeType),
		Permissions: d.Permissions, Includes: d.Includes, Declared: d.Declared,
		Description: d.Description, Categories: d.Categories}, nil
}

func decodeAPIKey(d apiKeyJSON) (iam.APIKey, error) {
	b, err := d.Bearer.decode()
	if err != nil {
		return iam.APIKey{}, err
	}
	k := iam.APIKey{AccessKey: d.AccessKey, OrganizationID: d.OrganizationID, Bearer: b,
		SecretSHA256: d.SecretSHA256, DefaultProjectID: d.DefaultProjectID, Description: d.Description}
	if d.ExpiresAt != "" {
		t, err := time.Parse(time.RFC3339Nano, d.ExpiresAt)
		if err != nil {
			return iam.APIKey{}, fmt.Errorf("iam: postgres: API key %q: stored expires_at: %w", d.AccessKey, err)
		}
		k.ExpiresAt = t.UTC()
	}
	return k, nil
}

// eventJSON is one event of the change log.
type eventJSON struct {
	Op             string          `json:"op"`
	Kind           string          `json:"kind"`
	ID             string          `json:"id"`
	OrganizationID string          `json:"organization_id,omitzero"`
	Value          json.RawMessage `json:"value,omitzero"`
}

// encodeEvents returns the JSON array of a change's events.
func encodeEvents(evs []iam.Event) ([]byte, error) {
	out := make([]eventJSON, len(evs))
	for i, ev := range evs {
		kind, err := kindName(ev.Kind)
		if err != nil {
			return nil, err
		}
		e := eventJSON{Kind: kind, ID: ev.ID, OrganizationID: ev.OrganizationID}
		switch ev.Op {
		case iam.OpPut:
			e.Op = "put"
			if e.Value, err = encodeValue(ev.Value); err != nil {
				return nil, err
			}
		case iam.OpDelete:
			e.Op = "delete"
		default:
			return nil, fmt.Errorf("iam: postgres: event %d has no operation: %w", i, iam.ErrInvalid)
		}
		out[i] = e
	}
	return json.Marshal(out)
}

// decodeEvents reads a change's events back.
func decodeEvents(data []byte) ([]iam.Event, error) {
	var in []eventJSON
	if err := json.Unmarshal(data, &in); err != nil {
		return nil, fmt.Errorf("iam: postgres: reading a change's events: %w", err)
	}
	out := make([]iam.Event, len(in))
	for i, e := range in {
		k, err := parseKind(e.Kind)
		if err != nil {
			return nil, err
		}
		ev := iam.Event{Kind: k, ID: e.ID, OrganizationID: e.OrganizationID}
		switch e.Op {
		case "put":
			ev.Op = iam.OpPut
			if ev.Value, err = decodeValue(k, e.Value); err != nil {
				return nil, err
			}
		case "delete":
			ev.Op = iam.OpDelete
		default:
			return nil, fmt.Errorf("iam: postgres: unknown operation %q in the change log", e.Op)
		}
		out[i] = ev
	}
	return out, nil
}
