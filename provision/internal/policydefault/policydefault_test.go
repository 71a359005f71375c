package policydefault

import "testing"

func TestOr(t *testing.T) {
	def := struct{ N int }{N: 2}
	got := Or(nil, def)
	if got == nil || got.N != 2 {
		t.Fatalf("nil value: got %+v, want the default", got)
	}
	got.N = 3
	if def.N != 2 {
		t.Fatal("the default was changed through the returned pointer")
	}
	own := &struct{ N int }{N: 1}
	if Or(own, def) != own {
		t.Fatal("a set value was replaced")
	}
}
