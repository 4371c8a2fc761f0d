package iamtest

import (
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/iamkit/iam/iamhttp"
)

// NewRequest returns a request for a handler under test, as
// httptest.NewRequest does, carrying secret in the X-Auth-Token header
// (none when secret is empty) and body as its JSON body (none when body is
// empty).
//
//	rec := httptest.NewRecorder()
//	handler.ServeHTTP(rec, iamtest.NewRequest("POST", "/servers", key.Secret, `{"project_id": "A", "name": "web"}`))
func NewRequest(method, target, secret, body string) *http.Request {
	var r *http.Request
	if body == "" {
		r = httptest.NewRequest(method, target, nil)
	} else {
		r = httptest.NewRequest(method, target, strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
	}
	if secret != "" {
		r.Header.Set(iamhttp.TokenHeader, secret)
	}
	return r
}
