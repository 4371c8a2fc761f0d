package iam

import "time"

// APIKey is a credential of a user or an application. It inherits its
// bearer's permissions and never more; its DefaultProjectID only tells
// clients which project to use by default and grants nothing.
//
// The store never keeps Secret: CreateAPIKey fills it in its result, that
// one time, and keeps SecretSHA256, the hex SHA-256 of the secret. (A plain
// hash is right here because generated secrets are random UUIDs, 122 bits of entropy;
// they are not passwords.) A key may also be created from a known
// SecretSHA256 alone, as world files do. A secret given to CreateAPIKey
// has at most MaxSecretLength bytes.
type APIKey struct {
	AccessKey        string // the key's ID
	OrganizationID   string
	Bearer           Principal // a user or an application; never changes
	Secret           string    // only in CreateAPIKey's result
	SecretSHA256     string    // hex SHA-256 of the secret
	DefaultProjectID string    // empty: the organization's default project
	ExpiresAt        time.Time // zero: never; expired when now >= ExpiresAt
	Description      string
}
