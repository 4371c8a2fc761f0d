// Package iamhttp guards a net/http service with iam, the way Scaleway's
// APIs do: the X-Auth-Token header carries an API key's secret, the
// caller's rights are checked per request, and refusals come back as JSON
// errors in Scaleway's shape ({"type": ..., "message": ...}).
//
//	guard := iamhttp.New(ev, iamhttp.WithLogger(slog.Default()))
//	mux.HandleFunc("POST /servers", func(w http.ResponseWriter, r *http.Request) {
//		// ... decode the body into s ...
//		if !guard.Check(w, r, iam.Request{ProjectID: s.ProjectID, Permission: "instance:server:create"}) {
//			return // the response is written
//		}
//		// ... create the server ...
//	})
//	http.ListenAndServe(addr, guard.Authenticate(mux))
//
// Status codes: 401 for a missing, unknown or expired API key; 403 when
// the caller may not do this (or is a locked user); 404 for a resource
// that does not exist and for one of another organization alike, with the
// same body, so that a caller never learns what other organizations hold;
// 400 for a malformed request; 409 for a conflict; 500 otherwise. The
// explanation of a refusal (which policy is missing, which organization
// the target is in) goes to the host's log, never to the client.
//
// The package uses the standard library only.
package iamhttp

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"unicode/utf8"

	"github.com/iamkit/iam"
)

// TokenHeader is the header that carries an API key's secret, alone, as
// in Scaleway's APIs.
const TokenHeader = "X-Auth-Token"

// MaxTokenLength is the longest X-Auth-Token value looked at, in bytes; a
// longer one is refused as malformed before any work. Secrets the store
// generates are 36 characters long.
const MaxTokenLength = 1024

// maxMessage bounds the message of a 400 response, in bytes: an error may
// quote the offending input, which a client can make large.
const maxMessage = 512

// Guard authenticates requests and answers permission checks for
// handlers, writing the error response when the answer is no. It is safe
// for concurrent use; its zero value is not usable: call New.
type Guard struct {
	ev       *iam.Evaluator
	logger   *slog.Logger
	clientIP func(*http.Request) netip.Addr
}

// Option configures a Guard.
type Option func(*Guard)

// WithLogger logs every refusal to l: at level Info the status, the error
// type, the HTTP method and path, the caller, and the explanation of a
// denial or the error behind the response (what the client is not told);
// at level Error the errors answered with 500. Explanations are computed
// only when l is enabled for the level. Without a logger, nothing is
// logged.
func WithLogger(l *slog.Logger) Option {
	return func(g *Guard) { g.logger = l }
}

// WithClientIP sets how a request's client IP address is found, for the
// request.ip of rule conditions. The default reads r.RemoteAddr; behind a
// proxy, read the header the proxy sets (and only when the proxy is the
// one setting it). A nil fn keeps the default.
func WithClientIP(fn func(r *http.Request) netip.Addr) Option {
	return func(g *Guard) {
		if fn != nil {
			g.clientIP = fn
		}
	}
}

// New returns a Guard answering from ev.
func New(ev *iam.Evaluator, opts ...Option) *Guard {
	g := &Guard{ev: ev, clientIP: remoteIP}
	for _, opt := range opts {
		opt(g)
	}
	return g
}

func remoteIP(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

// Authenticate returns middleware that authenticates every request by the
// API key secret in its X-Auth-Token header (Evaluator.AuthenticateSecret)
// and calls next with the Caller in the request's context (CallerFrom).
// A request without exactly one such header, with an empty or overlong
// one, with a secret no key has, or with an expired key is answered 401;
// one whose key belongs to a locked user, 403. next is not called then.
func (g *Guard) Authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tokens := r.Header.Values(TokenHeader)
		if len(tokens) != 1 || tokens[0] == "" || len(tokens[0]) > MaxTokenLength {
			g.refuse(w, r, http.StatusUnauthorized, bodyNoToken, "no single X-Auth-Token header of 1 to 1024 bytes")
			return
		}
		cred, err := g.ev.AuthenticateSecret(r.Context(), tokens[0])
		if err != nil {
			g.Error(w, r, err)
			return
		}
		c := Caller{Principal: cred.Bearer, AccessKey: cred.AccessKey, OrganizationID: cred.OrganizationID}
		next.ServeHTTP(w, r.WithContext(WithCaller(r.Context(), c)))
	})
}

// Check asks the Evaluator whether the request's caller may do req, and
// when it may not, writes the error response and returns false; the
// handler then returns without writing anything. req.Principal is the
// caller's (Caller.RequestPrincipal), whatever req says; req.IP and
// req.UserAgent, when unset, come from r. The check runs with r's context,
// so a decision hook sees the caller (CallerFrom).
//
// The responses: no caller in the context, or an API key that expired
// since the request began, 401; not granted, or a locked user, 403; a
// target that does not exist or belongs to another organization, 404 with
// one and the same body; a malformed request (no target, a malformed
// permission), 400. A permission the target's organization does not know,
// or of the other level (an organization-level permission in a project),
// is a programming error in the handler when the target is the caller's
// organization or its default project: 500. At any other project it is
// 404, since catalogues differ between organizations and the guard cannot
// tell the caller's projects from another organization's without
// revealing which exist; the log says, at level Error, when the caller's
// own organization fails alike.
func (g *Guard) Check(w http.ResponseWriter, r *http.Request, req iam.Request) bool {
	c, ok := CallerFrom(r.Context())
	if !ok {
		g.refuse(w, r, http.StatusUnauthorized, bodyNoToken, "no caller in the request's context: is the handler behind Guard.Authenticate?")
		return false
	}
	req.Principal = c.RequestPrincipal()
	if !req.IP.IsValid() {
		req.IP = g.clientIP(r)
	}
	if req.UserAgent == "" {
		req.UserAgent = r.UserAgent()
	}
	ctx := r.Context()
	dec, err := g.ev.Check(ctx, req)
	if err != nil {
		if (errors.Is(err, iam.ErrUnknownPermission) || errors.Is(err, iam.ErrScopeMismatch)) && !ownTarget(c, req) {
			// The target's organization, maybe another, does not know the
			// permission: answered as a target that does not exist, since
			// catalogues differ between organizations. When the caller's
			// own organization fails alike, the handler has a bug: say so
			// in the log.
			level := slog.LevelInfo
			if g.logger != nil && g.failsAtHome(ctx, c, req) {
				level = slog.LevelError
			}
			g.refuseAt(w, r, level, http.StatusNotFound, bodyNotFound, err.Error())
			return false
		}
		g.Error(w, r, err)
		return false
	}
	if dec.Allowed {
		return true
	}
	status, body := http.StatusForbidden, bodyDenied
	switch dec.Reason {
	case iam.ReasonOtherOrganization:
		status, body = http.StatusNotFound, bodyNotFound
	case iam.ReasonExpired:
		status, body = http.StatusUnauthorized, bodyExpiredKey
	}
	g.refuseExplained(w, r, status, body, req)
	return false
}

// ownTarget reports whether req's target is, for sure, in the caller's
// organization: the organization itself or its default project (which has
// the organization's ID). Of other projects the guard cannot tell without
// revealing which exist elsewhere.
func ownTarget(c Caller, req iam.Request) bool {
	return c.OrganizationID != "" && (req.OrganizationID == c.OrganizationID || req.ProjectID == c.OrganizationID)
}

// failsAtHome reports whether req, asked in the caller's own organization
// (at its default project, for a project-level request), fails with an
// unknown permission or a scope mismatch as well.
func (g *Guard) failsAtHome(ctx context.Context, c Caller, req iam.Request) bool {
	if c.OrganizationID == "" {
		return false
	}
	if req.ProjectID != "" {
		req.ProjectID = c.OrganizationID
	} else {
		req.OrganizationID = c.OrganizationID
	}
	_, err := g.ev.Check(ctx, req)
	return errors.Is(err, iam.ErrUnknownPermission) || errors.Is(err, iam.ErrScopeMismatch)
}

// WhereCan lists the projects of the caller's organization where it may
// use permission (Evaluator.WhereCan), to filter a list of resources. When
// it cannot answer it writes the error response and returns false: 401
// without a caller or when the caller no longer exists, 400 for a
// malformed permission, 500 for one the organization does not know or at
// the organization's level.
func (g *Guard) WhereCan(w http.ResponseWriter, r *http.Request, permission string) ([]string, bool) {
	c, ok := CallerFrom(r.Context())
	if !ok {
		g.refuse(w, r, http.StatusUnauthorized, bodyNoToken, "no caller in the request's context: is the handler behind Guard.Authenticate?")
		return nil, false
	}
	projects, err := g.ev.WhereCan(r.Context(), iam.Request{
		Principal:  c.RequestPrincipal(),
		Permission: permission,
		IP:         g.clientIP(r),
		UserAgent:  r.UserAgent(),
	})
	switch {
	case err == nil:
		return projects, true
	case errors.Is(err, iam.ErrNotFound) && !errors.Is(err, iam.ErrInvalid):
		// There is no target: the caller itself is what is missing.
		g.refuse(w, r, http.StatusUnauthorized, bodyUnknownKey, err.Error())
	default:
		g.Error(w, r, err)
	}
	return nil, false
}

// Error writes the response for an error of the library (the store's, the
// Evaluator's) or of the handler, by what it wraps: ErrInvalid 400, with
// the error's text as the message (so wrap only text fit for the client);
// ErrNotFound 404, with the one body that another organization's
// resources get too; ErrUnauthenticated 401; ErrExpired 401; ErrForbidden
// 403; ErrConflict 409; anything else 500. Apart from 400, the message is
// fixed: the error's text goes to the log only.
//
// A handler that looks a resource up itself answers a miss, and a
// resource of another organization, with Error(w, r, err) where err wraps
// iam.ErrNotFound, for the same response as Check's.
func (g *Guard) Error(w http.ResponseWriter, r *http.Request, err error) {
	var status int
	var body ErrorBody
	switch {
	case err == nil:
		status, body = http.StatusInternalServerError, bodyInternal
		err = errors.New("iamhttp: Guard.Error called with a nil error")
	case errors.Is(err, iam.ErrInvalid):
		status, body = http.StatusBadRequest, ErrorBody{Type: TypeInvalidArguments, Message: clientMessage(err)}
		if body.Message == "" {
			body = bodyInvalidEmpty
		}
	case errors.Is(err, iam.ErrNotFound):
		status, body = http.StatusNotFound, bodyNotFound
	case errors.Is(err, iam.ErrUnauthenticated):
		status, body = http.StatusUnauthorized, bodyUnknownKey
	case errors.Is(err, iam.ErrExpired):
		status, body = http.StatusUnauthorized, bodyExpiredKey
	case errors.Is(err, iam.ErrForbidden):
		status, body = http.StatusForbidden, bodyDenied
	case errors.Is(err, iam.ErrConflict):
		status, body = http.StatusConflict, bodyConflict
	default:
		status, body = http.StatusInternalServerError, bodyInternal
	}
	g.refuse(w, r, status, body, err.Error())
}

// clientMessage is the text of an invalid-input error as the client sees
// it: without the "iam: " prefix, at most maxMessage bytes.
func clientMessage(err error) string {
	m := strings.TrimPrefix(err.Error(), "iam: ")
	if len(m) > maxMessage {
		cut := maxMessage
		for cut > 0 && !utf8.RuneStart(m[cut]) {
			cut--
		}
		m = m[:cut] + "…"
	}
	return m
}

// refuse writes the response and logs why: at level Error for a 500, else
// at level Info.
func (g *Guard) refuse(w http.ResponseWriter, r *http.Request, status int, body ErrorBody, why string) {
	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelError
	}
	g.refuseAt(w, r, level, status, body, why)
}

func (g *Guard) refuseAt(w http.ResponseWriter, r *http.Request, level slog.Level, status int, body ErrorBody, why string) {
	WriteError(w, status, body)
	if g.logger != nil && g.logger.Enabled(r.Context(), level) {
		g.logger.LogAttrs(r.Context(), level, "iamhttp: request refused", g.attrs(r, status, body, slog.String("error", why))...)
	}
}

// refuseExplained writes the response to a denial and logs the
// Evaluator's explanation of it.
func (g *Guard) refuseExplained(w http.ResponseWriter, r *http.Request, status int, body ErrorBody, req iam.Request) {
	WriteError(w, status, body)
	if g.logger == nil || !g.logger.Enabled(r.Context(), slog.LevelInfo) {
		return
	}
	why := ""
	if x, err := g.ev.Explain(r.Context(), req); err != nil {
		why = "explaining the denial: " + err.Error()
	} else {
		why = x.String()
	}
	g.logger.LogAttrs(r.Context(), slog.LevelInfo, "iamhttp: request refused", g.attrs(r, status, body, slog.String("explanation", why))...)
}

func (g *Guard) attrs(r *http.Request, status int, body ErrorBody, why slog.Attr) []slog.Attr {
	attrs := []slog.Attr{
		slog.Int("status", status),
		slog.String("type", body.Type),
		slog.String("method", r.Method),
		slog.String("path", r.URL.Path),
	}
	if c, ok := CallerFrom(r.Context()); ok {
		attrs = append(attrs, slog.Any("caller", c))
	}
	return append(attrs, why)
}
