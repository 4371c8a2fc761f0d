package iamhttp

import (
	"encoding/json"
	"net/http"
)

// The error types of the JSON error body, as Scaleway's APIs name them.
const (
	// TypeDeniedAuthentication (401): no API key secret, an unknown one, or
	// an expired key. Reason says which.
	TypeDeniedAuthentication = "denied_authentication"
	// TypePermissionsDenied (403): the caller may not do this here, or is
	// a locked user.
	TypePermissionsDenied = "permissions_denied"
	// TypeNotFound (404): the resource does not exist, or belongs to
	// another organization; the two are answered alike.
	TypeNotFound = "not_found"
	// TypeInvalidArguments (400): a malformed request.
	TypeInvalidArguments = "invalid_arguments"
	// TypeAlreadyExists (409): the resource collides with one that exists.
	TypeAlreadyExists = "already_exists"
	// TypeInternalError (500): anything else; the host's log has the cause.
	TypeInternalError = "internal_error"
)

// ErrorBody is the JSON body of an error response, in the shape Scaleway's
// APIs use: {"type": "not_found", "message": "resource is not found"}.
// Method and Reason are set for TypeDeniedAuthentication only: the method
// is "api_key", the reason "invalid_argument" (no token, or a malformed
// one), "not_found" (no key has that secret) or "expired".
type ErrorBody struct {
	Type    string `json:"type"`
	Message string `json:"message"`
	Method  string `json:"method,omitempty"`
	Reason  string `json:"reason,omitempty"`
}

// WriteError writes an error response: status and body as JSON. Handlers
// use it for the errors that are theirs to tell (a precondition of their
// own, say); Guard.Error picks the status and body for the library's
// errors.
func WriteError(w http.ResponseWriter, status int, body ErrorBody) {
	b, err := json.Marshal(body)
	if err != nil {
		// Four strings always marshal; keep a valid body regardless.
		b = []byte(`{"type":"internal_error","message":"internal error"}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// The fixed responses. Only 400's message ever comes from an error's text.
var (
	bodyNoToken      = ErrorBody{Type: TypeDeniedAuthentication, Message: "denied authentication: invalid api_key format or empty value", Method: "api_key", Reason: "invalid_argument"}
	bodyUnknownKey   = ErrorBody{Type: TypeDeniedAuthentication, Message: "denied authentication: api_key does not exist", Method: "api_key", Reason: "not_found"}
	bodyExpiredKey   = ErrorBody{Type: TypeDeniedAuthentication, Message: "denied authentication: api_key is expired", Method: "api_key", Reason: "expired"}
	bodyDenied       = ErrorBody{Type: TypePermissionsDenied, Message: "insufficient permissions"}
	bodyNotFound     = ErrorBody{Type: TypeNotFound, Message: "resource is not found"}
	bodyConflict     = ErrorBody{Type: TypeAlreadyExists, Message: "resource already exists"}
	bodyInternal     = ErrorBody{Type: TypeInternalError, Message: "internal error"}
	bodyInvalidEmpty = ErrorBody{Type: TypeInvalidArguments, Message: "invalid argument(s)"}
)
