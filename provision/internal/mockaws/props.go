package mockaws

import (
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Run runs body against the mocks.
func (m *Mocks) Run(body pulumi.RunFunc) error {
	return pulumi.RunErr(body, pulumi.WithMocks(m.Project, m.Stack, m))
}

// Path walks map keys (string) and array indices (int) through pm,
// looking through secrets; a missing step gives a null value.
func Path(pm resource.PropertyMap, steps ...any) resource.PropertyValue {
	v := resource.NewObjectProperty(pm)
	for _, s := range steps {
		v = unsecret(v)
		switch s := s.(type) {
		case string:
			if !v.IsObject() {
				return resource.NewNullProperty()
			}
			v = v.ObjectValue()[resource.PropertyKey(s)]
		case int:
			if !v.IsArray() || s >= len(v.ArrayValue()) {
				return resource.NewNullProperty()
			}
			v = v.ArrayValue()[s]
		}
	}
	return unsecret(v)
}

func unsecret(v resource.PropertyValue) resource.PropertyValue {
	for v.IsSecret() {
		v = v.SecretValue().Element
	}
	return v
}

// IsSecret reports whether the value at path is (or is inside) a secret.
func IsSecret(pm resource.PropertyMap, steps ...any) bool {
	v := resource.NewObjectProperty(pm)
	for _, s := range steps {
		if v.IsSecret() {
			return true
		}
		switch s := s.(type) {
		case string:
			if !v.IsObject() {
				return false
			}
			v = v.ObjectValue()[resource.PropertyKey(s)]
		case int:
			if !v.IsArray() || s >= len(v.ArrayValue()) {
				return false
			}
			v = v.ArrayValue()[s]
		}
	}
	return v.IsSecret()
}

// Strings reads an array of strings at path (nil if it is not one).
func Strings(pm resource.PropertyMap, steps ...any) []string {
	v := Path(pm, steps...)
	if !v.IsArray() {
		return nil
	}
	var out []string
	for _, e := range v.ArrayValue() {
		e = unsecret(e)
		if !e.IsString() {
			return nil
		}
		out = append(out, e.StringValue())
	}
	return out
}

// Str reads a string at path ("" if it is not one).
func Str(pm resource.PropertyMap, steps ...any) string {
	if v := Path(pm, steps...); v.IsString() {
		return v.StringValue()
	}
	return ""
}

// Num reads a number at path (-1 if it is not one).
func Num(pm resource.PropertyMap, steps ...any) float64 {
	if v := Path(pm, steps...); v.IsNumber() {
		return v.NumberValue()
	}
	return -1
}

// Bool reads a bool at path (false if it is not one).
func Bool(pm resource.PropertyMap, steps ...any) bool {
	v := Path(pm, steps...)
	return v.IsBool() && v.BoolValue()
}
