package rules

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

func TestValueReaders(t *testing.T) {
	m := resource.NewPropertyMapFromMap(map[string]any{
		"n":       3,
		"text":    "12",
		"word":    "[secret]",
		"unknown": resource.MakeComputed(resource.NewStringProperty("")),
		"secret":  resource.MakeSecret(resource.NewPropertyValue(map[string]any{"inner": []any{"a", resource.MakeComputed(resource.NewStringProperty(""))}})),
		"out":     resource.NewProperty(resource.Output{Known: false, Secret: true}),
		"null":    nil,
	})
	cases := []struct {
		name     string
		v        Value
		presence Presence
		secret   bool
		num      float64
		numOK    bool
	}{
		{"number", Get(m, "n"), Known, false, 3, true},
		{"numeric string", Get(m, "text"), Known, false, 12, true},
		{"word", Get(m, "word"), Known, false, 0, false},
		{"unknown", Get(m, "unknown"), Unknown, false, 0, false},
		{"missing", Get(m, "missing"), Absent, false, 0, false},
		{"null", Get(m, "null"), Absent, false, 0, false},
		{"unknown secret output", Get(m, "out"), Unknown, true, 0, false},
		{"through a secret", Path(m, "secret", "inner", 0), Known, true, 0, false},
		{"unknown element", Path(m, "secret", "inner", 1), Unknown, true, 0, false},
		{"past the end", Path(m, "secret", "inner", 5), Absent, true, 0, false},
		{"into a string", Path(m, "word", "x"), Absent, false, 0, false},
	}
	for _, tc := range cases {
		n, ok := tc.v.Number()
		if tc.v.Presence != tc.presence || tc.v.Secret != tc.secret || n != tc.num || ok != tc.numOK {
			t.Errorf("%s: %+v (number %v %v)", tc.name, tc.v, n, ok)
		}
	}
	if list, all := Path(m, "secret", "inner").Strings(); len(list) != 1 || all {
		t.Errorf("Strings with an unknown element: %v %v", list, all)
	}
}
