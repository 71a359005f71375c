package main

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/zonecast/zonecast/policies/failover"
)

// timingOverrides holds -timing NAME=VALUE flags: what-if changes to a
// field of failover.Timings (durations as Go durations, thresholds as
// integers), applied to the production and the local timings alike.
type timingOverrides []string

func (o *timingOverrides) String() string { return strings.Join(*o, ",") }

func (o *timingOverrides) Set(v string) error {
	if _, err := applyTimings(failover.DefaultTimings, []string{v}); err != nil {
		return err
	}
	*o = append(*o, v)
	return nil
}

// applyTimings returns t with the overrides applied, by field name.
func applyTimings(t failover.Timings, overrides []string) (failover.Timings, error) {
	rv := reflect.ValueOf(&t).Elem()
	for _, kv := range overrides {
		name, value, ok := strings.Cut(kv, "=")
		if !ok {
			return t, fmt.Errorf("-timing %q: want Name=value", kv)
		}
		f := rv.FieldByName(name)
		if !f.IsValid() {
			return t, fmt.Errorf("-timing %q: failover.Timings has no field %s", kv, name)
		}
		switch {
		case f.Type() == reflect.TypeOf(time.Duration(0)):
			d, err := time.ParseDuration(value)
			if err != nil {
				return t, fmt.Errorf("-timing %q: %w", kv, err)
			}
			f.SetInt(int64(d))
		case f.Kind() == reflect.Int:
			n, err := strconv.Atoi(value)
			if err != nil {
				return t, fmt.Errorf("-timing %q: %w", kv, err)
			}
			f.SetInt(int64(n))
		case f.Kind() == reflect.String:
			f.SetString(value)
		default:
			return t, fmt.Errorf("-timing %q: field %s has an unsupported type", kv, name)
		}
	}
	return t, nil
}
