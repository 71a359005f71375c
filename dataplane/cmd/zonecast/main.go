// Command zonecast is the operator's CLI over the control API of a node's
// admin listener:
//
//	zonecast streams create NAME [-passphrase P] [-backup-passphrase P] [-ladder L] [-record] [-latency low|standard] [-label k=v]...
//	zonecast streams list [-limit N]
//	zonecast streams get NAME
//	zonecast streams update NAME [-backup-passphrase P] [-ladder L] [-record=BOOL] [-latency L] [-label k=v]... [-version N]
//	zonecast streams delete NAME
//	zonecast streams rotate NAME [-passphrase P]
//
// Every command takes -api URL (or $ZONECAST_API; default
// http://127.0.0.1:9090), -token T (or $ZONECAST_TOKEN: admin.token) and
// -o text|json. Output is for people; -o json prints the API's answer.
package main

import (
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}
