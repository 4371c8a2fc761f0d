package iam

import (
	"cmp"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/iamkit/iam/internal/suggest"
)

// Limits enforced on every write; limits.go lists them all. Lengths count
// runes. Names have up to 255 characters: Scaleway's API reference says
// 64, but its service holds longer ones (real organizations hold
// application names of 87 characters), and a world exported from one
// must load.
const (
	MaxNameLength        = 255
	MaxDescriptionLength = 200
	MaxTags              = 10
	MaxTagLength         = 70
	MaxIDLength          = 128
)

func invalid(k Kind, id, field, value, reason, hint string) *ValidationError {
	return &ValidationError{Entity: k.String(), ID: id, Field: field, Value: value, Reason: reason, Hint: hint}
}

// textFault says what makes s unfit to be stored, or returns "" when
// nothing does. Every string of every entity (IDs, names, emails,
// usernames, descriptions, tags, categories, conditions) is valid UTF-8
// and holds no control character (Unicode category Cc: U+0000-U+001F,
// U+007F-U+009F, tab and newline included) and no bidirectional
// embedding, override or isolate (U+202A-U+202E, U+2066-U+2069), which
// make text display in another order than the one it is read in: a
// policy, a condition or an email that reads one way on a screen or in a
// log and means another. The bidirectional marks U+200E, U+200F and
// U+061C, which override nothing, are ordinary text.
func textFault(s string) string {
	n := 0
	for i, r := range s {
		n++
		switch {
		case r == utf8.RuneError:
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 { // not a real U+FFFD
				return fmt.Sprintf("invalid UTF-8 at character %d", n)
			}
		case unicode.IsControl(r):
			return fmt.Sprintf("a control character (U+%04X) at character %d", r, n)
		case r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069:
			return fmt.Sprintf("a bidirectional control character (U+%04X) at character %d", r, n)
		}
	}
	return ""
}

// validateText reports, as a *ValidationError of field, what makes s unfit
// to be stored (see textFault).
func validateText(k Kind, id, field, s string) error {
	if f := textFault(s); f != "" {
		return invalid(k, id, field, s, "the text holds "+f, "remove it: every string is valid UTF-8 without control or bidirectional control characters")
	}
	return nil
}

// validateID accepts 1-128 runes without spaces (see textFault for the
// characters no string may hold).
func validateID(k Kind, id, field string) error {
	if err := validateText(k, id, field, id); err != nil {
		return err
	}
	n := utf8.RuneCountInString(id)
	if n == 0 || n > MaxIDLength || strings.ContainsFunc(id, unicode.IsSpace) {
		return invalid(k, id, field, id, fmt.Sprintf("an ID has 1 to %d characters and no spaces", MaxIDLength), "")
	}
	return nil
}

func validateName(k Kind, id, field, name string, required bool) error {
	if name == "" && !required {
		return nil
	}
	if err := validateText(k, id, field, name); err != nil {
		return err
	}
	n := utf8.RuneCountInString(name)
	if n == 0 || n > MaxNameLength || strings.TrimSpace(name) != name {
		return invalid(k, id, field, name, fmt.Sprintf("a name has 1 to %d characters, no control characters and no leading or trailing space", MaxNameLength), "")
	}
	return nil
}

func validateDescription(k Kind, id, d string) error {
	if err := validateText(k, id, "description", d); err != nil {
		return err
	}
	if utf8.RuneCountInString(d) > MaxDescriptionLength {
		return invalid(k, id, "description", "", fmt.Sprintf("a description has at most %d characters", MaxDescriptionLength), "shorten it")
	}
	return nil
}

func validateTags(k Kind, id string, tags []string) error {
	if len(tags) > MaxTags {
		return invalid(k, id, "tags", "", fmt.Sprintf("at most %d tags (got %d)", MaxTags, len(tags)), "")
	}
	for i, t := range tags {
		if err := validateText(k, id, fmt.Sprintf("tags[%d]", i), t); err != nil {
			return err
		}
		if n := utf8.RuneCountInString(t); n == 0 || n > MaxTagLength {
			return invalid(k, id, fmt.Sprintf("tags[%d]", i), t, fmt.Sprintf("a tag has 1 to %d characters", MaxTagLength), "")
		}
	}
	return nil
}

func validateOrganization(o Organization) error {
	if err := validateID(KindOrganization, o.ID, "id"); err != nil {
		return err
	}
	return validateName(KindOrganization, o.ID, "name", o.Name, true)
}

func validateProject(p Project) error {
	if err := validateID(KindProject, p.ID, "id"); err != nil {
		return err
	}
	if err := validateName(KindProject, p.ID, "name", p.Name, true); err != nil {
		return err
	}
	return validateDescription(KindProject, p.ID, p.Description)
}

func validateUser(u User) error {
	if err := validateID(KindUser, u.ID, "id"); err != nil {
		return err
	}
	if err := validateText(KindUser, u.ID, "email", u.Email); err != nil {
		return err
	}
	at := strings.LastIndexByte(u.Email, '@')
	if at <= 0 || at == len(u.Email)-1 || len(u.Email) > 254 || strings.ContainsFunc(u.Email, unicode.IsSpace) {
		return invalid(KindUser, u.ID, "email", u.Email, "an email address is required, as name@domain", "")
	}
	if err := validateName(KindUser, u.ID, "username", u.Username, false); err != nil {
		return err
	}
	if u.Type != UserOwner && u.Type != UserMember {
		return invalid(KindUser, u.ID, "type", string(u.Type), `the type is "owner" or "member"`, "")
	}
	if u.IsOwner() && u.Locked {
		return &ValidationError{Entity: "user", ID: u.ID, Field: "locked", Reason: "the owner cannot be locked", Hint: "move ownership to another user first", Cause: ErrForbidden}
	}
	return validateTags(KindUser, u.ID, u.Tags)
}

func validateApplication(a Application) error {
	if err := validateID(KindApplication, a.ID, "id"); err != nil {
		return err
	}
	if err := validateName(KindApplication, a.ID, "name", a.Name, true); err != nil {
		return err
	}
	if err := validateDescription(KindApplication, a.ID, a.Description); err != nil {
		return err
	}
	return validateTags(KindApplication, a.ID, a.Tags)
}

// checkPolicySize enforces the bounds on a policy's lists and conditions
// (MaxRulesPerPolicy, MaxProjectsPerRule, MaxPermissionSetsPerRule,
// MaxConditionLength). It reads nothing of the store, so a store runs it
// before taking its lock, and again in the transaction.
func checkPolicySize(p Policy) error {
	if len(p.Rules) > MaxRulesPerPolicy {
		return invalid(KindPolicy, p.ID, "rules", "", fmt.Sprintf("a policy has at most %d rules (got %d)", MaxRulesPerPolicy, len(p.Rules)), "split it into several policies")
	}
	for i, r := range p.Rules {
		at := func(field string) string { return fmt.Sprintf("rules[%d].%s", i, field) }
		if len(r.Scope.ProjectIDs) > MaxProjectsPerRule {
			return invalid(KindPolicy, p.ID, at("projects"), "", fmt.Sprintf("a rule lists at most %d projects (got %d)", MaxProjectsPerRule, len(r.Scope.ProjectIDs)), "split it into several rules, or grant on the organization (all current and future projects)")
		}
		if len(r.PermissionSets) > MaxPermissionSetsPerRule {
			return invalid(KindPolicy, p.ID, at("permission_sets"), "", fmt.Sprintf("a rule grants at most %d permission sets (got %d)", MaxPermissionSetsPerRule, len(r.PermissionSets)), "split it into several rules, or define a set that includes the others")
		}
		if runesOver(r.Condition, MaxConditionLength) {
			return invalid(KindPolicy, p.ID, at("condition"), clip(r.Condition), fmt.Sprintf("a condition has at most %d characters", MaxConditionLength), "")
		}
	}
	return nil
}

// checkGroupSize enforces MaxGroupMembers on the lists as given, before
// repeated members are dropped, so that no work is spent on a list over
// the bound.
func checkGroupSize(g Group) error {
	if n := len(g.UserIDs) + len(g.ApplicationIDs); n > MaxGroupMembers {
		field := fmt.Sprintf("users[%d]", MaxGroupMembers)
		if len(g.UserIDs) <= MaxGroupMembers {
			field = fmt.Sprintf("applications[%d]", MaxGroupMembers-len(g.UserIDs))
		}
		return invalid(KindGroup, g.ID, field, "", fmt.Sprintf("a group lists at most %d members, users and applications together (got %d)", MaxGroupMembers, n), "give the policy to the group of all users or all applications instead, or split the group")
	}
	return nil
}

// validPermissionSetName: letters and digits, starting with a letter, so
// that a set name is never mistaken for a permission triple.
func validPermissionSetName(name string) bool {
	if name == "" || len(name) > MaxNameLength {
		return false
	}
	for i := 0; i < len(name); i++ {
		switch c := name[i]; {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case i > 0 && (c >= '0' && c <= '9' || c == '_' || c == '-'):
		default:
			return false
		}
	}
	return true
}

// checkPermissionSetShape validates a set on its own: name, scope type,
// patterns and limits. find resolves included names.
func checkPermissionSetShape(ps PermissionSet) error {
	k, id := KindPermissionSet, ps.Name
	if !validPermissionSetName(ps.Name) {
		return invalid(k, id, "name", ps.Name, fmt.Sprintf("a permission set name has 1 to %d ASCII letters, digits, '-' or '_', starting with a letter", MaxNameLength), "")
	}
	if ps.ScopeType != ScopeProjects && ps.ScopeType != ScopeOrganization {
		return invalid(k, id, "scope_type", string(ps.ScopeType), `the scope type is "projects" or "organization"`, "")
	}
	if len(ps.Permissions) == 0 && len(ps.Includes) == 0 {
		return invalid(k, id, "permissions", "", "a permission set holds at least one permission pattern or included set", "")
	}
	if len(ps.Permissions) > MaxPermissionsPerSet {
		return invalid(k, id, "permissions", "", fmt.Sprintf("a permission set holds at most %d patterns (got %d)", MaxPermissionsPerSet, len(ps.Permissions)), "use wildcard patterns, or split it into sets that one includes")
	}
	if len(ps.Includes) > MaxIncludes {
		return invalid(k, id, "includes", "", fmt.Sprintf("a permission set includes at most %d sets directly (got %d)", MaxIncludes, len(ps.Includes)), "include sets that include others")
	}
	for i, p := range ps.Permissions {
		if _, _, _, err := parseTriple(p, true); err != nil {
			e := err.(*ValidationError)
			e.Entity, e.ID, e.Field = k.String(), id, fmt.Sprintf("permissions[%d]", i)
			return e
		}
	}
	if len(ps.Declared) > MaxDeclaredPerSet {
		return invalid(k, id, "declared", "", fmt.Sprintf("at most %d declared permissions (got %d)", MaxDeclaredPerSet, len(ps.Declared)), "split them over several sets")
	}
	for i, d := range ps.Declared {
		field := fmt.Sprintf("declared[%d]", i)
		if _, _, _, err := parseTriple(d, false); err != nil {
			e := err.(*ValidationError)
			e.Entity, e.ID, e.Field = k.String(), id, field
			return e
		}
		if !slices.ContainsFunc(ps.Permissions, func(p string) bool { return MatchPermission(p, d) }) {
			return invalid(k, id, field, d, "a set declares only permissions that its own patterns match (so that each has a level)",
				"add a pattern that matches it, or declare it in the set that grants it")
		}
	}
	if err := validateDescription(k, id, ps.Description); err != nil {
		return err
	}
	if len(ps.Categories) > MaxTags {
		return invalid(k, id, "categories", "", fmt.Sprintf("at most %d categories", MaxTags), "")
	}
	for i, c := range ps.Categories {
		if err := validateText(k, id, fmt.Sprintf("categories[%d]", i), c); err != nil {
			return err
		}
	}
	if err := noRepeats(k, id, "permissions", ps.Permissions); err != nil {
		return err
	}
	return noRepeats(k, id, "includes", ps.Includes)
}

// noRepeats refuses a list that holds an entry twice: a set's patterns or
// includes, a rule's permission sets or projects. A repeated entry means
// nothing more than one, so it is a slip (a bad merge, a copy and paste)
// that is refused where it is written rather than stored and shown back.
func noRepeats(k Kind, id, field string, list []string) error {
	first, at := repeated(list)
	if at < 0 {
		return nil
	}
	return invalid(k, id, fmt.Sprintf("%s[%d]", field, at), list[at],
		fmt.Sprintf("%q is listed twice (also at %s[%d])", list[at], field, first), "remove the repeated entry")
}

// repeated returns at, the index of the first entry of list equal to an
// earlier one, and first, the index of that earlier one; at is -1 when no
// entry repeats.
func repeated(list []string) (first, at int) {
	if len(list) <= 16 {
		for i := 1; i < len(list); i++ {
			if j := slices.Index(list[:i], list[i]); j >= 0 {
				return j, i
			}
		}
		return -1, -1
	}
	seen := make(map[string]int, len(list))
	for i, v := range list {
		if j, ok := seen[v]; ok {
			return j, i
		}
		seen[v] = i
	}
	return -1, -1
}

// levelConflict returns the error for the first pattern of ps that
// overlaps a pattern of a set of the other scope type among others: some
// permission would then have two levels.
func levelConflict(ps PermissionSet, others ...PermissionSet) error {
	for _, other := range others {
		if other.ScopeType == ps.ScopeType || other.Name == ps.Name {
			continue
		}
		for i, p := range ps.Permissions {
			for _, q := range other.Permissions {
				if patternsOverlap(p, q) {
					e := invalid(KindPermissionSet, ps.Name, fmt.Sprintf("permissions[%d]", i), p,
						fmt.Sprintf("pattern %s of this %s-scoped set overlaps pattern %s of the %s-scoped set %s: every permission has one level, so sets of different scope types never share a permission",
							p, ps.ScopeType, q, other.ScopeType, other.Name),
						"name the services (and resources) so that no permission matches both patterns")
					e.Cause = ErrScopeMismatch
					return e
				}
			}
		}
	}
	return nil
}

// servicePatterns indexes a catalogue by service: its declared
// permissions, the sets that declare them, and its patterns.
type servicePatterns struct {
	declared  []string
	declarers []string // the sets that declare them, without repeats
	patterns  []setPattern
}

// setPattern is pattern Index of set Set.
type setPattern struct {
	set, pattern string
	index        int
}

// indexServices indexes sets by service. Patterns whose service is "*"
// are left out: they also match services without declarations, so they
// always match some known permission.
func indexServices(sets []PermissionSet) map[string]*servicePatterns {
	out := map[string]*servicePatterns{}
	get := func(service string) *servicePatterns {
		sp := out[service]
		if sp == nil {
			sp = &servicePatterns{}
			out[service] = sp
		}
		return sp
	}
	seen := map[string]bool{}
	for _, ps := range sets {
		for _, d := range ps.Declared {
			if s, _, _, ok := splitTriple(d); ok {
				sp := get(s)
				if !seen[d] {
					seen[d] = true
					sp.declared = append(sp.declared, d)
				}
				if !slices.Contains(sp.declarers, ps.Name) {
					sp.declarers = append(sp.declarers, ps.Name)
				}
			}
		}
		for i, p := range ps.Permissions {
			if s, _, _, ok := splitTriple(p); ok && s != "*" {
				sp := get(s)
				sp.patterns = append(sp.patterns, setPattern{set: ps.Name, pattern: p, index: i})
			}
		}
	}
	return out
}

// undeclaredPattern returns the error for the first pattern of own (an
// organization's sets) that matches no declared permission of its
// service, where builtin's and own's declarations count together. The
// built-in catalogue was checked on its own when the store was made, and
// declarations only add known permissions, so its patterns need checking
// only for services that own declares and it does not.
func undeclaredPattern(builtin map[string]*servicePatterns, own []PermissionSet) error {
	ownIdx := indexServices(own)
	for _, service := range sortedKeys(ownIdx) {
		mine, theirs := ownIdx[service], builtin[service]
		declared, declarers := mine.declared, mine.declarers
		var builtinPatterns []setPattern
		if theirs != nil {
			declared = slices.Concat(theirs.declared, declared)
			if len(theirs.declared) > 0 {
				declarers = slices.Concat([]string{"the built-in catalogue"}, declarers)
			} else {
				builtinPatterns = theirs.patterns
			}
		}
		if len(declared) == 0 {
			continue
		}
		matches := func(p setPattern) bool {
			return slices.ContainsFunc(declared, func(d string) bool { return MatchPermission(p.pattern, d) })
		}
		for _, p := range mine.patterns {
			if !matches(p) {
				e := invalid(KindPermissionSet, p.set, fmt.Sprintf("permissions[%d]", p.index), p.pattern,
					fmt.Sprintf("the pattern matches none of the permissions declared for service %s (by %s)", service, nameSome(declarers)),
					cmp.Or(didYouMean(p.pattern, slices.Clone(declared)), "a pattern names permissions that exist: fix it, or declare the permissions it stands for"))
				e.Cause = ErrUnknownPermission
				return e
			}
		}
		for _, p := range builtinPatterns {
			if !matches(p) {
				e := invalid(KindPermissionSet, mine.declarers[0], "declared", "",
					fmt.Sprintf("declaring permissions of service %s makes them its only known permissions, and pattern %s of the built-in set %s matches none of them", service, p.pattern, p.set),
					"declare the permissions that pattern stands for too")
				e.Cause = ErrUnknownPermission
				return e
			}
		}
	}
	return nil
}

// nameSome lists up to three names, and how many more there are.
func nameSome(names []string) string {
	if len(names) <= 3 {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:3], ", "), len(names)-3)
}

// includeCycle returns a path from start back to start through includes,
// or nil.
func includeCycle(start string, find func(string) (PermissionSet, bool)) []string {
	seen := map[string]bool{}
	var path []string
	var walk func(name string) bool
	walk = func(name string) bool {
		ps, ok := find(name)
		if !ok {
			return false
		}
		for _, inc := range ps.Includes {
			if inc == start {
				path = append(path, name, inc)
				return true
			}
			if seen[inc] {
				continue
			}
			seen[inc] = true
			if walk(inc) {
				path = append([]string{name}, path...)
				return true
			}
		}
		return false
	}
	if walk(start) {
		// walk prepends each frame; the innermost appended (name, start).
		return dedupeAdjacent(path)
	}
	return nil
}

func dedupeAdjacent(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// scalewayIndex validates the Scaleway catalogue, the default built-in
// one, and indexes it by service, once.
var scalewayIndex = sync.OnceValues(func() (map[string]*servicePatterns, error) {
	sets := scalewaySets()
	byName := make(map[string]int, len(sets))
	for i, ps := range sets {
		byName[ps.Name] = i
	}
	if err := validateCatalogue(sets, byName); err != nil {
		return nil, err
	}
	return indexServices(sets), nil
})

// validateCatalogue checks a built-in catalogue once, at store creation.
func validateCatalogue(sets []PermissionSet, byName map[string]int) error {
	if len(byName) != len(sets) {
		return fmt.Errorf("iam: built-in catalogue: repeated set names: %w", ErrInvalid)
	}
	find := func(name string) (PermissionSet, bool) {
		i, ok := byName[name]
		if !ok {
			return PermissionSet{}, false
		}
		return sets[i], true
	}
	for _, ps := range sets {
		if ps.OrganizationID != "" {
			return fmt.Errorf("iam: built-in catalogue: set %q has an organization ID: %w", ps.Name, ErrInvalid)
		}
		if err := checkPermissionSetShape(ps); err != nil {
			return fmt.Errorf("iam: built-in catalogue: %w", err)
		}
		for _, inc := range ps.Includes {
			other, ok := find(inc)
			if !ok || other.ScopeType != ps.ScopeType {
				return fmt.Errorf("iam: built-in catalogue: set %q includes %q, unknown or of another scope type: %w", ps.Name, inc, ErrInvalid)
			}
		}
		if includeCycle(ps.Name, find) != nil {
			return fmt.Errorf("iam: built-in catalogue: set %q includes itself: %w", ps.Name, ErrInvalid)
		}
	}
	if err := catalogueLevels(sets, byName); err != nil {
		return fmt.Errorf("iam: built-in catalogue: %w", err)
	}
	if err := undeclaredPattern(nil, sets); err != nil {
		return fmt.Errorf("iam: built-in catalogue: %w", err)
	}
	return nil
}

// catalogueLevels checks that no pattern of sets overlaps a pattern of a
// set of the other scope type. Two patterns can overlap only when they
// name the same service, or when one of them has "*" as its service.
func catalogueLevels(sets []PermissionSet, byName map[string]int) error {
	byService := map[string][]setPattern{}
	var wild []setPattern
	for _, ps := range sets {
		for i, p := range ps.Permissions {
			sp := setPattern{set: ps.Name, pattern: p, index: i}
			if s, _, _, ok := splitTriple(p); ok && s == "*" {
				wild = append(wild, sp)
			} else if ok {
				byService[s] = append(byService[s], sp)
			}
		}
	}
	check := func(p setPattern, others []setPattern) error {
		a := sets[byName[p.set]]
		for _, q := range others {
			b := sets[byName[q.set]]
			if a.ScopeType != b.ScopeType && patternsOverlap(p.pattern, q.pattern) {
				return levelConflict(a, b)
			}
		}
		return nil
	}
	for _, service := range sortedKeys(byService) {
		pats := byService[service]
		for i, p := range pats {
			if err := check(p, slices.Concat(pats[i+1:], wild)); err != nil {
				return err
			}
		}
	}
	for i, p := range wild {
		if err := check(p, wild[i+1:]); err != nil {
			return err
		}
	}
	return nil
}

// didYouMean suggests the candidate closest to s, or returns "".
func didYouMean(s string, candidates []string) string {
	slices.Sort(candidates)
	if best := suggest.Closest(s, candidates); best != "" {
		return fmt.Sprintf("did you mean %s?", best)
	}
	return ""
}

// newID returns a random UUID (version 4) string.
func newID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// newAccessKey returns "SCW" and 17 random upper-case letters and digits,
// the shape of a Scaleway access key.
func newAccessKey() string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	var b [17]byte
	rand.Read(b[:])
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return "SCW" + string(b[:])
}

// newSecret returns a random secret: a UUID, 122 random bits.
func newSecret() string { return newID() }

// HashSecret returns the hex SHA-256 of an API key secret, the form in
// which stores and world files keep it.
func HashSecret(secret string) string { return hashSecret(secret) }

func hashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}
