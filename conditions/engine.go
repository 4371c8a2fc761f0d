package conditions

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/checker"
	"github.com/google/cel-go/common/ast"
	"github.com/google/cel-go/common/types"

	"github.com/iamkit/iam"
)

// DefaultCostLimit bounds the work of one evaluation, in CEL cost units
// (about one per operation, one per ten characters of string scanned, one
// per loop iteration). A realistic condition costs tens of units: the
// office hours example of the package documentation at most 12. The limit
// acts twice: Compile rejects an expression whose worst-case cost, as CEL
// estimates it, is over the limit (nested loops over long lists, say), and
// an evaluation that goes over it all the same stops with an error, so the
// rule grants nothing. As every string a condition reads is bounded (see
// ResourceFieldSizeEstimate), the estimate is the worst case of the
// requests an Evaluator accepts, and the bound on the input also bounds
// the time of each single operation: a regular expression never runs over
// more than iam.MaxRequestField bytes, tens of microseconds at most.
const DefaultCostLimit = 10_000

// MaxUserAgentLength is the length in bytes to which request.user_agent is
// truncated (at a UTF-8 character boundary).
const MaxUserAgentLength = 255

// Engine compiles rule conditions written in CEL. It implements
// iam.ConditionEngine. An Engine is immutable once New returns, and it and
// the conditions it compiles are safe for concurrent use. The zero value is
// an engine with the defaults, as New() returns.
type Engine struct {
	env       *cel.Env
	now       func() time.Time
	costLimit uint64
}

var _ iam.ConditionEngine = (*Engine)(nil)

// Option configures an Engine.
type Option func(*Engine)

// WithClock sets the clock that gives request.time to a request whose Time
// is zero. The default is time.Now. A nil clock keeps the default.
func WithClock(now func() time.Time) Option {
	return func(e *Engine) {
		if now != nil {
			e.now = now
		}
	}
}

// WithCostLimit sets the most an evaluation may cost, in CEL cost units
// (see DefaultCostLimit). Zero keeps the default.
func WithCostLimit(limit uint64) Option {
	return func(e *Engine) {
		if limit > 0 {
			e.costLimit = limit
		}
	}
}

// sharedEnv is the CEL environment: the declarations never change, so one
// environment, built on first use, serves every Engine.
var sharedEnv = sync.OnceValues(func() (*cel.Env, error) { return cel.NewEnv(envOptions()...) })

// New returns an engine. It panics only if the CEL declarations of this
// package are broken, which its tests rule out.
func New(opts ...Option) *Engine {
	env, err := sharedEnv()
	if err != nil {
		panic("iam: condition: building the CEL environment: " + err.Error())
	}
	e := &Engine{env: env, now: time.Now, costLimit: DefaultCostLimit}
	for _, opt := range opts {
		opt(e)
	}
	return e
}

// Compile parses and type-checks expr, which must be of type bool and have
// at most iam.MaxConditionLength characters (a longer one is refused
// before it is parsed), checks its worst-case cost against the limit, and
// prepares it for evaluation
// (constant parts are computed once, here). Its error names each problem's
// place in expr as line:column (both from 1), after the prefix
// "iam: condition: "; errors.Is(err, iam.ErrInvalid) holds. Besides type
// errors, Compile rejects what would fail at every evaluation: an unknown
// resource field, an invalid literal subnet, IP address, time zone,
// regular expression, timestamp or duration.
func (e *Engine) Compile(expr string) (iam.Condition, error) {
	if e.env == nil { // the zero Engine
		e = New()
	}
	if len(expr) > iam.MaxConditionLength && (len(expr) > utf8.UTFMax*iam.MaxConditionLength || utf8.RuneCountInString(expr) > iam.MaxConditionLength) {
		return nil, &compileError{msg: fmt.Sprintf("the expression has more than %d characters", iam.MaxConditionLength)}
	}
	checked, iss := e.env.Compile(expr)
	if iss != nil && iss.Err() != nil {
		return nil, issuesError(iss)
	}
	if t := checked.OutputType(); !t.IsExactType(types.BoolType) {
		return nil, &compileError{msg: fmt.Sprintf("the expression is of type %s; a condition must be a bool", t)}
	}
	est, err := e.env.EstimateCost(checked, sizeHints{})
	if err != nil {
		return nil, &compileError{msg: "estimating the cost: " + err.Error()}
	}
	if est.Max > e.costLimit {
		return nil, &compileError{msg: fmt.Sprintf("the expression may cost up to %d, over the limit of %d: use fewer or shorter loops", est.Max, e.costLimit)}
	}
	prg, err := e.env.Program(checked, cel.EvalOptions(cel.OptOptimize), cel.CostLimit(e.costLimit))
	if err != nil {
		// Constant folding (OptOptimize) evaluates constant parts now.
		return nil, &compileError{msg: err.Error()}
	}
	return &condition{prg: prg, now: e.now}, nil
}

// compileError is Compile's error. It matches iam.ErrInvalid without
// repeating that error's text.
type compileError struct{ msg string }

func (e *compileError) Error() string        { return "iam: condition: " + e.msg }
func (e *compileError) Is(target error) bool { return target == iam.ErrInvalid }

// issuesError formats CEL's issues as "line:column: message", one after
// the other, without CEL's multi-line source snippets (the caller has the
// expression).
func issuesError(iss *cel.Issues) error {
	var b strings.Builder
	for i, e := range iss.Errors() {
		if i > 0 {
			b.WriteString("; ")
		}
		// CEL's columns count from 0; people count from 1, as CEL's own
		// display does.
		msg := strings.ReplaceAll(e.Message, " (in container '')", "")
		if strings.HasPrefix(msg, "undeclared reference") {
			msg += " (the variables are request.ip, request.time, request.user_agent and resource; the function is inIpRange)"
		}
		fmt.Fprintf(&b, "%d:%d: %s", e.Location.Line(), e.Location.Column()+1, msg)
	}
	if b.Len() == 0 {
		b.WriteString(iss.Err().Error())
	}
	return &compileError{msg: b.String()}
}

// sizeHints bounds the sizes that the cost estimator cannot see in the
// expression: request.ip is at most 45 characters, request.user_agent at
// most MaxUserAgentLength, resource has at most 3 entries, and each
// resource field is at most ResourceFieldSizeEstimate bytes.
type sizeHints struct{}

// ResourceFieldSizeEstimate is the size of a resource field that Compile
// assumes when it bounds a condition's cost: the most a field can hold,
// iam.MaxRequestField bytes. The Evaluator refuses a request with a longer
// field (iam.ErrInvalid), and Eval refuses one too, so that no condition
// ever runs over it.
const ResourceFieldSizeEstimate = iam.MaxRequestField

func (sizeHints) EstimateSize(n checker.AstNode) *checker.SizeEstimate {
	p := n.Path()
	switch {
	case len(p) == 1 && p[0] == varIP:
		return &checker.SizeEstimate{Max: 45}
	case len(p) == 1 && p[0] == varUserAgent:
		return &checker.SizeEstimate{Max: MaxUserAgentLength}
	case len(p) == 1 && p[0] == varResource:
		return &checker.SizeEstimate{Max: uint64(len(resourceKeys))}
	case len(p) == 2 && p[0] == varResource && p[1] == "@keys":
		return &checker.SizeEstimate{Max: 8}
	case len(p) == 2 && p[0] == varResource:
		return &checker.SizeEstimate{Max: ResourceFieldSizeEstimate}
	}
	return nil
}

func (sizeHints) EstimateCallCost(string, string, *checker.AstNode, []checker.AstNode) *checker.CallEstimate {
	return nil
}

// condition is a compiled condition: a CEL program, immutable and safe for
// concurrent use.
type condition struct {
	prg cel.Program
	now func() time.Time
}

// Eval evaluates the condition against req. A nil req is an empty request.
// A resource field longer than iam.MaxRequestField bytes is an error (the
// rule grants nothing) before anything is evaluated.
func (c *condition) Eval(req *iam.Request) (bool, error) {
	if req != nil && req.Resource != nil {
		if err := checkResource(req.Resource); err != nil {
			return false, err
		}
	}
	a := activations.Get().(*activation)
	a.reset(req, c.now)
	out, _, err := c.prg.Eval(a)
	a.release()
	if err != nil {
		return false, fmt.Errorf("iam: condition: %w", err)
	}
	b, ok := out.(types.Bool)
	if !ok {
		return false, errors.New("iam: condition: the result is a " + out.Type().TypeName() + ", not a bool")
	}
	return bool(b), nil
}

// checkResource refuses a resource field over iam.MaxRequestField bytes.
func checkResource(r *iam.Resource) error {
	for _, f := range [...]struct{ name, v string }{{"id", r.ID}, {"name", r.Name}, {"locality", r.Locality}} {
		if len(f.v) > iam.MaxRequestField {
			return fmt.Errorf("iam: condition: resource.%s has %d bytes, over the limit of %d", f.name, len(f.v), iam.MaxRequestField)
		}
	}
	return nil
}

// isIdent reports whether e is the identifier name.
func isIdent(e ast.Expr, name string) bool {
	return e.Kind() == ast.IdentKind && e.AsIdent() == name
}
