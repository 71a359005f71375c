package chaos

import (
	"fmt"

	"github.com/zonecast/zonecast/dataplane/e2e/testkit"
)

// freePort returns a port free for both TCP and UDP on loopback.
func freePort(ip string) (int, error) { return testkit.FreeDualPort(ip) }

func addr(ip string, port int) string { return fmt.Sprintf("%s:%d", ip, port) }
