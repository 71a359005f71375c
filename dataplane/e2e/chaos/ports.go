package chaos

import (
	"fmt"
	"net"
)

// freePort returns a port free for both TCP and UDP on loopback (SRT and
// QUIC are UDP, HTTP is TCP; HTTP/3 would use UDP on the HTTP port).
func freePort(ip string) (int, error) {
	for i := 0; i < 50; i++ {
		l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
		if err != nil {
			return 0, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket("udp", fmt.Sprintf("%s:%d", ip, port))
		l.Close()
		if err != nil {
			continue
		}
		u.Close()
		return port, nil
	}
	return 0, fmt.Errorf("no port free for both TCP and UDP")
}

func addr(ip string, port int) string { return fmt.Sprintf("%s:%d", ip, port) }
