package iam

// Group gathers users and applications so that one policy applies to all of
// them. Groups do not nest. A group with AllUsers holds every user of the
// organization (current and future), one with AllApplications every
// non-managed application; such groups list no members of that kind.
// Group names are unique in an organization. A group lists at most
// MaxGroupMembers users and applications together.
type Group struct {
	ID              string
	OrganizationID  string
	Name            string
	Description     string
	UserIDs         []string
	ApplicationIDs  []string
	AllUsers        bool
	AllApplications bool
	Tags            []string
}
