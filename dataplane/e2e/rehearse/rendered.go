// Package rehearse runs what `make render` wrote for a region stack's nodes
// (provision/cmd/zonecast-render) on this machine: each node in a network
// namespace of its own, its edge started as the rendered systemd unit says,
// its files where the rendered boot script puts them (under a temporary
// root), Redis with TLS and AUTH as ElastiCache is configured, and the
// rendered drain watcher driven by a stand-in instance metadata endpoint.
// Only what cannot exist here is substituted, and each substitution is
// logged (Substitution).
package rehearse

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// Zone is one zone's rendering: .cache/render/<stack>/<zone>/.
type Zone struct {
	Name     string // "zone-a"
	Dir      string
	UserData string
	// Env is the edge's environment file as the boot script writes it.
	Env string
	// Unit is the [Service] section of the edge's systemd unit.
	Unit Unit
	// Files are what the boot script copies from SSM: destination path →
	// content (the rendered parameter's value).
	Files map[string]string
	// DrainWatch is the drain watcher script the boot script installs.
	DrainWatch string
	// PinnedVersion is the edge release the boot script requires.
	PinnedVersion string
	// Appends are the lines the boot script appends to the environment
	// file, with the shell variables it expands ($INSTANCE_ID,
	// $PRIVATE_IP) still in them.
	Appends []string
	// Dirs are the directories the boot script makes for the unit's user
	// (path → mode), e.g. the recording spool.
	Dirs map[string]os.FileMode
}

// Unit is the edge unit's service settings.
type Unit struct {
	User            string
	EnvironmentFile string
	Environment     []string // KEY=VALUE
	ExecStart       string
	Capabilities    []string // AmbientCapabilities, lower case without cap_
	LimitNOFILE     string
	KillSignal      string
	TimeoutStopSec  string
}

var (
	ssmCopy = regexp.MustCompile(`(?m)^ssm '([^']+)' > (\S+)$`)
	envLine = regexp.MustCompile(`(?m)^echo "(ZONECAST_[A-Z_]+=.*)" >> (\S+)$`)
	userDir = regexp.MustCompile(`(?m)^install -d -m (0[0-7]+) -o \S+ (\S+)$`)
	pin     = regexp.MustCompile(`the stack pins (\S+)"`)
)

// LoadZone reads one zone's rendering.
func LoadZone(dir string) (*Zone, error) {
	z := &Zone{Name: filepath.Base(dir), Dir: dir, Files: map[string]string{}}
	ud, err := os.ReadFile(filepath.Join(dir, "user-data.sh"))
	if err != nil {
		return nil, fmt.Errorf("%w (run `make render STACK=<region stack>` first)", err)
	}
	z.UserData = string(ud)
	env, err := os.ReadFile(filepath.Join(dir, "edge.env"))
	if err != nil {
		return nil, err
	}
	z.Env = string(env)
	for _, m := range ssmCopy.FindAllStringSubmatch(z.UserData, -1) {
		v, err := os.ReadFile(filepath.Join(dir, "ssm", m[1]))
		if err != nil {
			return nil, fmt.Errorf("the boot script reads %s, which the rendering lacks: %w", m[1], err)
		}
		z.Files[m[2]] = string(v)
	}
	unit, err := heredoc(z.UserData, "/etc/systemd/system/zonecast-edge.service")
	if err != nil {
		return nil, err
	}
	if z.Unit, err = parseUnit(unit); err != nil {
		return nil, err
	}
	if z.DrainWatch, err = heredoc(z.UserData, "/usr/local/lib/zonecast/drain-watch"); err != nil {
		return nil, err
	}
	if m := pin.FindStringSubmatch(z.UserData); m != nil {
		z.PinnedVersion = m[1]
	}
	if z.Appends, z.Dirs, err = bootScriptEdits(z.UserData, z.Unit.EnvironmentFile); err != nil {
		return nil, err
	}
	if z.Files[z.Unit.EnvironmentFile] != z.Env {
		return nil, fmt.Errorf("%s: the boot script does not write edge.env to the unit's EnvironmentFile %s", z.Name, z.Unit.EnvironmentFile)
	}
	return z, nil
}

// bootScriptEdits are the lines script appends to envFile (shell
// variables unexpanded) and the directories it makes for the unit's user.
func bootScriptEdits(script, envFile string) (appends []string, dirs map[string]os.FileMode, err error) {
	for _, m := range envLine.FindAllStringSubmatch(script, -1) {
		if m[2] == envFile {
			appends = append(appends, strings.ReplaceAll(m[1], `\"`, `"`))
		}
	}
	dirs = map[string]os.FileMode{}
	for _, m := range userDir.FindAllStringSubmatch(script, -1) {
		mode, err := strconv.ParseUint(m[1], 8, 32)
		if err != nil {
			return nil, nil, err
		}
		dirs[m[2]] = os.FileMode(mode)
	}
	return appends, dirs, nil
}

// heredoc is the body of `cat > target <<'END' … END` in script.
func heredoc(script, target string) (string, error) {
	start := strings.Index(script, "cat > "+target+" <<'")
	if start < 0 {
		return "", fmt.Errorf("the boot script does not write %s", target)
	}
	line := script[start:]
	nl := strings.IndexByte(line, '\n')
	marker := strings.TrimSuffix(line[strings.Index(line, "<<'")+3:nl], "'")
	body := line[nl+1:]
	end := strings.Index(body, "\n"+marker+"\n")
	if end < 0 {
		return "", fmt.Errorf("the here-document of %s does not end", target)
	}
	return body[:end+1], nil
}

func parseUnit(text string) (Unit, error) {
	var u Unit
	section := ""
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "[") {
			section = line
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || section != "[Service]" {
			continue
		}
		switch k {
		case "User":
			u.User = v
		case "EnvironmentFile":
			u.EnvironmentFile = v
		case "Environment":
			u.Environment = append(u.Environment, v)
		case "ExecStart":
			u.ExecStart = v
		case "AmbientCapabilities":
			for _, c := range strings.Fields(v) {
				u.Capabilities = append(u.Capabilities, strings.TrimPrefix(strings.ToLower(c), "cap_"))
			}
		case "LimitNOFILE":
			u.LimitNOFILE = v
		case "KillSignal":
			u.KillSignal = v
		case "TimeoutStopSec":
			u.TimeoutStopSec = v
		}
	}
	if u.User == "" || u.EnvironmentFile == "" || u.ExecStart == "" {
		return u, fmt.Errorf("the edge unit lacks User, EnvironmentFile or ExecStart:\n%s", text)
	}
	return u, nil
}

// ParseEnvironmentFile reads a systemd EnvironmentFile: KEY="value" lines
// (backslash escapes inside double quotes), comments and blank lines.
func ParseEnvironmentFile(text string) ([]string, error) {
	var out []string
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("environment file line %d: %q is not KEY=VALUE", i+1, line)
		}
		if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
			var b strings.Builder
			for j := 1; j < len(v)-1; j++ {
				if v[j] == '\\' && j+1 < len(v)-1 {
					j++
				}
				b.WriteByte(v[j])
			}
			v = b.String()
		}
		out = append(out, k+"="+v)
	}
	return out, nil
}

// envValue is key's value in an environment file ("" when unset).
func envValue(env, key string) string {
	vars, _ := ParseEnvironmentFile(env)
	for _, kv := range vars {
		if k, v, _ := strings.Cut(kv, "="); k == key {
			return v
		}
	}
	return ""
}
