package config

import (
	"encoding"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// Key is one configuration key: its YAML path, flag name, environment
// variable, default and documentation, all derived from the struct tags.
type Key struct {
	Path    string // "srt.latency": the YAML path and the flag name
	Env     string // "ZONECAST_SRT_LATENCY"
	Default string
	Usage   string
	Type    string
	field   []int
}

// EnvPrefix prefixes every environment variable.
const EnvPrefix = "ZONECAST_"

var (
	durationType        = reflect.TypeOf(time.Duration(0))
	sizeType            = reflect.TypeOf(Size(0))
	textUnmarshalerType = reflect.TypeOf((*encoding.TextUnmarshaler)(nil)).Elem()
)

// Keys lists every key of Config in declaration order.
func Keys() []Key {
	var keys []Key
	walk(reflect.TypeOf(Config{}), nil, nil, &keys)
	return keys
}

// walk descends into nested structs; any other field type is a leaf key.
func walk(t reflect.Type, prefix []string, index []int, keys *[]Key) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		path := append(append([]string{}, prefix...), name)
		idx := append(append([]int{}, index...), i)
		if f.Type.Kind() == reflect.Struct && f.Type != durationType && !reflect.PointerTo(f.Type).Implements(textUnmarshalerType) {
			walk(f.Type, path, idx, keys)
			continue
		}
		*keys = append(*keys, Key{
			Path:    strings.Join(path, "."),
			Env:     EnvPrefix + strings.ToUpper(strings.Join(path, "_")),
			Default: f.Tag.Get("default"),
			Usage:   f.Tag.Get("usage"),
			Type:    typeName(f.Type),
			field:   idx,
		})
	}
}

func typeName(t reflect.Type) string {
	switch {
	case t == durationType:
		return "duration"
	case t == sizeType:
		return "size"
	case reflect.PointerTo(t).Implements(textUnmarshalerType):
		return "list"
	case t.Kind() == reflect.Slice:
		return "list"
	default:
		return t.Kind().String()
	}
}

// Set parses text into the key's field of c.
func (k Key) Set(c *Config, text string) error {
	v := reflect.ValueOf(c).Elem().FieldByIndex(k.field)
	if err := setValue(v, text); err != nil {
		return fmt.Errorf("%s: %w", k.Path, err)
	}
	return nil
}

// Get formats the key's current value in c (the flag/env form).
func (k Key) Get(c *Config) string {
	v := reflect.ValueOf(c).Elem().FieldByIndex(k.field)
	if m, ok := v.Interface().(encoding.TextMarshaler); ok {
		b, _ := m.MarshalText()
		return string(b)
	}
	if v.Kind() == reflect.Slice {
		parts := make([]string, v.Len())
		for i := range parts {
			parts[i] = fmt.Sprint(v.Index(i).Interface())
		}
		return strings.Join(parts, ",")
	}
	return fmt.Sprint(v.Interface())
}

func setValue(v reflect.Value, text string) error {
	if u, ok := v.Addr().Interface().(encoding.TextUnmarshaler); ok {
		return u.UnmarshalText([]byte(text))
	}
	if v.Type() == durationType {
		d, err := time.ParseDuration(text)
		if err != nil {
			return err
		}
		v.SetInt(int64(d))
		return nil
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(text)
	case reflect.Bool:
		b, err := strconv.ParseBool(text)
		if err != nil {
			return err
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int64, reflect.Int32:
		n, err := strconv.ParseInt(text, 10, 64)
		if err != nil {
			return err
		}
		v.SetInt(n)
	case reflect.Uint, reflect.Uint64, reflect.Uint32, reflect.Uint16:
		n, err := strconv.ParseUint(text, 10, 64)
		if err != nil {
			return err
		}
		v.SetUint(n)
	case reflect.Float64:
		f, err := strconv.ParseFloat(text, 64)
		if err != nil {
			return err
		}
		v.SetFloat(f)
	case reflect.Slice:
		if v.Type().Elem().Kind() != reflect.String {
			return fmt.Errorf("unsupported list type %s", v.Type())
		}
		var items []string
		for _, s := range strings.Split(text, ",") {
			if s = strings.TrimSpace(s); s != "" {
				items = append(items, s)
			}
		}
		v.Set(reflect.ValueOf(items).Convert(v.Type()))
	default:
		return fmt.Errorf("unsupported type %s", v.Type())
	}
	return nil
}
