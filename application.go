package iam

// Application is a non-human principal that holds API keys. A managed
// application (one the host runs on the organization's behalf) is not a
// member of the all-applications groups.
type Application struct {
	ID             string
	OrganizationID string
	Name           string
	Description    string
	Managed        bool
	Tags           []string
}
