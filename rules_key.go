package iam

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// The write rules of API keys.

// CreateAPIKey stores a key; its secret is generated when neither it nor
// its SHA-256 is given, and returned in the result only.
func (t *WriteTx) CreateAPIKey(ctx context.Context, k APIKey) (_ APIKey, err error) {
	if ctx, err = t.begin(ctx, true); err != nil {
		return APIKey{}, err
	}
	if _, err := t.org(ctx, k.OrganizationID); err != nil {
		return APIKey{}, refError(KindAPIKey, k.AccessKey, "organization_id", err)
	}
	if k.AccessKey == "" {
		k.AccessKey = newAccessKey()
	}
	secret := k.Secret
	switch {
	case secret != "" && k.SecretSHA256 != "":
		return APIKey{}, &ValidationError{Entity: "API key", ID: k.AccessKey, Field: "secret", Reason: "give either the secret or its SHA-256, not both"}
	case len(secret) > MaxSecretLength:
		return APIKey{}, &ValidationError{Entity: "API key", ID: k.AccessKey, Field: "secret", Reason: fmt.Sprintf("a secret has at most %d bytes (got %d)", MaxSecretLength, len(secret)), Hint: "leave it empty and the store generates one"}
	case secret == "" && k.SecretSHA256 == "":
		secret = newSecret()
		fallthrough
	case secret != "":
		k.SecretSHA256 = hashSecret(secret)
	}
	k.Secret = ""
	if k.DefaultProjectID == "" {
		k.DefaultProjectID = k.OrganizationID
	}
	if err := t.validateAPIKey(ctx, k); err != nil {
		return APIKey{}, err
	}
	if err := t.claimID(ctx, KindAPIKey, k.AccessKey, k.OrganizationID); err != nil {
		return APIKey{}, err
	}
	if err := t.apply(ctx, OpPut, KindAPIKey, k.AccessKey, k.OrganizationID, k); err != nil {
		return APIKey{}, err
	}
	k.Secret = secret
	return k, nil
}

func (t *WriteTx) GetAPIKey(ctx context.Context, accessKey string) (APIKey, error) {
	ctx, err := t.begin(ctx, false)
	if err != nil {
		return APIKey{}, err
	}
	return get(ctx, KindAPIKey, accessKey, t.view.APIKey)
}

func (t *WriteTx) ListAPIKeys(ctx context.Context, organizationID string) ([]APIKey, error) {
	ctx, err := t.begin(ctx, false)
	if err != nil {
		return nil, err
	}
	if _, err := t.org(ctx, organizationID); err != nil {
		return nil, err
	}
	vs, err := t.view.APIKeys(ctx, organizationID)
	return copied(vs, err)
}

// UpdateAPIKey replaces a key's description, expiry and default project;
// its bearer and secret never change.
func (t *WriteTx) UpdateAPIKey(ctx context.Context, k APIKey) (_ APIKey, err error) {
	if ctx, err = t.begin(ctx, true); err != nil {
		return APIKey{}, err
	}
	old, err := get(ctx, KindAPIKey, k.AccessKey, t.view.APIKey)
	if err != nil {
		return APIKey{}, err
	}
	if err := immutable(KindAPIKey, k.AccessKey, "organization_id", old.OrganizationID, k.OrganizationID); err != nil {
		return APIKey{}, err
	}
	if k.Bearer != old.Bearer {
		return APIKey{}, &ValidationError{Entity: "API key", ID: k.AccessKey, Field: "bearer", Value: k.Bearer.String(), Reason: "the bearer of a key never changes", Hint: "create a new key for the other principal"}
	}
	if k.Secret != "" || (k.SecretSHA256 != "" && k.SecretSHA256 != old.SecretSHA256) {
		return APIKey{}, &ValidationError{Entity: "API key", ID: k.AccessKey, Field: "secret", Reason: "the secret of a key never changes", Hint: "create a new key and delete this one"}
	}
	k.SecretSHA256 = old.SecretSHA256
	if k.DefaultProjectID == "" {
		k.DefaultProjectID = k.OrganizationID
	}
	if err := t.validateAPIKey(ctx, k); err != nil {
		return APIKey{}, err
	}
	if err := t.apply(ctx, OpPut, KindAPIKey, k.AccessKey, k.OrganizationID, k); err != nil {
		return APIKey{}, err
	}
	return k, nil
}

func (t *WriteTx) DeleteAPIKey(ctx context.Context, accessKey string) (err error) {
	if ctx, err = t.begin(ctx, true); err != nil {
		return err
	}
	k, err := get(ctx, KindAPIKey, accessKey, t.view.APIKey)
	if err != nil {
		return err
	}
	return t.apply(ctx, OpDelete, KindAPIKey, accessKey, k.OrganizationID, nil)
}

func (t *WriteTx) validateAPIKey(ctx context.Context, k APIKey) error {
	org := k.OrganizationID
	if err := validateID(KindAPIKey, k.AccessKey, "access_key"); err != nil {
		return err
	}
	if b, err := hex.DecodeString(k.SecretSHA256); err != nil || len(b) != sha256.Size || strings.ToLower(k.SecretSHA256) != k.SecretSHA256 {
		return invalid(KindAPIKey, k.AccessKey, "secret_sha256", k.SecretSHA256, "the secret's SHA-256 is 64 lower-case hexadecimal digits", "")
	}
	switch k.Bearer.Type {
	case PrincipalUser:
		if err := t.checkRef(ctx, org, KindAPIKey, k.AccessKey, "user", KindUser, k.Bearer.ID); err != nil {
			return err
		}
	case PrincipalApplication:
		if err := t.checkRef(ctx, org, KindAPIKey, k.AccessKey, "application", KindApplication, k.Bearer.ID); err != nil {
			return err
		}
	default:
		return invalid(KindAPIKey, k.AccessKey, "bearer", k.Bearer.String(), "an API key's bearer is a user or an application", "")
	}
	if err := t.checkRef(ctx, org, KindAPIKey, k.AccessKey, "default_project_id", KindProject, k.DefaultProjectID); err != nil {
		return err
	}
	return validateDescription(KindAPIKey, k.AccessKey, k.Description)
}
