package bench

import (
	"context"
	_ "embed"
	"fmt"
	"slices"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/open-policy-agent/opa/v1/storage/inmem"

	"github.com/iamkit/iam"
)

//go:embed iam.rego
var iamRego string

// opaPeer translates a world into OPA data, and evaluates iam.rego over it
// with a prepared query (rego.PrepareForEval) and inputs parsed ahead of
// time (rego.EvalParsedInput). The data, under data.iam, is the world
// keyed the way the policy looks it up, as OPA's RBAC examples key theirs:
//
//   - principals: users, applications and groups by ID (type, org, owner,
//     locked, managed, explicit groups);
//   - keys: API keys by access key (bearer, expires);
//   - projects: each project's organization;
//   - orgs: per organization, the special groups' IDs (membership is
//     resolved in Rego, not expanded), the catalogue (Scaleway's sets and
//     the organization's own: each set's scope type, and the patterns keyed
//     by their service segment, "*" apart, each with its set, so that a
//     triple is matched against its service's patterns only) and the
//     include graph (closures are computed by graph.reachable at check
//     time, not flattened: precomputing them into the data measured no
//     faster);
//   - grants: the rules of the policies naming each holder (user,
//     application or group), folded by target: the sets granted on the
//     organization, organization-scoped ("org") and project-scoped ("all":
//     every current and future project), and the sets granted in each
//     listed project ("projects"). Sets stay as the rules name them.
//
// Patterns match with glob.match and ":" as the delimiter, so that "*" is
// one whole segment.
type opaPeer struct {
	m      *model
	pq     rego.PreparedEvalQuery
	store  storage.Store
	inputs []ast.Value
	now    int64
}

func newOPAPeer(ctx context.Context, m *model) (*opaPeer, error) {
	principals := map[string]any{}
	for _, p := range m.principals {
		groups := make([]any, len(p.groups))
		for i, g := range p.groups {
			groups[i] = g
		}
		principals[p.id] = map[string]any{
			"type":    p.typ.String(),
			"org":     p.org,
			"owner":   p.owner,
			"locked":  p.locked,
			"managed": p.managed,
			"groups":  groups,
		}
	}
	keys := map[string]any{}
	for _, k := range m.w.APIKeys {
		var exp int64
		if !k.ExpiresAt.IsZero() {
			exp = k.ExpiresAt.Unix()
		}
		keys[k.AccessKey] = map[string]any{"bearer": k.Bearer.ID, "expires": exp}
	}
	projects := map[string]any{}
	for pid, org := range m.projectOrg {
		projects[pid] = org
	}
	orgs := map[string]any{}
	grants := map[string]any{}
	for _, om := range m.orgList {
		sets, includes, patterns := map[string]any{}, map[string]any{}, map[string][]any{}
		for _, name := range om.setOrder {
			s := om.sets[name]
			sets[name] = map[string]any{"scope": string(s.ScopeType)}
			includes[name] = strs(s.Includes)
			for _, pat := range s.Permissions {
				service, _, _ := strings.Cut(pat, ":")
				patterns[service] = append(patterns[service], map[string]any{"set": name, "pattern": pat})
			}
		}
		byService := map[string]any{}
		for service, list := range patterns {
			byService[service] = list
		}
		orgs[om.id] = map[string]any{
			"all_users": strs(om.allUsers),
			"all_apps":  strs(om.allApps),
			"sets":      sets,
			"includes":  includes,
			"patterns":  byService,
		}
		for h, rs := range om.rules {
			g := map[string][]string{}
			byProject := map[string][]string{}
			for _, r := range rs {
				for _, name := range r.PermissionSets {
					switch {
					case r.Scope.OrganizationID != "" && om.sets[name].ScopeType == iam.ScopeOrganization:
						g["org"] = appendNew(g["org"], name)
					case r.Scope.OrganizationID != "":
						g["all"] = appendNew(g["all"], name)
					default:
						for _, pid := range r.Scope.ProjectIDs {
							byProject[pid] = appendNew(byProject[pid], name)
						}
					}
				}
			}
			projects := map[string]any{}
			for pid, names := range byProject {
				projects[pid] = strs(names)
			}
			grants[h] = map[string]any{"org": strs(g["org"]), "all": strs(g["all"]), "projects": projects}
		}
	}
	data, err := ast.InterfaceToValue(map[string]any{"iam": map[string]any{
		"principals": principals,
		"keys":       keys,
		"projects":   projects,
		"orgs":       orgs,
		"grants":     grants,
	}})
	if err != nil {
		return nil, fmt.Errorf("bench: opa data: %w", err)
	}
	obj, ok := data.(ast.Object)
	if !ok {
		return nil, fmt.Errorf("bench: opa data is a %T", data)
	}
	store := inmem.NewFromASTObject(obj)
	pq, err := rego.New(
		rego.Query("data.iam.allow"),
		rego.Module("iam.rego", iamRego),
		rego.Store(store),
	).PrepareForEval(ctx)
	if err != nil {
		return nil, fmt.Errorf("bench: opa: %w", err)
	}
	return &opaPeer{m: m, pq: pq, store: store, now: m.now.Unix()}, nil
}

func appendNew(s []string, v string) []string {
	if slices.Contains(s, v) {
		return s
	}
	return append(s, v)
}

func strs(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

var opaTypes = map[iam.PrincipalType]string{
	iam.PrincipalUser:        "user",
	iam.PrincipalApplication: "application",
	iam.PrincipalGroup:       "group",
	iam.PrincipalAPIKey:      "api_key",
}

func (o *opaPeer) prepare(reqs []iam.Request) error {
	o.inputs = make([]ast.Value, len(reqs))
	for i := range reqs {
		r := &reqs[i]
		in := map[string]any{
			"principal":  r.Principal.ID,
			"type":       opaTypes[r.Principal.Type],
			"permission": r.Permission,
			"now":        o.now,
		}
		if r.ProjectID != "" {
			in["project"] = r.ProjectID
		} else {
			in["organization"] = r.OrganizationID
		}
		v, err := ast.InterfaceToValue(in)
		if err != nil {
			return err
		}
		o.inputs[i] = v
	}
	return nil
}

func (o *opaPeer) check(i int) (bool, error) {
	rs, err := o.pq.Eval(context.Background(), rego.EvalParsedInput(o.inputs[i]))
	if err != nil {
		return false, err
	}
	if len(rs) != 1 || len(rs[0].Expressions) != 1 {
		return false, fmt.Errorf("bench: opa: %d results", len(rs))
	}
	allowed, ok := rs[0].Expressions[0].Value.(bool)
	if !ok {
		return false, fmt.Errorf("bench: opa: allow is %v", rs[0].Expressions[0].Value)
	}
	return allowed, nil
}

func (o *opaPeer) describe(i int) string {
	out := fmt.Sprintf("  opa input %v\n", o.inputs[i])
	for _, q := range []string{"target_org", "caller", "denied", "holders", "granted", "held"} {
		rs, err := rego.New(
			rego.Query("data.iam."+q),
			rego.Module("iam.rego", iamRego),
			rego.Store(o.store),
			rego.ParsedInput(o.inputs[i]),
		).Eval(context.Background())
		switch {
		case err != nil:
			out += fmt.Sprintf("    %s: %v\n", q, err)
		case len(rs) == 0:
			out += fmt.Sprintf("    %s: undefined\n", q)
		default:
			out += fmt.Sprintf("    %s: %v\n", q, rs[0].Expressions[0].Value)
		}
	}
	return out
}
