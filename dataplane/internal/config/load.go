package config

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"gopkg.in/yaml.v3"
)

// Source is where Load reads the environment from (os.LookupEnv in main).
type Source func(name string) (string, bool)

// Load builds the configuration from defaults, the YAML file named by
// -config (or ZONECAST_CONFIG), the environment and the flags, in rising
// precedence, then validates it. Help (-h) is reported as flag.ErrHelp after
// the documentation of every key has been written to out.
func Load(args []string, env Source, out io.Writer) (*Config, error) {
	if env == nil {
		env = os.LookupEnv
	}
	keys := Keys()
	fs := flag.NewFlagSet("edge", flag.ContinueOnError)
	fs.SetOutput(out)
	configFile := fs.String("config", "", "YAML configuration file (also "+EnvPrefix+"CONFIG)")
	flagValues := map[string]*string{}
	for _, k := range keys {
		s := new(string)
		flagValues[k.Path] = s
		fs.Func(k.Path, k.Usage, func(v string) error { *s = v; return nil })
	}
	fs.Usage = func() { WriteUsage(fs.Output()) }
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q (every setting is a -flag)", fs.Args())
	}

	cfg := &Config{}
	for _, k := range keys {
		if k.Default != "" {
			if err := k.Set(cfg, k.Default); err != nil {
				return nil, fmt.Errorf("default of %w", err) // a bug in the tags
			}
		}
	}

	file := *configFile
	if file == "" {
		file, _ = env(EnvPrefix + "CONFIG")
	}
	if file != "" {
		if err := decodeFile(cfg, file); err != nil {
			return nil, err
		}
	}

	for _, k := range keys {
		if v, ok := env(k.Env); ok {
			if err := k.Set(cfg, v); err != nil {
				return nil, fmt.Errorf("environment %s: %w", k.Env, err)
			}
		}
	}

	var flagErr error
	fs.Visit(func(f *flag.Flag) {
		for _, k := range keys {
			if k.Path == f.Name {
				if err := k.Set(cfg, *flagValues[k.Path]); err != nil {
					flagErr = errors.Join(flagErr, fmt.Errorf("flag -%w", err))
				}
			}
		}
	})
	if flagErr != nil {
		return nil, flagErr
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("invalid configuration:\n%w", err)
	}
	return cfg, nil
}

func decodeFile(cfg *Config, file string) error {
	b, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("config file: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true) // a misspelt key is an error, not a silent default
	if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("config file %s: %w", file, err)
	}
	return nil
}

// WriteUsage documents every key: flag, variable, type, default and meaning.
func WriteUsage(w io.Writer) {
	fmt.Fprintf(w, "Usage: edge [-config FILE] [-key value ...]\n\n")
	fmt.Fprintf(w, "Every key of the YAML file is also a flag and an environment variable.\n")
	fmt.Fprintf(w, "Precedence: flag > environment > file > default.\n\n")
	fmt.Fprintf(w, "  -config FILE\n        YAML configuration file (also %sCONFIG)\n", EnvPrefix)
	for _, k := range Keys() {
		fmt.Fprintf(w, "  -%s %s    (%s)\n", k.Path, k.Type, k.Env)
		usage := k.Usage
		if k.Default != "" {
			usage += fmt.Sprintf(" (default %q)", k.Default)
		}
		fmt.Fprintf(w, "        %s\n", strings.TrimSpace(usage))
	}
	fmt.Fprintf(w, "\nExample file:\n%s", exampleYAML)
}

const exampleYAML = `  node: {id: a1, region: local, zone: a}
  srt: {listen: "127.0.0.1:9000"}
  http: {listen: "127.0.0.1:8080"}
  streams:
    - {name: cam1, passphrase: "correct-horse-battery"}
    - {name: cam2, passphrase: "second-camera-pass"}
`
