// Package policydefault fills the policy values that components take as
// optional pointers (nil: the policy's shipped default from policies/).
package policydefault

// Or returns v, or a pointer to a copy of def when v is nil.
func Or[T any](v *T, def T) *T {
	if v != nil {
		return v
	}
	return &def
}
