package iamhttp

import (
	"context"
	"log/slog"

	"github.com/iamkit/iam"
)

// Caller is who makes an HTTP request, as Authenticate found it.
type Caller struct {
	// Principal is the user or application acting: the API key's bearer.
	Principal iam.Principal
	// AccessKey is the API key the request authenticated with; empty when
	// the host's own authentication put the Caller in the context.
	AccessKey string
	// OrganizationID is the caller's organization: where a request that
	// names no project acts (listing or creating the organization's
	// projects, say).
	OrganizationID string
}

// RequestPrincipal is the principal to put in an iam.Request made for the
// caller: the API key when there is one, so that every check also
// requires the key to be valid (a key that expires or is deleted during
// the request stops counting at once), else the Principal.
func (c Caller) RequestPrincipal() iam.Principal {
	if c.AccessKey != "" {
		return iam.APIKeyPrincipal(c.AccessKey)
	}
	return c.Principal
}

// LogValue renders the caller as a group of its fields, for log/slog. It
// never holds a secret.
func (c Caller) LogValue() slog.Value {
	attrs := []slog.Attr{slog.String("principal", c.Principal.String())}
	if c.AccessKey != "" {
		attrs = append(attrs, slog.String("access_key", c.AccessKey))
	}
	if c.OrganizationID != "" {
		attrs = append(attrs, slog.String("organization_id", c.OrganizationID))
	}
	return slog.GroupValue(attrs...)
}

type callerKey struct{}

// WithCaller returns a copy of ctx that carries c. Authenticate calls it;
// a host that authenticates some requests its own way (a session cookie,
// say) calls it too, so that Guard.Check answers for that caller.
func WithCaller(ctx context.Context, c Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

// CallerFrom returns the caller that ctx carries, if any. A decision hook
// (iam.WithDecisionHook) receives the request's context from Guard.Check,
// so it can read the caller, and anything else the host put there, with
// it.
func CallerFrom(ctx context.Context) (Caller, bool) {
	c, ok := ctx.Value(callerKey{}).(Caller)
	return c, ok
}
