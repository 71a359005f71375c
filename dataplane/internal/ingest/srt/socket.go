package srt

import (
	"net"
	"reflect"
	"unsafe"

	gosrt "github.com/datarhei/gosrt"
)

// setReceiveBuffer enlarges the listener's UDP receive buffer. Every
// publisher shares this one socket: at 64 × 2.5 Mb/s, the kernel's default
// (~200 KB) overflows on simultaneous keyframes and SRT has to retransmit
// tens of thousands of packets (measured in docs/benchmarks.md). gosrt
// v0.9.0 neither sets SO_RCVBUF nor exposes its socket, so the socket is
// reached through the listener's unexported field; if a gosrt upgrade
// renames it, this reports false and the default buffer stays.
func setReceiveBuffer(ln gosrt.Listener, bytes int) bool {
	v := reflect.ValueOf(ln)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return false
	}
	f := v.Elem().FieldByName("pc")
	if !f.IsValid() || f.Type() != reflect.TypeOf((*net.UDPConn)(nil)) {
		return false
	}
	pc := *(**net.UDPConn)(unsafe.Pointer(f.UnsafeAddr()))
	if pc == nil {
		return false
	}
	return pc.SetReadBuffer(bytes) == nil
}
