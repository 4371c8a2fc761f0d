package conditions

import (
	"fmt"
	"net/netip"
	"slices"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/ast"
	"github.com/google/cel-go/common/operators"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
)

// The variables. The request's are declared under their dotted names, so
// that a misspelt one (request.agent) is an undeclared reference at
// Compile. resource is a map(string, string) holding only the fields the
// request's Resource sets, so that has(resource.id) is false on a list
// request; a validator rejects the keys a resource never has.
const (
	varIP        = "request.ip"
	varTime      = "request.time"
	varUserAgent = "request.user_agent"
	varResource  = "resource"
)

// resourceKeys are the keys resource may hold.
var resourceKeys = []string{"id", "name", "locality"}

func envOptions() []cel.EnvOption {
	opts := []cel.EnvOption{
		cel.Variable(varIP, cel.StringType),
		cel.Variable(varTime, cel.TimestampType),
		cel.Variable(varUserAgent, cel.StringType),
		cel.Variable(varResource, cel.MapType(cel.StringType, cel.StringType)),
		cel.Function("inIpRange",
			cel.Overload("inIpRange_string_string", []*cel.Type{cel.StringType, cel.StringType}, cel.BoolType,
				cel.BinaryBinding(inIPRange))),
		cel.ASTValidators(
			cel.ValidateDurationLiterals(),
			cel.ValidateTimestampLiterals(),
			cel.ValidateRegexLiterals(),
			literalValidator{},
		),
	}
	return append(opts, timeZoneOverrides()...)
}

// inIpRange(ip, subnet) reports whether the address ip is in the CIDR
// subnet, IPv4 or IPv6. An IPv4-mapped IPv6 address is taken as IPv4 when
// the subnet is IPv4, and an IPv6 zone is ignored. An invalid ip or subnet
// (the empty request.ip of a request without an IP among them) is an error,
// so the condition grants nothing.
func inIPRange(ipv, subnetv ref.Val) ref.Val {
	ip, ok1 := ipv.(types.String)
	subnet, ok2 := subnetv.(types.String)
	if !ok1 || !ok2 {
		return types.NewErr("inIpRange: want (string, string)")
	}
	addr, err := netip.ParseAddr(string(ip))
	if err != nil {
		return types.NewErr("inIpRange: invalid IP address %q", string(ip))
	}
	prefix, err := netip.ParsePrefix(string(subnet))
	if err != nil {
		return types.NewErr("inIpRange: invalid subnet %q: want CIDR notation such as 192.168.0.0/16 or 2001:db8::/32", string(subnet))
	}
	addr = addr.WithZone("")
	if prefix.Addr().Is4() {
		addr = addr.Unmap()
	}
	return types.Bool(prefix.Contains(addr))
}

// literalValidator rejects at Compile what would fail at every evaluation:
// a resource key other than id, name and locality, an invalid literal
// subnet or IP given to inIpRange, and an unknown literal time zone.
type literalValidator struct{}

func (literalValidator) Name() string { return "iam.conditions.literals" }

func (literalValidator) Validate(_ *cel.Env, _ cel.ValidatorConfig, a *ast.AST, iss *cel.Issues) {
	root := ast.NavigateAST(a)
	for _, e := range ast.MatchDescendants(root, ast.KindMatcher(ast.SelectKind)) {
		sel := e.AsSelect()
		if isIdent(sel.Operand(), varResource) && !slices.Contains(resourceKeys, sel.FieldName()) {
			iss.ReportErrorAtID(e.ID(), "unknown resource field %q: a resource has id, name and locality", sel.FieldName())
		}
	}
	for _, e := range ast.MatchDescendants(root, ast.FunctionMatcher(operators.Index)) {
		args := e.AsCall().Args()
		if len(args) == 2 && isIdent(args[0], varResource) {
			if key, ok := stringLiteral(args[1]); ok && !slices.Contains(resourceKeys, key) {
				iss.ReportErrorAtID(args[1].ID(), "unknown resource field %q: a resource has id, name and locality", key)
			}
		}
	}
	for _, e := range ast.MatchDescendants(root, ast.FunctionMatcher("inIpRange")) {
		args := e.AsCall().Args()
		if len(args) != 2 {
			continue
		}
		if s, ok := stringLiteral(args[0]); ok {
			if _, err := netip.ParseAddr(s); err != nil {
				iss.ReportErrorAtID(args[0].ID(), "inIpRange: invalid IP address %q", s)
			}
		}
		if s, ok := stringLiteral(args[1]); ok {
			if _, err := netip.ParsePrefix(s); err != nil {
				iss.ReportErrorAtID(args[1].ID(), "inIpRange: invalid subnet %q: want CIDR notation such as 192.168.0.0/16 or 2001:db8::/32", s)
			}
		}
	}
	for _, acc := range timestampAccessors {
		for _, e := range ast.MatchDescendants(root, ast.FunctionMatcher(acc.function)) {
			call := e.AsCall()
			if !call.IsMemberFunction() || len(call.Args()) != 1 || !a.GetType(call.Target().ID()).IsExactType(types.TimestampType) {
				continue
			}
			if tz, ok := stringLiteral(call.Args()[0]); ok {
				if _, err := timeZone(tz); err != nil {
					iss.ReportErrorAtID(call.Args()[0].ID(), "%s", fmt.Sprint(err))
				}
			}
		}
	}
}

func stringLiteral(e ast.Expr) (string, bool) {
	if e.Kind() != ast.LiteralKind {
		return "", false
	}
	s, ok := e.AsLiteral().(types.String)
	return string(s), ok
}
