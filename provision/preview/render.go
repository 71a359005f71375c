package preview

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"

	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"github.com/zonecast/zonecast/provision/zone"
)

// Node is what the Pulumi program renders for one zone's nodes: the boot
// script of its launch template and every SSM parameter that script reads.
type Node struct {
	// Zone is the zone component's name ("zone-a").
	Zone string
	// UserData is the launch template's user data, decoded.
	UserData string
	// ConfigParameter names the parameter holding the edge's environment
	// file (the script copies it to /etc/zonecast/edge.env).
	ConfigParameter string
	// Parameters are the parameters the script reads that the stack
	// creates, by name, with their values.
	Parameters map[string]string
	// External are the parameters the script reads that the stack does not
	// create: the operator puts them there by hand (the HTTPS certificate
	// and key).
	External []string
}

// ssmRead is how the boot script reads a parameter: ssm '<name>'.
var ssmRead = regexp.MustCompile(`(?m)\bssm '([^']+)'`)

// ParametersRead lists the SSM parameters a boot script reads, in order.
func ParametersRead(userData string) []string {
	var out []string
	for _, m := range ssmRead.FindAllStringSubmatch(userData, -1) {
		out = append(out, m[1])
	}
	return out
}

// Render runs `up` of a region stack in the temporary backend against the
// stand-in provider (which invents what AWS would compute: endpoints,
// names, ids) with the deployment's secrets at test values, and reads back
// from the stack's state what each zone's nodes get: the rendered values,
// not a copy of the templates, so anything the program changes shows.
func Render(ctx context.Context, opts Options) ([]Node, error) {
	h, st, cleanup, err := prepare(ctx, opts)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	if _, err := st.Up(ctx, optup.ProgressStreams(h.opts.Progress), optup.SuppressProgress()); err != nil {
		return nil, fmt.Errorf("render: `up` of %s against the stand-in provider: %w", st.Name(), err)
	}
	// The workspace exports with --show-secrets: the test values in clear.
	dep, err := st.Export(ctx)
	if err != nil {
		return nil, fmt.Errorf("render: export of %s: %w", st.Name(), err)
	}
	var state struct {
		Resources []struct {
			URN    string         `json:"urn"`
			Type   string         `json:"type"`
			Parent string         `json:"parent"`
			Inputs map[string]any `json:"inputs"`
		} `json:"resources"`
	}
	if err := json.Unmarshal(dep.Deployment, &state); err != nil {
		return nil, fmt.Errorf("render: the state of %s: %w", st.Name(), err)
	}
	params := map[string]string{}
	byZone := map[string]*Node{}
	for _, r := range state.Resources {
		if r.Type == zone.Type {
			byZone[r.URN] = &Node{Zone: resource.URN(r.URN).Name(), Parameters: map[string]string{}}
		}
	}
	for _, r := range state.Resources {
		switch r.Type {
		case "aws:ssm/parameter:Parameter":
			name, _ := plain(r.Inputs["name"]).(string)
			value, _ := plain(r.Inputs["value"]).(string)
			params[name] = value
			if n := byZone[r.Parent]; n != nil {
				n.ConfigParameter = name
			}
		case "aws:ec2/launchTemplate:LaunchTemplate":
			n := byZone[r.Parent]
			if n == nil {
				continue
			}
			encoded, _ := plain(r.Inputs["userData"]).(string)
			raw, err := base64.StdEncoding.DecodeString(encoded)
			if err != nil {
				return nil, fmt.Errorf("render: the user data of %s: %w", n.Zone, err)
			}
			n.UserData = string(raw)
		}
	}
	var out []Node
	for _, n := range byZone {
		if n.UserData == "" || n.ConfigParameter == "" {
			return nil, fmt.Errorf("render: zone %s has no launch template user data or edge parameter in the state", n.Zone)
		}
		for _, name := range ParametersRead(n.UserData) {
			if v, ok := params[name]; ok {
				n.Parameters[name] = v
			} else {
				n.External = append(n.External, name)
			}
		}
		if _, ok := n.Parameters[n.ConfigParameter]; !ok {
			return nil, fmt.Errorf("render: zone %s's boot script does not read its edge parameter %s", n.Zone, n.ConfigParameter)
		}
		out = append(out, *n)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("render: stack %s has no zones (a region stack is needed, not a global one)", st.Name())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Zone < out[j].Zone })
	return out, nil
}

// plain unwraps an exported secret ({sig: secret, plaintext: JSON}).
func plain(v any) any {
	m, ok := v.(map[string]any)
	if !ok || m[resource.SigKey] != resource.SecretSig {
		return v
	}
	text, _ := m["plaintext"].(string)
	var out any
	if err := json.Unmarshal([]byte(text), &out); err != nil {
		return nil
	}
	return out
}
