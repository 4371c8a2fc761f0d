// Package conditions is iamkit's engine for rule conditions: CEL
// expressions (https://cel.dev), compiled by github.com/google/cel-go, that
// a rule must satisfy to grant anything (rule 7 of docs/semantics.md). The
// root package imports only the standard library and has no engine of its
// own; a store switches conditions on with one option:
//
//	store := iam.NewMemoryStore(iam.WithConditions(conditions.New()))
//
// The store compiles each condition once, when a rule is written (an
// expression that does not compile makes the write invalid), and the
// Evaluator evaluates the compiled condition against each request that the
// rule would grant.
//
// # Variables
//
//	request.ip          string     the caller's IP address: "203.0.113.7",
//	                               "2001:db8::1"; "" when the request has none
//	request.time        timestamp  when the request is made: Request.Time, or
//	                               the engine's clock when that is zero
//	request.user_agent  string     the caller's user agent, cut to 255 bytes
//	resource            map(string, string)
//	                               the resource acted on, with the keys id,
//	                               name and locality
//
// The request's variables are always present. request.ip shows an
// IPv4-mapped IPv6 address as IPv4 and drops an IPv6 zone. request.time is
// read once per evaluation, however often the expression names it; its
// accessors work in UTC unless given a time zone, an IANA name
// (getHours("Europe/Paris"), which follows daylight saving time) or a fixed
// offset (getHours("+01:00")). Time zones come from the system's database;
// a program built for a system without one imports time/tzdata.
// request.user_agent is cut at a UTF-8 character boundary, and invalid
// UTF-8 in it becomes U+FFFD.
//
// resource is a map rather than an object so that it holds only what the
// request says: a key is present when the request's Resource sets that
// field (non-empty), and on a list request, whose Resource is nil, the map
// is empty, so has(resource.id) is false. Reading a key that is absent is
// an error at run time, which grants nothing: guard reads with has(), as
// in has(resource.name) && resource.name.startsWith("prod-"). A key other
// than id, name and locality (resource.zone) is rejected at Compile, as is
// any undeclared variable (request.agent).
//
// # Functions
//
// The CEL standard library: ==, !=, <, &&, ||, !, in, size, contains,
// startsWith, endsWith, matches (RE2), has, all, exists, timestamp,
// duration, and the timestamp accessors getDayOfWeek (0 is Sunday),
// getHours, getMinutes, getFullYear, getMonth (0 is January), getDate
// (from 1), getDayOfMonth (from 0) and the others. And one more:
//
//	inIpRange(ip string, subnet string) bool
//
// reports whether ip is in subnet, written in CIDR notation, IPv4
// ("192.168.0.0/16") or IPv6 ("2001:db8::/32"). An IPv4 address is never in
// an IPv6 subnet nor the reverse, except that an IPv4-mapped IPv6 address
// is matched as IPv4. An invalid ip or subnet is an error at run time (so
// inIpRange(request.ip, ...) on a request without an IP grants nothing,
// negated or not), and at Compile when it is a literal.
//
// # Examples
//
// These are conditions from Scaleway's IAM documentation:
//
//	request.time.getDayOfWeek("Europe/Paris") >= 1 && request.time.getDayOfWeek("Europe/Paris") <= 5 &&
//	  request.time.getHours("Europe/Paris") >= 9 && request.time.getHours("Europe/Paris") < 18
//	request.user_agent.contains("terraform/")
//	request.ip == "203.0.113.7"
//	inIpRange(request.ip, "192.168.0.0/16")
//	has(resource.id) && resource.name.startsWith("prod-")
//
// # Errors and cost
//
// Compile's errors start with "iam: condition: " and give the place of
// each problem as line:column ("iam: condition: 1:14: Syntax error: ...");
// they match iam.ErrInvalid. An expression must be of type bool. At run
// time an error (a missing resource key, an invalid subnet, an unknown time
// zone) makes Eval return false and the error: the rule grants nothing.
//
// Every condition's cost is bounded, against pathological expressions: see
// DefaultCostLimit and WithCostLimit. Compile rejects an expression whose
// worst case is over the limit, and an evaluation that goes over it stops
// with an error. The inputs are bounded too: an expression has at most
// iam.MaxConditionLength characters, and a resource field at most
// iam.MaxRequestField bytes (Eval refuses a longer one, and the Evaluator
// a request holding one), so that no regular expression runs over a long
// string.
package conditions
