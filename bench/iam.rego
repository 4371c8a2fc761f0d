# The iamkit semantics (DESIGN section 2) over the data that opa.go writes
# under data.iam. Rego v1.
#
# input: principal (an ID), type ("user", "application", "group",
# "api_key"), exactly one of project and organization, permission (a set
# name or a triple), now (seconds since the epoch, for key expiry).
package iam

default allow := false

allow if {
	not denied
	caller.owner
}

# A set name: it is held (granted, or included by a granted set).
allow if {
	not denied
	not is_triple
	input.permission in held
}

# A triple: a pattern of the requested service (or of the "*" service) of
# a held set matches it, "*" being one whole segment.
allow if {
	not denied
	is_triple
	some p in candidate_patterns
	p.set in held
	glob.match(p.pattern, [":"], input.permission)
}

candidate_patterns contains p if {
	some p in data.iam.orgs[target_org].patterns[split(input.permission, ":")[0]]
}

candidate_patterns contains p if {
	some p in data.iam.orgs[target_org].patterns["*"]
}

# The target's organization.
target_org := org if {
	org := data.iam.projects[input.project]
} else := input.organization

is_triple if contains(input.permission, ":")

# An API key acts as its bearer.
key := data.iam.keys[input.principal] if input.type == "api_key"

caller_id := key.bearer if input.type == "api_key"

caller_id := input.principal if input.type != "api_key"

caller := data.iam.principals[caller_id]

denied if caller.org != target_org

denied if caller.locked

denied if {
	input.type == "api_key"
	key.expires != 0
	input.now >= key.expires
}

# Whose policies count: the caller's own, its groups', and the special
# groups of its organization (membership resolved here, not expanded in
# the data). A group caller has no groups.
holders contains caller_id

holders contains group if some group in caller.groups

holders contains group if {
	caller.type == "user"
	some group in data.iam.orgs[caller.org].all_users
}

holders contains group if {
	caller.type == "application"
	not caller.managed
	some group in data.iam.orgs[caller.org].all_apps
}

# The sets the holders' rules grant at the target. In a project: sets
# granted on the organization (project-scoped: all current and future
# projects) and sets granted in that project. At the organization: sets
# granted on it only, never through rules listing projects one by one; a
# set name counts through sets of its own scope type, a triple through
# both.
granted contains name if {
	input.project
	some holder in holders
	some name in data.iam.grants[holder].all
}

granted contains name if {
	input.project
	some holder in holders
	some name in data.iam.grants[holder].projects[input.project]
}

granted contains name if {
	not input.project
	some holder in holders
	some name in data.iam.grants[holder][org_kinds[_]]
}

org_kinds := {"all", "org"} if is_triple

org_kinds := {"org"} if {
	not is_triple
	data.iam.orgs[target_org].sets[input.permission].scope == "organization"
}

org_kinds := {"all"} if {
	not is_triple
	data.iam.orgs[target_org].sets[input.permission].scope == "projects"
}

# The granted sets and every set they include, transitively.
held := graph.reachable(data.iam.orgs[target_org].includes, granted)
