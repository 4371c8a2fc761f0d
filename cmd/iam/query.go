package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/iamkit/iam"
)

// requestContext holds the flags of a request's condition context.
type requestContext struct {
	ip, at, userAgent                    string
	resourceID, resourceName, resourceAt string
}

func (c *cli) requestFlags(fs *flag.FlagSet) {
	fs.Var(&c.worlds, "world", "a world or policy `file`, or a directory of them (repeat the flag for several)")
	fs.StringVar(&c.principal, "principal", "", "the caller: user:ID, application:ID, api_key:ACCESS_KEY or group:ID (an email or a name also works)")
	fs.StringVar(&c.project, "project", "", "the target project's `ID` (or its name)")
	fs.StringVar(&c.organization, "organization", "", "the target organization's `ID`, for organization-level permissions and organization-wide requests")
	fs.StringVar(&c.permission, "permission", "", "a permission set name (InstancesFullAccess) or a permission (instance:server:create)")
	fs.StringVar(&c.reqCtx.ip, "ip", "", "the request's IP address, for conditions")
	fs.StringVar(&c.reqCtx.at, "time", "", "the request's time (RFC 3339), for conditions and API key expiry; default now")
	fs.StringVar(&c.reqCtx.userAgent, "user-agent", "", "the request's user agent, for conditions")
	fs.StringVar(&c.reqCtx.resourceID, "resource-id", "", "the resource's ID, for conditions")
	fs.StringVar(&c.reqCtx.resourceName, "resource-name", "", "the resource's name, for conditions")
	fs.StringVar(&c.reqCtx.resourceAt, "resource-locality", "", "the resource's locality, for conditions")
}

// session is a loaded store and an Evaluator over it.
type session struct {
	store *iam.MemoryStore
	ev    *iam.Evaluator
}

func (s *session) close() { s.ev.Close() }

// open loads the files and builds an Evaluator at the request's time.
func open(ctx context.Context, paths []string, at time.Time) (*session, error) {
	store, err := loadPaths(ctx, paths)
	if err != nil {
		return nil, err
	}
	var opts []iam.EvaluatorOption
	if !at.IsZero() {
		opts = append(opts, iam.WithClock(func() time.Time { return at }))
	}
	ev, err := iam.NewEvaluator(ctx, store, opts...)
	if err != nil {
		return nil, err
	}
	return &session{store: store, ev: ev}, nil
}

// request builds the request the flags describe, resolving names. need
// says which parts the command takes.
func (c *cli) request(s *session, need string) (iam.Request, error) {
	var req iam.Request
	for _, part := range []struct {
		name, value string
	}{{"principal", c.principal}, {"permission", c.permission}} {
		switch {
		case strings.Contains(need, part.name) && part.value == "":
			return req, fmt.Errorf("iam: --%s is required", part.name)
		case !strings.Contains(need, part.name) && part.value != "":
			return req, fmt.Errorf("iam: this command takes no --%s", part.name)
		}
	}
	switch hasTarget := c.project != "" || c.organization != ""; {
	case strings.Contains(need, "target") && c.project != "" && c.organization != "":
		return req, errors.New("iam: give --project or --organization, not both")
	case strings.Contains(need, "target") && !hasTarget:
		return req, errors.New("iam: --project or --organization is required")
	case !strings.Contains(need, "target") && hasTarget:
		return req, errors.New("iam: this command takes no --project or --organization: it answers for every project")
	}
	r := resolver{ctx: c.ctx, store: s.store}
	var err error
	if c.principal != "" {
		if req.Principal, err = r.principal(c.principal); err != nil {
			return req, err
		}
	}
	if c.project != "" {
		req.ProjectID = r.project(c.project, req.Principal)
	}
	if c.organization != "" {
		req.OrganizationID = r.organization(c.organization)
	}
	req.Permission = c.permission
	if err := c.reqCtx.fill(&req); err != nil {
		return req, err
	}
	return req, nil
}

// fill sets the request's condition context from the flags.
func (rc requestContext) fill(req *iam.Request) error {
	if rc.ip != "" {
		ip, err := netip.ParseAddr(rc.ip)
		if err != nil {
			return fmt.Errorf("iam: --ip: %w", err)
		}
		req.IP = ip
	}
	if rc.at != "" {
		t, err := time.Parse(time.RFC3339, rc.at)
		if err != nil {
			return fmt.Errorf("iam: --time: not an RFC 3339 time such as 2030-01-01T00:00:00Z: %w", err)
		}
		req.Time = t
	}
	req.UserAgent = rc.userAgent
	if rc.resourceID != "" || rc.resourceName != "" || rc.resourceAt != "" {
		req.Resource = &iam.Resource{ID: rc.resourceID, Name: rc.resourceName, Locality: rc.resourceAt}
	}
	return nil
}

// at returns the time given with --time, or the zero time.
func (c *cli) at() (time.Time, error) {
	var req iam.Request
	err := requestContext{at: c.reqCtx.at}.fill(&req)
	return req.Time, err
}

// openFor loads the --world files for a query command.
func (c *cli) openFor() (*session, error) {
	at, err := c.at()
	if err != nil {
		return nil, err
	}
	return open(c.ctx, c.worlds, at)
}

// resolver turns what a person types (an ID, or a name, an email) into
// IDs.
type resolver struct {
	ctx   context.Context
	store *iam.MemoryStore
}

// principal parses "type:ID". An ID that no principal of that type has is
// looked up as a name (a user's email, an application's or group's name)
// in every organization; when nothing matches, it is kept, and the check
// reports it as not found.
func (r resolver) principal(s string) (iam.Principal, error) {
	typ, id, ok := strings.Cut(s, ":")
	if !ok || id == "" {
		return iam.Principal{}, fmt.Errorf("iam: --principal %q: write it as user:ID, application:ID, api_key:ACCESS_KEY or group:ID", s)
	}
	ctx, st := r.ctx, r.store
	orgs, err := st.ListOrganizations(ctx)
	if err != nil {
		return iam.Principal{}, err
	}
	var matches []string
	switch typ {
	case "user":
		if _, err := st.GetUser(ctx, id); err == nil {
			return iam.UserPrincipal(id), nil
		}
		for _, o := range orgs {
			users, _ := st.ListUsers(ctx, o.ID)
			for _, u := range users {
				if strings.EqualFold(u.Email, id) || u.Username == id {
					matches = append(matches, u.ID)
				}
			}
		}
		return pick(iam.UserPrincipal, id, matches)
	case "application", "app":
		if _, err := st.GetApplication(ctx, id); err == nil {
			return iam.ApplicationPrincipal(id), nil
		}
		for _, o := range orgs {
			apps, _ := st.ListApplications(ctx, o.ID)
			for _, a := range apps {
				if a.Name == id {
					matches = append(matches, a.ID)
				}
			}
		}
		return pick(iam.ApplicationPrincipal, id, matches)
	case "group":
		if _, err := st.GetGroup(ctx, id); err == nil {
			return iam.GroupPrincipal(id), nil
		}
		for _, o := range orgs {
			groups, _ := st.ListGroups(ctx, o.ID)
			for _, g := range groups {
				if g.Name == id {
					matches = append(matches, g.ID)
				}
			}
		}
		return pick(iam.GroupPrincipal, id, matches)
	case "api_key", "api-key":
		return iam.APIKeyPrincipal(id), nil
	}
	return iam.Principal{}, fmt.Errorf("iam: --principal %q: unknown type %q: user, application, api_key or group", s, typ)
}

func pick(mk func(string) iam.Principal, id string, matches []string) (iam.Principal, error) {
	switch len(matches) {
	case 0:
		return mk(id), nil
	case 1:
		return mk(matches[0]), nil
	}
	return iam.Principal{}, fmt.Errorf("iam: %q names %d principals (%s): give an ID", id, len(matches), strings.Join(matches, ", "))
}

// project resolves a project by ID, else by name, in the caller's
// organization first.
func (r resolver) project(s string, caller iam.Principal) string {
	ctx, st := r.ctx, r.store
	if _, err := st.GetProject(ctx, s); err == nil {
		return s
	}
	orgs, err := st.ListOrganizations(ctx)
	if err != nil {
		return s
	}
	home := r.orgOf(caller)
	var found []string
	for _, o := range orgs {
		projects, _ := st.ListProjects(ctx, o.ID)
		for _, p := range projects {
			if p.Name == s {
				if o.ID == home {
					return p.ID
				}
				found = append(found, p.ID)
			}
		}
	}
	if len(found) == 1 {
		return found[0]
	}
	return s
}

// orgOf returns the organization of a principal, or "".
func (r resolver) orgOf(p iam.Principal) string {
	ctx, st := r.ctx, r.store
	switch p.Type {
	case iam.PrincipalUser:
		if u, err := st.GetUser(ctx, p.ID); err == nil {
			return u.OrganizationID
		}
	case iam.PrincipalApplication:
		if a, err := st.GetApplication(ctx, p.ID); err == nil {
			return a.OrganizationID
		}
	case iam.PrincipalGroup:
		if g, err := st.GetGroup(ctx, p.ID); err == nil {
			return g.OrganizationID
		}
	case iam.PrincipalAPIKey:
		if k, err := st.GetAPIKey(ctx, p.ID); err == nil {
			return k.OrganizationID
		}
	}
	return ""
}

// sameOrganization answers a target of another organization than the
// caller's exactly as a target that does not exist, so that an
// explanation never tells one organization about another: a check across
// organizations is denied, and its explanation is "not found".
func (r resolver) sameOrganization(req iam.Request) error {
	home := r.orgOf(req.Principal)
	if home == "" {
		return nil // an unknown caller: the Evaluator says so
	}
	if req.ProjectID != "" {
		if p, err := r.store.GetProject(r.ctx, req.ProjectID); err == nil && p.OrganizationID != home {
			return fmt.Errorf("iam: project %q: %w", req.ProjectID, iam.ErrNotFound)
		}
		return nil
	}
	if req.OrganizationID != home {
		return fmt.Errorf("iam: organization %q: %w", req.OrganizationID, iam.ErrNotFound)
	}
	return nil
}

// organization resolves an organization by ID, else by name.
func (r resolver) organization(s string) string {
	if _, err := r.store.GetOrganization(r.ctx, s); err == nil {
		return s
	}
	orgs, _ := r.store.ListOrganizations(r.ctx)
	var found []string
	for _, o := range orgs {
		if o.Name == s {
			found = append(found, o.ID)
		}
	}
	if len(found) == 1 {
		return found[0]
	}
	return s
}

// verdict is "allow" or "deny".
func verdict(allowed bool) string {
	if allowed {
		return "allow"
	}
	return "deny"
}

func exitFor(allowed bool) int {
	if allowed {
		return exitOK
	}
	return exitFalse
}

func (c *cli) check(args []string) int {
	if len(args) > 0 {
		return c.failf("check takes flags only (got %q)", args[0])
	}
	s, err := c.openFor()
	if err != nil {
		return c.fail(err)
	}
	defer s.close()
	req, err := c.request(s, "principal target permission")
	if err != nil {
		return c.fail(err)
	}
	dec, err := s.ev.Check(c.ctx, req)
	if err != nil {
		return c.fail(err)
	}
	if c.json {
		c.printJSON(map[string]any{"decision": verdict(dec.Allowed), "allowed": dec.Allowed, "reason": dec.Reason.String()})
	} else {
		fmt.Fprintf(c.stdout, "%s\nreason: %s\n", verdict(dec.Allowed), dec.Reason)
	}
	return exitFor(dec.Allowed)
}

func (c *cli) explain(args []string) int {
	if len(args) > 0 {
		return c.failf("explain takes flags only (got %q)", args[0])
	}
	s, err := c.openFor()
	if err != nil {
		return c.fail(err)
	}
	defer s.close()
	req, err := c.request(s, "principal target permission")
	if err != nil {
		return c.fail(err)
	}
	if err := (resolver{ctx: c.ctx, store: s.store}).sameOrganization(req); err != nil {
		return c.fail(err)
	}
	x, err := s.ev.Explain(c.ctx, req)
	if err != nil {
		return c.fail(err)
	}
	if c.json {
		c.printJSON(explanationJSON(x))
	} else {
		fmt.Fprintln(c.stdout, x.String())
	}
	return exitFor(x.Decision.Allowed)
}

// jsonGrant is a Grant in --json output.
type jsonGrant struct {
	Owner         bool   `json:"owner,omitempty"`
	PolicyID      string `json:"policy_id,omitempty"`
	PolicyName    string `json:"policy_name,omitempty"`
	Rule          *int   `json:"rule,omitempty"`
	PermissionSet string `json:"permission_set,omitempty"`
	Via           string `json:"via,omitempty"`
	Principal     string `json:"principal,omitempty"`
	Scope         string `json:"scope,omitempty"`
	Condition     string `json:"condition,omitempty"`
}

func explanationJSON(x iam.Explanation) map[string]any {
	grants := []jsonGrant{}
	for _, g := range x.Grants {
		if g.Owner {
			grants = append(grants, jsonGrant{Owner: true})
			continue
		}
		rule := g.Rule
		grants = append(grants, jsonGrant{PolicyID: g.PolicyID, PolicyName: g.PolicyName, Rule: &rule, PermissionSet: g.PermissionSet,
			Via: g.Via, Principal: g.Principal.String(), Scope: g.Scope.String(), Condition: g.Condition})
	}
	return map[string]any{
		"decision": verdict(x.Decision.Allowed), "allowed": x.Decision.Allowed, "reason": x.Decision.Reason.String(),
		"grants": grants, "denial": x.Denial, "held_in": orEmpty(x.HeldIn), "related": orEmpty(x.Related),
		"explanation": x.String(),
	}
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (c *cli) whoCan(args []string) int {
	if len(args) > 0 {
		return c.failf("who-can takes flags only (got %q)", args[0])
	}
	s, err := c.openFor()
	if err != nil {
		return c.fail(err)
	}
	defer s.close()
	req, err := c.request(s, "target permission")
	if err != nil {
		return c.fail(err)
	}
	ps, err := s.ev.WhoCan(c.ctx, req)
	if err != nil {
		return c.fail(err)
	}
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.String()
	}
	return c.printList("principals", out)
}

func (c *cli) whatCan(args []string) int {
	if len(args) > 0 {
		return c.failf("what-can takes flags only (got %q)", args[0])
	}
	s, err := c.openFor()
	if err != nil {
		return c.fail(err)
	}
	defer s.close()
	req, err := c.request(s, "principal target")
	if err != nil {
		return c.fail(err)
	}
	sets, err := s.ev.WhatCan(c.ctx, req)
	if err != nil {
		return c.fail(err)
	}
	return c.printList("permission_sets", sets)
}

func (c *cli) whereCan(args []string) int {
	if len(args) > 0 {
		return c.failf("where-can takes flags only (got %q)", args[0])
	}
	s, err := c.openFor()
	if err != nil {
		return c.fail(err)
	}
	defer s.close()
	req, err := c.request(s, "principal permission")
	if err != nil {
		return c.fail(err)
	}
	projects, err := s.ev.WhereCan(c.ctx, req)
	if err != nil {
		return c.fail(err)
	}
	return c.printList("projects", projects)
}

// printList prints one item a line, or {"key": [...]}.
func (c *cli) printList(key string, items []string) int {
	if c.json {
		c.printJSON(map[string][]string{key: orEmpty(items)})
		return exitOK
	}
	for _, it := range items {
		fmt.Fprintln(c.stdout, it)
	}
	return exitOK
}
