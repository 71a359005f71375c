package chaos

import (
	"fmt"
	"net"
)

// freePort returns a port free for both TCP and UDP on loopback (SRT and
// QUIC are UDP, HTTP is TCP; HTTP/3 would use UDP on the HTTP port).
func freePort() (int, error) {
	for i := 0; i < 50; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port))
		l.Close()
		if err != nil {
			continue
		}
		u.Close()
		return port, nil
	}
	return 0, fmt.Errorf("no port free for both TCP and UDP")
}

func addr(port int) string { return fmt.Sprintf("127.0.0.1:%d", port) }
