package iam

// UserType is a user's role in its organization.
type UserType string

// User types. The empty UserType means member.
const (
	UserMember UserType = "member"
	UserOwner  UserType = "owner"
)

// User is a human principal. Each organization has exactly one owner, who
// is allowed everything in the organization and cannot be deleted or locked
// (ownership moves in one atomic write: demote the old owner and promote
// the new one inside Store.Atomic). A locked user is denied everything.
type User struct {
	ID             string
	OrganizationID string
	Email          string
	Username       string
	Type           UserType // UserOwner or UserMember; empty means member
	Locked         bool
	Tags           []string
}

// IsOwner reports whether u is its organization's owner.
func (u User) IsOwner() bool { return u.Type == UserOwner }
