package rehearse

import (
	"slices"
	"testing"
)

// TestParseEnvironmentFile reads values the way systemd does for the
// quoting provision's EnvFile writes (double quotes, backslash escapes).
func TestParseEnvironmentFile(t *testing.T) {
	cases := []struct {
		name, text string
		want       []string
		fails      bool
	}{
		{"plain and quoted", "# comment\nA=1\nB=\"two words\"\n\n", []string{"A=1", "B=two words"}, false},
		{"escapes", `P="a\"b\\c"`, []string{`P=a"b\c`}, false},
		{"empty value", `E=""`, []string{"E="}, false},
		{"not an assignment", "JUNK", nil, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseEnvironmentFile(c.text)
			if (err != nil) != c.fails {
				t.Fatalf("error %v, want failure %v", err, c.fails)
			}
			if !c.fails && !slices.Equal(got, c.want) {
				t.Fatalf("got %q, want %q", got, c.want)
			}
		})
	}
}

// TestUnitFromBootScript finds the edge unit in a boot script's
// here-document and reads its service settings.
func TestUnitFromBootScript(t *testing.T) {
	script := "#!/bin/bash\ncat > /etc/systemd/system/zonecast-edge.service <<'UNIT'\n[Unit]\nDescription=x\n[Service]\n" +
		"User=zonecast\nEnvironmentFile=/etc/zonecast/edge.env\nEnvironment=A=b\nExecStart=/usr/local/bin/edge\n" +
		"AmbientCapabilities=CAP_NET_BIND_SERVICE\nLimitNOFILE=1048576\nTimeoutStopSec=70\n[Install]\nWantedBy=multi-user.target\nUNIT\necho done\n"
	body, err := heredoc(script, "/etc/systemd/system/zonecast-edge.service")
	if err != nil {
		t.Fatal(err)
	}
	u, err := parseUnit(body)
	if err != nil {
		t.Fatal(err)
	}
	want := Unit{User: "zonecast", EnvironmentFile: "/etc/zonecast/edge.env", Environment: []string{"A=b"}, ExecStart: "/usr/local/bin/edge",
		Capabilities: []string{"net_bind_service"}, LimitNOFILE: "1048576", TimeoutStopSec: "70"}
	if u.User != want.User || u.EnvironmentFile != want.EnvironmentFile || !slices.Equal(u.Environment, want.Environment) ||
		u.ExecStart != want.ExecStart || !slices.Equal(u.Capabilities, want.Capabilities) || u.LimitNOFILE != want.LimitNOFILE || u.TimeoutStopSec != want.TimeoutStopSec {
		t.Fatalf("unit %+v, want %+v", u, want)
	}
	if _, err := heredoc(script, "/etc/missing"); err == nil {
		t.Fatal("a file the script does not write was found")
	}
}

// TestBootScriptAppends reads the lines the boot script appends to the
// environment file and the directories it makes for the unit's user, as
// provision/zone renders them.
func TestBootScriptAppends(t *testing.T) {
	script := "install -d -m 0700 -o zonecast /var/lib/zonecast/spool\n" +
		"echo \"ZONECAST_NODE_ID=\\\"$INSTANCE_ID\\\"\" >> /etc/zonecast/edge.env\n" +
		"echo \"ZONECAST_ADMIN_LISTEN=\\\"$PRIVATE_IP:9090\\\"\" >> /etc/zonecast/edge.env\n" +
		"echo \"$PRIVATE_IP:9090\" > /etc/zonecast/admin-address\n"
	appends, dirs, err := bootScriptEdits(script, "/etc/zonecast/edge.env")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{`ZONECAST_NODE_ID="$INSTANCE_ID"`, `ZONECAST_ADMIN_LISTEN="$PRIVATE_IP:9090"`}; !slices.Equal(appends, want) {
		t.Errorf("appends %q, want %q", appends, want)
	}
	if len(dirs) != 1 || dirs["/var/lib/zonecast/spool"] != 0o700 {
		t.Errorf("directories %v, want the spool at 0700", dirs)
	}
}
