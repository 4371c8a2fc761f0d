package main

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/iamkit/iam"
	"github.com/iamkit/iam/iamhttp"
)

// server is the resource this service keeps: a server in a project.
type server struct {
	ID        string `json:"id"`
	ProjectID string `json:"project_id"`
	Name      string `json:"name"`
}

// service serves projects (kept in the IAM store, since iam owns them)
// and servers (kept here, in memory). It is safe for concurrent use.
type service struct {
	store iam.Store
	guard *iamhttp.Guard

	mu      sync.Mutex
	servers map[string]server
	next    int
}

// maxBody bounds a request body, in bytes.
const maxBody = 64 << 10

// newService returns the service's handler: every route behind the
// guard's authentication.
//
//	GET    /projects         project:project:list at the caller's organization
//	POST   /projects         project:project:create there
//	DELETE /projects/{id}    project:project:delete at the project's organization
//	GET    /servers          instance:server:list: in ?project_id, or wherever the caller may
//	POST   /servers          instance:server:create in the body's project_id
//	DELETE /servers/{id}     instance:server:delete in the server's project
func newService(store iam.Store, ev *iam.Evaluator, logger *slog.Logger) http.Handler {
	s := &service{
		store:   store,
		guard:   iamhttp.New(ev, iamhttp.WithLogger(logger)),
		servers: map[string]server{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /projects", s.listProjects)
	mux.HandleFunc("POST /projects", s.createProject)
	mux.HandleFunc("DELETE /projects/{id}", s.deleteProject)
	mux.HandleFunc("GET /servers", s.listServers)
	mux.HandleFunc("POST /servers", s.createServer)
	mux.HandleFunc("DELETE /servers/{id}", s.deleteServer)
	return s.guard.Authenticate(mux)
}

// caller returns the authenticated caller; Authenticate put it there.
func caller(r *http.Request) iamhttp.Caller {
	c, _ := iamhttp.CallerFrom(r.Context())
	return c
}

func (s *service) listProjects(w http.ResponseWriter, r *http.Request) {
	org := caller(r).OrganizationID
	if !s.guard.Check(w, r, iam.Request{OrganizationID: org, Permission: "project:project:list"}) {
		return
	}
	projects, err := s.store.ListProjects(r.Context(), org)
	if err != nil {
		s.guard.Error(w, r, err)
		return
	}
	type project struct {
		ID          string `json:"id"`
		Name        string `json:"name"`
		Description string `json:"description,omitempty"`
	}
	out := make([]project, len(projects))
	for i, p := range projects {
		out[i] = project{ID: p.ID, Name: p.Name, Description: p.Description}
	}
	writeJSON(w, http.StatusOK, map[string]any{"projects": out, "total_count": len(out)})
}

func (s *service) createProject(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name        string `json:"name"`
		Description string `json:"description"`
	}
	if !decode(w, r, &in) {
		return
	}
	org := caller(r).OrganizationID
	if !s.guard.Check(w, r, iam.Request{OrganizationID: org, Permission: "project:project:create"}) {
		return
	}
	// The store validates the name and description: an invalid one is
	// ErrInvalid, which Error answers with 400 and the reason.
	p, err := s.store.CreateProject(r.Context(), iam.Project{OrganizationID: org, Name: in.Name, Description: in.Description})
	if err != nil {
		s.guard.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]string{"id": p.ID, "name": p.Name, "description": p.Description})
}

func (s *service) deleteProject(w http.ResponseWriter, r *http.Request) {
	p, err := s.store.GetProject(r.Context(), r.PathValue("id"))
	if err != nil {
		s.guard.Error(w, r, err) // 404
		return
	}
	// The check names the project's own organization: another
	// organization's project is then a 404, exactly like a missing one.
	if !s.guard.Check(w, r, iam.Request{OrganizationID: p.OrganizationID, Permission: "project:project:delete"}) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, srv := range s.servers {
		if srv.ProjectID == p.ID {
			iamhttp.WriteError(w, http.StatusPreconditionFailed, iamhttp.ErrorBody{Type: "precondition_failed", Message: "the project still holds servers: delete them first"})
			return
		}
	}
	if err := s.store.DeleteProject(r.Context(), p.ID); err != nil {
		s.guard.Error(w, r, err) // the default project: 403
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *service) listServers(w http.ResponseWriter, r *http.Request) {
	var in []string // the projects to list
	if p := r.URL.Query().Get("project_id"); p != "" {
		if !s.guard.Check(w, r, iam.Request{ProjectID: p, Permission: "instance:server:list"}) {
			return
		}
		in = []string{p}
	} else {
		var ok bool
		if in, ok = s.guard.WhereCan(w, r, "instance:server:list"); !ok {
			return
		}
	}
	s.mu.Lock()
	out := []server{}
	for _, srv := range s.servers {
		if slices.Contains(in, srv.ProjectID) {
			out = append(out, srv)
		}
	}
	s.mu.Unlock()
	slices.SortFunc(out, func(a, b server) int { return compareIDs(a.ID, b.ID) })
	writeJSON(w, http.StatusOK, map[string]any{"servers": out, "total_count": len(out)})
}

func (s *service) createServer(w http.ResponseWriter, r *http.Request) {
	var in struct {
		ProjectID string `json:"project_id"`
		Name      string `json:"name"`
	}
	if !decode(w, r, &in) {
		return
	}
	if in.ProjectID == "" || in.Name == "" || utf8.RuneCountInString(in.Name) > 255 {
		iamhttp.WriteError(w, http.StatusBadRequest, iamhttp.ErrorBody{Type: iamhttp.TypeInvalidArguments, Message: "project_id and name (1 to 255 characters) are required"})
		return
	}
	if !s.guard.Check(w, r, iam.Request{ProjectID: in.ProjectID, Permission: "instance:server:create", Resource: &iam.Resource{Name: in.Name}}) {
		return
	}
	s.mu.Lock()
	s.next++
	srv := server{ID: "srv-" + strconv.Itoa(s.next), ProjectID: in.ProjectID, Name: in.Name}
	s.servers[srv.ID] = srv
	s.mu.Unlock()
	writeJSON(w, http.StatusCreated, srv)
}

func (s *service) deleteServer(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.mu.Lock()
	srv, ok := s.servers[id]
	s.mu.Unlock()
	if !ok {
		// The same 404 as for a server in another organization's project.
		s.guard.Error(w, r, fmt.Errorf("server %q: %w", id, iam.ErrNotFound))
		return
	}
	if !s.guard.Check(w, r, iam.Request{ProjectID: srv.ProjectID, Permission: "instance:server:delete", Resource: &iam.Resource{ID: srv.ID, Name: srv.Name}}) {
		return
	}
	s.mu.Lock()
	delete(s.servers, id)
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// decode reads a JSON object of at most maxBody bytes into v, or answers
// 400 and returns false.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil && dec.More() {
		err = errors.New("one JSON object expected")
	}
	if err != nil {
		iamhttp.WriteError(w, http.StatusBadRequest, iamhttp.ErrorBody{Type: iamhttp.TypeInvalidArguments, Message: "invalid JSON body: " + err.Error()})
		return false
	}
	return true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// compareIDs orders "srv-2" before "srv-10".
func compareIDs(a, b string) int {
	return cmp.Or(cmp.Compare(len(a), len(b)), strings.Compare(a, b))
}
