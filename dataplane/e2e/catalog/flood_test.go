package catalog_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"sync/atomic"
	"time"

	gosrt "github.com/datarhei/gosrt"
	"github.com/datarhei/gosrt/packet"
)

// floodStats counts a raw flood's handshakes.
type floodStats struct {
	inductions  atomic.Int64 // sent
	conclusions atomic.Int64 // sent, each naming a new random stream
	rejections  atomic.Int64 // answered with a rejection
}

// floodRaw makes SRT handshakes for random stream names at perSecond from
// one UDP socket until ctx ends: an induction, and on its answer a
// conclusion (HSv5, with the streamid) that the listener must look up.
// Written on gosrt's packet codec rather than with gosrt.Dial, whose
// per-connection set-up caps a test at a few hundred handshakes a second
// on a shared machine, far below the 10,000/s a flood must be tested at.
func floodRaw(ctx context.Context, addr string, perSecond int) (*floodStats, error) {
	raddr, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, err
	}
	conn, err := net.DialUDP("udp", nil, raddr)
	if err != nil {
		return nil, err
	}
	_ = conn.SetReadBuffer(8 << 20)
	st := &floodStats{}
	start := time.Now()
	send := func(cif *packet.CIFHandshake) {
		p := packet.NewPacket(raddr)
		h := p.Header()
		h.IsControlPacket, h.ControlType = true, packet.CTRLTYPE_HANDSHAKE
		h.Timestamp = uint32(time.Since(start).Microseconds())
		p.MarshalCIF(cif)
		var b bytes.Buffer
		if p.Marshal(&b) == nil {
			_, _ = conn.Write(b.Bytes())
		}
	}
	local := conn.LocalAddr()
	go func() {
		buf := make([]byte, 1500)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				return
			}
			p, err := packet.NewPacketFromData(raddr, buf[:n])
			if err != nil || !p.Header().IsControlPacket || p.Header().ControlType != packet.CTRLTYPE_HANDSHAKE {
				continue
			}
			cif := &packet.CIFHandshake{}
			if p.UnmarshalCIF(cif) != nil {
				continue
			}
			switch {
			case cif.HandshakeType == packet.HSTYPE_INDUCTION && cif.Version == 5:
				id := p.Header().DestinationSocketId
				cif.IsRequest = true
				cif.HandshakeType = packet.HSTYPE_CONCLUSION
				cif.SRTSocketId = id
				cif.PeerIP.FromNetAddr(local)
				cif.HasHS = true
				cif.SRTHS = &packet.CIFHandshakeExtension{
					SRTVersion: 0x010401,
					SRTFlags: packet.CIFHandshakeExtensionFlags{TSBPDSND: true, TSBPDRCV: true, CRYPT: true,
						TLPKTDROP: true, PERIODICNAK: true, REXMITFLG: true},
					RecvTSBPDDelay: 120, SendTSBPDDelay: 120,
				}
				cif.HasSID = true
				cif.StreamId = fmt.Sprintf("publish:flood-%d-%d", id, time.Now().UnixNano())
				send(cif)
				st.conclusions.Add(1)
			case cif.HandshakeType.IsRejection():
				st.rejections.Add(1)
			}
		}
	}()
	go func() {
		defer conn.Close()
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		var id uint32 = 1 << 20
		for sent := 0; ; {
			select {
			case <-ctx.Done():
				time.Sleep(200 * time.Millisecond) // the last answers
				return
			case <-tick.C:
			}
			due := int(time.Since(start).Seconds() * float64(perSecond))
			for ; sent < due; sent++ {
				id++
				cif := &packet.CIFHandshake{IsRequest: true, Version: 4, ExtensionField: 2, HandshakeType: packet.HSTYPE_INDUCTION,
					MaxTransmissionUnitSize: gosrt.DefaultConfig().MSS, MaxFlowWindowSize: gosrt.DefaultConfig().FC, SRTSocketId: id}
				cif.PeerIP.FromNetAddr(local)
				send(cif)
				st.inductions.Add(1)
			}
		}
	}()
	return st, nil
}
