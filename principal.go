package iam

// PrincipalType says what kind of entity a Principal names.
type PrincipalType uint8

// The kinds of principal. The zero Principal (PrincipalNone) means "no
// principal": a policy without one grants nothing.
const (
	PrincipalNone PrincipalType = iota
	PrincipalUser
	PrincipalApplication
	PrincipalGroup
	// PrincipalAPIKey is only meaningful in a Request: the key resolves to
	// its bearer, and the check also requires the key to be valid (not
	// expired, bearer present and not locked). A policy cannot name a key.
	PrincipalAPIKey
)

// String returns "user", "application", "group", "api_key", "none", or
// "unknown" for a value outside these.
func (t PrincipalType) String() string {
	switch t {
	case PrincipalUser:
		return "user"
	case PrincipalApplication:
		return "application"
	case PrincipalGroup:
		return "group"
	case PrincipalAPIKey:
		return "api_key"
	case PrincipalNone:
		return "none"
	default:
		return "unknown"
	}
}

// Principal names who a policy applies to, or who makes a request: a user,
// an application, a group (policies; and requests answered from the group's
// own policies), or an API key (requests only). It is a small comparable
// value; the zero value means "no principal".
type Principal struct {
	Type PrincipalType
	ID   string
}

// UserPrincipal names the user with the given ID.
func UserPrincipal(id string) Principal { return Principal{Type: PrincipalUser, ID: id} }

// ApplicationPrincipal names the application with the given ID.
func ApplicationPrincipal(id string) Principal {
	return Principal{Type: PrincipalApplication, ID: id}
}

// GroupPrincipal names the group with the given ID.
func GroupPrincipal(id string) Principal { return Principal{Type: PrincipalGroup, ID: id} }

// APIKeyPrincipal names the API key with the given access key. A request
// made with it is answered for the key's bearer, never beyond it.
func APIKeyPrincipal(accessKey string) Principal {
	return Principal{Type: PrincipalAPIKey, ID: accessKey}
}

// IsZero reports whether p is the zero Principal ("no principal").
func (p Principal) IsZero() bool { return p.Type == PrincipalNone && p.ID == "" }

// String renders "type:id", or "none" for the zero Principal.
func (p Principal) String() string {
	if p.IsZero() {
		return "none"
	}
	return p.Type.String() + ":" + p.ID
}
