package suggest

import "testing"

func TestClosest(t *testing.T) {
	names := []string{"InstancesFullAccess", "InstancesReadOnly", "ObjectStorageReadOnly"}
	for _, c := range []struct{ in, want string }{
		{"InstanceFullAccess", "InstancesFullAccess"},
		{"instancesreadonly", "InstancesReadOnly"},
		{"BillingManager", ""},
		{"InstancesFullAccess", ""},
	} {
		if got := Closest(c.in, names); got != c.want {
			t.Errorf("Closest(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	if d := Distance("kitten", "sitting"); d != 3 {
		t.Errorf("Distance = %d, want 3", d)
	}
}
