package testkit

import (
	"fmt"
	"net"
)

// FreePort asks the kernel for an unused TCP port on host.
func FreePort(host string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// FreeDualPort returns a port free for both TCP and UDP on host: an edge
// listens on both (SRT and QUIC are UDP, HTTP is TCP, HTTP/3 is UDP on the
// HTTP port).
func FreeDualPort(host string) (int, error) {
	for i := 0; i < 50; i++ {
		port, err := FreePort(host)
		if err != nil {
			return 0, err
		}
		u, err := net.ListenPacket("udp", net.JoinHostPort(host, fmt.Sprint(port)))
		if err != nil {
			continue
		}
		u.Close()
		return port, nil
	}
	return 0, fmt.Errorf("no port free for both TCP and UDP on %s", host)
}
