// Package iam gives a host application Scaleway-style Identity and Access
// Management for its own resources, answered in-process in tens to
// hundreds of nanoseconds with no allocation (see BENCHMARKS.md).
//
// # Concepts
//
// An [Organization] is the security boundary: nothing crosses it. It
// holds projects (one of them the default project, whose ID is the
// organization's), users (exactly one of type owner, the others members),
// applications (non-human principals), groups of users and applications,
// API keys (credentials of a user or an application), its own permission
// sets beside the built-in catalogue (by default [ScalewayCatalogue]), and
// policies: the types [Project], [User], [Application], [Group], [APIKey],
// [PermissionSet] and [Policy].
//
// A Policy gives its rules ([Rule]) to one [Principal]: a user, a group or
// an application. A Rule grants permission sets in a [Scope]: some
// projects, or the organization. A rule on the organization grants
// organization-scoped sets (IAM, billing, projects...) for the organization
// itself, and project-scoped sets in all current and future projects. A
// permission is a triple service:resource:action; a permission set bundles
// patterns of triples (a whole segment may be "*") and may include other
// sets.
//
// Every permission has one level, project or organization: the scope type
// of the sets whose patterns match it. The store keeps the two levels
// apart, and a grant only ever answers for permissions of its own level, so
// a project-scoped set granted on the organization never grants IAM,
// billing or the organization itself. A catalogue may declare the concrete
// permissions of a service (Scaleway's catalogue declares all of its own);
// a triple of such a service that is not declared, such as the typo
// instance:servers:create, is [ErrUnknownPermission] rather than allowed by
// instance:*:* (see [PermissionSet]).
//
// The rules, numbered, and the order in which a check reports what is
// wrong with a request are in docs/semantics.md in the repository.
//
// # Deny by default
//
// Rules only allow and policies add up: a caller holds the union of the
// rules of the policies naming it or a group it belongs to (including the
// implicit groups of all users and of all non-managed applications), and
// nothing else. There is no deny rule and order never matters. The owner
// is allowed everything in its organization; a locked user nothing. As in
// Scaleway, whoever may write policies (an IAM manager) can grant itself
// anything.
//
// # Store and Evaluator
//
// A [Store] holds the model and validates every write before anything
// changes: an invalid write changes nothing, and errors are typed
// ([ErrInvalid] with a [*ValidationError] naming the field, [ErrNotFound],
// [ErrConflict], [ErrUnknownPermission], [ErrScopeMismatch],
// [ErrForbidden]).
// Every string it stores (IDs, names, emails, descriptions, tags,
// categories, conditions) is valid UTF-8 without control characters and
// without the bidirectional overrides and isolates that make text display
// otherwise than it reads; a condition is therefore written on one line.
// [MemoryStore] keeps it in memory; [LoadFile] loads a world or policy
// file in one atomic write. A store of another kind (a database) proves
// that it keeps the same contract with the conformance suite of package
// iamtest (iamtest.TestStore).
//
// An [Evaluator] precomputes, for every principal, which permission sets
// it holds at the organization, in all projects and per project, and
// follows the store's changes incrementally. [Evaluator.Check] answers a
// [Request] with a few lookups and no allocation; [Evaluator.Explain] says
// why; WhoCan (or WhoCanSeq, the same answer as a sequence), WhatCan and
// WhereCan answer the reverse questions; Authenticate checks API keys.
//
// Around the package: admin makes the store's reads and writes on behalf
// of a caller, checked against the caller's rights; iamhttp guards a
// net/http service; iamfile keeps IAM as files in a repository; iamtest
// helps a host's tests; conditions switches CEL rule conditions on.
//
// # Concurrency
//
// [MemoryStore] and [Evaluator] are safe for concurrent use; their zero
// values are not usable (build them with [NewMemoryStore] and
// [NewEvaluator]). Checks read an immutable snapshot and never wait for
// writers. A write to a MemoryStore
// is visible to every Evaluator on it once the write returns. Every query
// (Explain and the reverse queries included) reads that snapshot only, so
// no query, however slow, delays a write.
//
// The change feed never loses a change: a subscriber that panics stops no
// other, and the write, which has landed, returns ErrDelivery; an
// Evaluator that missed a change reads it from the store (Store.Changes)
// before it answers from a newer revision, and one that cannot, or that
// fails to apply a change, answers ErrStale until it has rebuilt its
// index, never from a state that may still hold a revoked grant.
//
// The entities ([Organization], [Project], [User], ...), [Rule], [Scope],
// [Principal], [Request], [Decision] and the results of the queries are
// plain values: the store copies what it is given and what it returns, so
// a value is never shared with it, and a goroutine may read any value that
// no other one writes. Their zero values are empty: the zero Principal is
// no principal, the zero Scope names nothing (a rule must name one), the
// zero Request is malformed ([ErrInvalid]).
//
// # Example
//
//	store := iam.NewMemoryStore()
//	if err := iam.LoadFile(ctx, store, "world.json"); err != nil {
//		return err
//	}
//	ev, err := iam.NewEvaluator(ctx, store)
//	if err != nil {
//		return err
//	}
//	defer ev.Close()
//	dec, err := ev.Check(ctx, iam.Request{
//		Principal:  iam.ApplicationPrincipal("production-c"),
//		ProjectID:  "A",
//		Permission: "instance:server:create",
//	})
//	if err != nil {
//		return err // a malformed request, an unknown project or permission...
//	}
//	if !dec.Allowed {
//		return errForbidden
//	}
package iam
