package rules

import (
	"strconv"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// Presence says what a rule may conclude about a property.
type Presence int

const (
	// Absent: the property is not set (the provider default applies).
	Absent Presence = iota
	// Unknown: the property is set but its value is not known yet (a preview
	// before the resource it comes from exists). Rules never flag unknowns.
	Unknown
	// Known: the value is known and can be judged.
	Known
)

// Value is one property value read through secrets and output wrappers.
type Value struct {
	V        resource.PropertyValue // unwrapped; meaningful only when Presence is Known
	Presence Presence
	Secret   bool // the value, or a wrapper around it, was marked secret
}

// unwrap strips secret and output wrappers, remembering what it saw.
func unwrap(v resource.PropertyValue) Value {
	secret := false
	for {
		switch {
		case v.IsComputed():
			return Value{Presence: Unknown, Secret: secret}
		case v.IsOutput():
			o := v.OutputValue()
			secret = secret || o.Secret
			if !o.Known {
				return Value{Presence: Unknown, Secret: secret}
			}
			v = o.Element
		case v.IsSecret():
			secret = true
			v = v.SecretValue().Element
		case v.IsNull():
			return Value{Presence: Absent, Secret: secret}
		default:
			return Value{V: v, Presence: Known, Secret: secret}
		}
	}
}

// Get reads m[key] through wrappers.
func Get(m resource.PropertyMap, key string) Value {
	if m == nil {
		return Value{Presence: Absent}
	}
	v, ok := m[resource.PropertyKey(key)]
	if !ok {
		return Value{Presence: Absent}
	}
	return unwrap(v)
}

// Path reads a nested value: each step is a string (object key) or an int
// (array index). The first unknown or absent step decides the result.
func Path(m resource.PropertyMap, steps ...any) Value {
	cur := Value{V: resource.NewObjectProperty(m), Presence: Known}
	if m == nil {
		return Value{Presence: Absent}
	}
	for _, s := range steps {
		if cur.Presence != Known {
			return cur
		}
		secret := cur.Secret
		switch k := s.(type) {
		case string:
			if !cur.V.IsObject() {
				return Value{Presence: Absent, Secret: secret}
			}
			cur = Get(cur.V.ObjectValue(), k)
		case int:
			if !cur.V.IsArray() || k < 0 || k >= len(cur.V.ArrayValue()) {
				return Value{Presence: Absent, Secret: secret}
			}
			cur = unwrap(cur.V.ArrayValue()[k])
		default:
			return Value{Presence: Absent}
		}
		cur.Secret = cur.Secret || secret
	}
	return cur
}

// String returns the string and whether it is a known string.
func (v Value) String() (string, bool) {
	if v.Presence == Known && v.V.IsString() {
		return v.V.StringValue(), true
	}
	return "", false
}

// Number returns the number and whether it is a known number. Numeric strings
// count: some providers and hand-written state files carry numbers as text.
func (v Value) Number() (float64, bool) {
	if v.Presence != Known {
		return 0, false
	}
	if v.V.IsNumber() {
		return v.V.NumberValue(), true
	}
	if v.V.IsString() {
		if n, err := strconv.ParseFloat(strings.TrimSpace(v.V.StringValue()), 64); err == nil {
			return n, true
		}
	}
	return 0, false
}

// Bool returns the boolean and whether it is a known boolean.
func (v Value) Bool() (bool, bool) {
	if v.Presence == Known && v.V.IsBool() {
		return v.V.BoolValue(), true
	}
	return false, false
}

// Array returns the elements, each unwrapped, and whether it is a known array.
func (v Value) Array() ([]Value, bool) {
	if v.Presence != Known || !v.V.IsArray() {
		return nil, false
	}
	arr := v.V.ArrayValue()
	out := make([]Value, len(arr))
	for i, e := range arr {
		out[i] = unwrap(e)
		out[i].Secret = out[i].Secret || v.Secret
	}
	return out, true
}

// Object returns the map and whether it is a known object.
func (v Value) Object() (resource.PropertyMap, bool) {
	if v.Presence == Known && v.V.IsObject() {
		return v.V.ObjectValue(), true
	}
	return nil, false
}

// Strings returns the known strings of an array, and whether every element
// was known (an unknown element means the list cannot be judged whole).
func (v Value) Strings() ([]string, bool) {
	arr, ok := v.Array()
	if !ok {
		return nil, false
	}
	out := make([]string, 0, len(arr))
	all := true
	for _, e := range arr {
		if s, ok := e.String(); ok {
			out = append(out, s)
		} else {
			all = false
		}
	}
	return out, all
}
