package iamtest

import (
	"github.com/iamkit/iam"
)

var cascadeCases = []storeCase{
	{"DeleteProject", testDeleteProjectCascade},
	{"DeleteOrganization", testDeleteOrganizationCascade},
	{"DeleteGroup", testDeleteGroupCascade},
	{"DeleteUser", testDeleteUserCascade},
	{"RecreatedOrganizationInheritsNothing", testRecreatedOrganizationInheritsNothing},
	{"OwnershipMovesInOneWrite", testOwnershipMoves},
	{"DemotionWithoutANewOwnerIsForbidden", testDemotionWithoutHeir},
	{"DemoteThenDeleteTheFormerOwnerIsForbidden", testDemoteThenDelete},
}

// testDeleteProjectCascade: deleting a project removes it from every
// rule, drops the rules left with no project, and resets keys' default
// project.
func testDeleteProjectCascade(t *storeT) {
	w := t.world()
	w.Project(w.Org, "p1")
	w.Project(w.Org, "p2")
	u := iam.UserPrincipal(w.User(w.Org, "u"))
	w.Policy(w.Org, "pol", u,
		onProjects(ids("p1", "p2"), "InstancesServerCreate"),
		onProjects(ids("p1"), "InstancesServerDelete"),
		onOrg(w.Org, "ContainersReadOnly"),
		onProjects(ids("p2", "p1", w.Org), "InstancesServerStart"))
	w.Policy(w.Org, "only-p1", u, onProjects(ids("p1"), "InstancesServerStop"))
	w.Policy(w.Org, "untouched", u, onProjects(ids("p2"), "InstancesServerRead"))
	k1 := w.Key(iam.APIKey{OrganizationID: w.Org, Bearer: u, DefaultProjectID: "p1"})
	k2 := w.Key(iam.APIKey{OrganizationID: w.Org, Bearer: u, DefaultProjectID: "p2"})
	untouched, err := w.store.GetPolicy(w.ctx, "untouched")
	w.ok(err, "GetPolicy")

	w.expect(inProject(u, "p1", "InstancesServerDelete"), granted)
	w.step("delete p1", func() error { return w.store.DeleteProject(w.ctx, "p1") })

	_, err = w.store.GetProject(w.ctx, "p1")
	w.is(err, iam.ErrNotFound, "the deleted project")
	pol, err := w.store.GetPolicy(w.ctx, "pol")
	w.ok(err, "GetPolicy")
	w.equal([]iam.Rule{
		onProjects(ids("p2"), "InstancesServerCreate"),
		onOrg(w.Org, "ContainersReadOnly"),
		onProjects(ids("p2", w.Org), "InstancesServerStart"),
	}, pol.Rules, "the project left every rule, and the rule it alone held went")
	onlyP1, err := w.store.GetPolicy(w.ctx, "only-p1")
	w.ok(err, "GetPolicy")
	w.check(len(onlyP1.Rules) == 0, "its only rule named only p1: %v", onlyP1.Rules)
	w.equal(u, onlyP1.Principal, "the policy itself stays")
	got, err := w.store.GetPolicy(w.ctx, "untouched")
	w.ok(err, "GetPolicy")
	w.equal(untouched, got, "a policy that did not name the project")

	gk1, err := w.store.GetAPIKey(w.ctx, k1.AccessKey)
	w.ok(err, "GetAPIKey")
	w.equal(w.Org, gk1.DefaultProjectID, "reset to the default project")
	gk2, err := w.store.GetAPIKey(w.ctx, k2.AccessKey)
	w.ok(err, "GetAPIKey")
	w.equal("p2", gk2.DefaultProjectID, "another default project stays")

	w.expect(inProject(u, "p1", "InstancesServerCreate"), isNotFound)
	w.expect(inProject(u, "p2", "InstancesServerCreate"), granted)
	w.expect(inProject(u, w.Org, "InstancesServerStart"), granted)
	// A project created again under the same ID gets nothing of the old
	// one's grants.
	w.Project(w.Org, "p1")
	w.expect(inProject(u, "p1", "InstancesServerCreate"), notGranted)
	w.expect(inProject(u, "p1", "InstancesServerDelete"), notGranted)
	w.expect(inProject(u, "p1", "InstancesServerStop"), notGranted)
	w.expect(inProject(u, "p1", "ContainersReadOnly"), granted) // the organization rule

	// The default project cannot be deleted.
	before := w.dump()
	w.is(w.store.DeleteProject(w.ctx, w.Org), iam.ErrForbidden, "deleting the default project")
	w.unchanged(before)
}

// testDeleteOrganizationCascade: deleting an organization removes
// everything in it, at once, and nothing else.
func testDeleteOrganizationCascade(t *storeT) {
	w := t.world()
	w.Project(w.Org, "p1")
	w.User(w.Org, "u")
	w.AddOrg("beta", "beta-owner")
	w.Project("beta", "bp1")
	bu := iam.UserPrincipal(w.User("beta", "bu"))
	ba := iam.ApplicationPrincipal(w.App("beta", "ba", false))
	w.Group(iam.Group{ID: "bg", OrganizationID: "beta", UserIDs: ids("bu"), ApplicationIDs: ids("ba")})
	w.Set(iam.PermissionSet{Name: "BetaSet", OrganizationID: "beta", ScopeType: iam.ScopeProjects, Permissions: []string{"beta:*:*"}})
	w.Policy("beta", "bpol", bu, onProjects(ids("bp1"), "BetaSet", "InstancesFullAccess"))
	w.Policy("beta", "bgpol", iam.GroupPrincipal("bg"), onOrg("beta", "IAMManager"))
	bk := w.Key(iam.APIKey{AccessKey: "bk", OrganizationID: "beta", Bearer: ba})
	w.Policy(w.Org, "apol", iam.UserPrincipal("u"), onProjects(ids("p1"), "InstancesFullAccess"))

	before := w.dump()
	w.expect(inProject(bu, "bp1", "BetaSet"), granted)
	w.step("delete beta", func() error { return w.store.DeleteOrganization(w.ctx, "beta") })

	after := w.dump()
	_, held := after.Orgs["beta"]
	w.check(!held, "the dump still holds organization beta")
	w.equal([]iam.Organization{{ID: "acme", Name: "Org acme"}}, after.Organizations, "the organizations left")
	w.equal(before.Orgs["acme"], after.Orgs["acme"], "the other organization is untouched")

	_, err := w.store.GetOrganization(w.ctx, "beta")
	w.is(err, iam.ErrNotFound, "the deleted organization")
	for _, g := range []struct {
		name string
		get  func() error
	}{
		{"default project", func() error { _, err := w.store.GetProject(w.ctx, "beta"); return err }},
		{"project", func() error { _, err := w.store.GetProject(w.ctx, "bp1"); return err }},
		{"owner", func() error { _, err := w.store.GetUser(w.ctx, "beta-owner"); return err }},
		{"user", func() error { _, err := w.store.GetUser(w.ctx, "bu"); return err }},
		{"application", func() error { _, err := w.store.GetApplication(w.ctx, "ba"); return err }},
		{"group", func() error { _, err := w.store.GetGroup(w.ctx, "bg"); return err }},
		{"policy", func() error { _, err := w.store.GetPolicy(w.ctx, "bpol"); return err }},
		{"set", func() error { _, err := w.store.GetPermissionSet(w.ctx, "beta", "BetaSet"); return err }},
		{"key", func() error { _, err := w.store.GetAPIKey(w.ctx, bk.AccessKey); return err }},
		{"list projects", func() error { _, err := w.store.ListProjects(w.ctx, "beta"); return err }},
		{"list users", func() error { _, err := w.store.ListUsers(w.ctx, "beta"); return err }},
	} {
		w.is(g.get(), iam.ErrNotFound, g.name)
	}

	// Checks: the target is gone, and so are the callers, whatever the
	// target (a caller that still resolved would be "another organization"
	// instead of ErrNotFound).
	w.expectAll([]checkCase{
		{"former user in its former project", inProject(bu, "bp1", "InstancesFullAccess"), isNotFound},
		{"former user at its former organization", atOrg(bu, "beta", "IAMManager"), isNotFound},
		{"former user in another organization's project", inProject(bu, "p1", "InstancesFullAccess"), isNotFound},
		{"former owner in another organization's project", inProject(iam.UserPrincipal("beta-owner"), "p1", "InstancesFullAccess"), isNotFound},
		{"former application in another organization's project", inProject(ba, "p1", "InstancesFullAccess"), isNotFound},
		{"former group in another organization's project", inProject(iam.GroupPrincipal("bg"), "p1", "InstancesFullAccess"), isNotFound},
		{"former key in another organization's project", inProject(iam.APIKeyPrincipal(bk.AccessKey), "p1", "InstancesFullAccess"), isNotFound},
		{"the other organization's user keeps its grant", inProject(iam.UserPrincipal("u"), "p1", "InstancesFullAccess"), granted},
	})

	// Every ID is free again.
	w.AddOrg("beta", "")
	w.Project("beta", "bp1")
	w.User("beta", "bu")
	w.App(w.Org, "ba", false)
	w.expect(inProject(bu, "bp1", "InstancesFullAccess"), notGranted)
	w.expect(inProject(bu, "bp1", "BetaSet"), isUnknown)
}

// testDeleteGroupCascade: deleting a group leaves its policies without a
// principal; its members lose what it gave them, at once.
func testDeleteGroupCascade(t *storeT) {
	w := t.world()
	w.Project(w.Org, "p1")
	u := iam.UserPrincipal(w.User(w.Org, "u"))
	w.Group(iam.Group{ID: "g", OrganizationID: w.Org, UserIDs: ids("u")})
	w.Group(iam.Group{ID: "all", OrganizationID: w.Org, AllUsers: true})
	w.Policy(w.Org, "gpol", iam.GroupPrincipal("g"), onProjects(ids("p1"), "InstancesServerCreate"))
	w.Policy(w.Org, "allpol", iam.GroupPrincipal("all"), onProjects(ids("p1"), "InstancesServerDelete"))
	w.expect(inProject(u, "p1", "InstancesServerCreate"), granted)
	w.expect(inProject(u, "p1", "InstancesServerDelete"), granted)

	w.step("delete g", func() error { return w.store.DeleteGroup(w.ctx, "g") })
	w.step("delete all", func() error { return w.store.DeleteGroup(w.ctx, "all") })
	for _, id := range []string{"gpol", "allpol"} {
		pol, err := w.store.GetPolicy(w.ctx, id)
		w.ok(err, "GetPolicy %s", id)
		w.check(pol.Principal.IsZero(), "%s: the policy is left without a principal, got %v", id, pol.Principal)
		w.equal(1, len(pol.Rules), "%s: the rules stay", id)
	}
	w.expect(inProject(u, "p1", "InstancesServerCreate"), notGranted)
	w.expect(inProject(u, "p1", "InstancesServerDelete"), notGranted)
	w.expect(inProject(iam.GroupPrincipal("g"), "p1", "InstancesServerCreate"), isNotFound)
	// A group created again under the same ID starts empty-handed.
	w.Group(iam.Group{ID: "g", OrganizationID: w.Org, UserIDs: ids("u")})
	w.expect(inProject(u, "p1", "InstancesServerCreate"), notGranted)
	w.expect(inProject(iam.GroupPrincipal("g"), "p1", "InstancesServerCreate"), notGranted)
}

// testDeleteUserCascade: deleting a user deletes its API keys, removes it
// from every group and leaves its policies without a principal; deleting
// an application likewise; the owner cannot be deleted.
func testDeleteUserCascade(t *storeT) {
	w := t.world()
	w.Project(w.Org, "p1")
	u := iam.UserPrincipal(w.User(w.Org, "u"))
	a := iam.ApplicationPrincipal(w.App(w.Org, "a", false))
	w.User(w.Org, "other")
	w.Group(iam.Group{ID: "g", OrganizationID: w.Org, UserIDs: ids("u", "other"), ApplicationIDs: ids("a")})
	w.Policy(w.Org, "upol", u, onProjects(ids("p1"), "InstancesServerCreate"))
	w.Policy(w.Org, "apol", a, onProjects(ids("p1"), "InstancesServerCreate"))
	uk := w.Key(iam.APIKey{OrganizationID: w.Org, Bearer: u})
	ak := w.Key(iam.APIKey{OrganizationID: w.Org, Bearer: a})

	w.step("delete u", func() error { return w.store.DeleteUser(w.ctx, "u") })
	_, err := w.store.GetAPIKey(w.ctx, uk.AccessKey)
	w.is(err, iam.ErrNotFound, "the deleted user's key")
	g, err := w.store.GetGroup(w.ctx, "g")
	w.ok(err, "GetGroup")
	w.equal([]string{"other"}, g.UserIDs, "the deleted user left the group")
	pol, err := w.store.GetPolicy(w.ctx, "upol")
	w.ok(err, "GetPolicy")
	w.check(pol.Principal.IsZero(), "the deleted user's policy has no principal, got %v", pol.Principal)
	w.expect(inProject(iam.APIKeyPrincipal(uk.AccessKey), "p1", "InstancesServerCreate"), isNotFound)

	w.step("delete a", func() error { return w.store.DeleteApplication(w.ctx, "a") })
	_, err = w.store.GetAPIKey(w.ctx, ak.AccessKey)
	w.is(err, iam.ErrNotFound, "the deleted application's key")
	g, err = w.store.GetGroup(w.ctx, "g")
	w.ok(err, "GetGroup")
	w.equalEmpty([]string(nil), g.ApplicationIDs, "the deleted application left the group")
	pol, err = w.store.GetPolicy(w.ctx, "apol")
	w.ok(err, "GetPolicy")
	w.check(pol.Principal.IsZero(), "the deleted application's policy has no principal, got %v", pol.Principal)

	before := w.dump()
	w.is(w.store.DeleteUser(w.ctx, w.Owner), iam.ErrForbidden, "deleting the owner")
	owner, err := w.store.GetUser(w.ctx, w.Owner)
	w.ok(err, "GetUser")
	owner.Locked = true
	_, err = w.store.UpdateUser(w.ctx, owner)
	w.is(err, iam.ErrForbidden, "locking the owner")
	w.unchanged(before)
}

// testRecreatedOrganizationInheritsNothing: an organization deleted and
// created again under the same ID holds nothing of the old one: its
// former principals are unknown, not owners, and their grants do not land
// on the new projects.
func testRecreatedOrganizationInheritsNothing(t *storeT) {
	w := t.world()
	w.AddOrg("beta", "beta-owner")
	w.Project("beta", "bp1")
	bu := iam.UserPrincipal(w.User("beta", "bu"))
	ba := iam.ApplicationPrincipal(w.App("beta", "ba", false))
	w.Group(iam.Group{ID: "bg", OrganizationID: "beta", UserIDs: ids("bu")})
	w.Policy("beta", "bpol", bu, onProjects(ids("bp1"), "InstancesFullAccess"))
	w.Policy("beta", "bapol", ba, onOrg("beta", "InstancesFullAccess"))
	w.Policy("beta", "bgpol", iam.GroupPrincipal("bg"), onProjects(ids("bp1"), "ContainersFullAccess"))
	w.expect(inProject(bu, "bp1", "InstancesFullAccess"), granted)

	w.ok(w.store.DeleteOrganization(w.ctx, "beta"), "DeleteOrganization")
	w.AddOrg("beta", "new-owner")
	w.Project("beta", "np1") // a new project in the old one's place

	w.expectAll([]checkCase{
		{"former owner is not the new organization's owner", inProject(iam.UserPrincipal("beta-owner"), "np1", "InstancesFullAccess"), isNotFound},
		{"former owner at the new organization", atOrg(iam.UserPrincipal("beta-owner"), "beta", "IAMManager"), isNotFound},
		{"former user's grants do not land on a new project", inProject(bu, "np1", "InstancesFullAccess"), isNotFound},
		{"former application's grants do not come back", inProject(ba, "beta", "InstancesFullAccess"), isNotFound},
		{"former group", inProject(iam.GroupPrincipal("bg"), "np1", "ContainersFullAccess"), isNotFound},
		{"the new owner", inProject(iam.UserPrincipal("new-owner"), "np1", "InstancesFullAccess"), ownerAllow},
	})
}

// demote makes the owner of the world's organization a member, inside tx.
func (w *world) demote(tx iam.Tx) error {
	old, err := tx.GetUser(w.ctx, w.Owner)
	if err != nil {
		return err
	}
	old.Type = iam.UserMember
	_, err = tx.UpdateUser(w.ctx, old)
	return err
}

// testOwnershipMoves: ownership moves in one Atomic write.
func testOwnershipMoves(t *storeT) {
	w := t.world()
	w.Project(w.Org, "p1")
	w.User(w.Org, "heir")
	w.step("move ownership", func() error {
		return w.store.Atomic(w.ctx, func(tx iam.Tx) error {
			if err := w.demote(tx); err != nil {
				return err
			}
			heir, err := tx.GetUser(w.ctx, "heir")
			if err != nil {
				return err
			}
			heir.Type = iam.UserOwner
			_, err = tx.UpdateUser(w.ctx, heir)
			return err
		})
	})
	heir, err := w.store.GetUser(w.ctx, "heir")
	w.ok(err, "GetUser heir")
	w.check(heir.IsOwner(), "the heir owns the organization")
	old, err := w.store.GetUser(w.ctx, w.Owner)
	w.ok(err, "GetUser of the former owner")
	w.check(!old.IsOwner(), "the former owner owns it no more")
	w.expect(inProject(iam.UserPrincipal("heir"), "p1", "InstancesFullAccess"), ownerAllow)
	w.expect(inProject(iam.UserPrincipal(w.Owner), "p1", "InstancesFullAccess"), notGranted)
	// The former owner can now be deleted; the new one cannot.
	w.is(w.store.DeleteUser(w.ctx, "heir"), iam.ErrForbidden, "deleting the new owner")
	w.step("delete the former owner", func() error { return w.store.DeleteUser(w.ctx, w.Owner) })
}

// testDemotionWithoutHeir: a write that leaves the organization with no
// owner is forbidden, and changes nothing.
func testDemotionWithoutHeir(t *storeT) {
	w := t.world()
	w.User(w.Org, "heir")
	before := w.dump()
	err := w.store.Atomic(w.ctx, func(tx iam.Tx) error {
		if err := w.demote(tx); err != nil {
			return err
		}
		_, err := tx.CreateProject(w.ctx, iam.Project{ID: "p9", OrganizationID: w.Org, Name: "P9"})
		return err
	})
	w.is(err, iam.ErrForbidden, "demoting the owner with no heir")
	w.unchanged(before)
	w.expect(atOrg(iam.UserPrincipal(w.Owner), w.Org, "IAMManager"), ownerAllow)
}

// testDemoteThenDelete: demoting the owner then deleting it, with no
// heir, is forbidden too.
func testDemoteThenDelete(t *storeT) {
	w := t.world()
	before := w.dump()
	err := w.store.Atomic(w.ctx, func(tx iam.Tx) error {
		if err := w.demote(tx); err != nil {
			return err
		}
		return tx.DeleteUser(w.ctx, w.Owner)
	})
	w.is(err, iam.ErrForbidden, "demoting then deleting the owner")
	w.unchanged(before)
}
