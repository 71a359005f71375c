package analyzer

import (
	"context"
	"log/slog"
	"sync"
	"time"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// engineLog sends log lines back to the engine that started the plugin, at
// the address it passed on the command line or in Handshake. Logging is
// best effort: a failure never fails an analysis.
type engineLog struct {
	log *slog.Logger

	mu     sync.Mutex
	addr   string
	conn   *grpc.ClientConn
	client pulumirpc.EngineClient
}

func newEngineLog(log *slog.Logger, addr string) *engineLog {
	return &engineLog{log: log, addr: addr}
}

func (e *engineLog) setAddress(addr string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if addr == e.addr {
		return
	}
	if e.conn != nil {
		_ = e.conn.Close()
		e.conn, e.client = nil, nil
	}
	e.addr = addr
}

func (e *engineLog) engine() pulumirpc.EngineClient {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.client != nil || e.addr == "" {
		return e.client
	}
	conn, err := grpc.NewClient(e.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		e.log.Debug("engine address unusable", "addr", e.addr, "err", err)
		e.addr = ""
		return nil
	}
	e.conn, e.client = conn, pulumirpc.NewEngineClient(conn)
	return e.client
}

// debug logs a debug line to the engine (shown with -v or --debug).
func (e *engineLog) debug(msg string) {
	e.log.Debug(msg)
	client := e.engine()
	if client == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if _, err := client.Log(ctx, &pulumirpc.LogRequest{Severity: pulumirpc.LogSeverity_DEBUG, Message: msg}); err != nil {
		e.log.Debug("engine log failed", "err", err)
	}
}

func (e *engineLog) close() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.conn != nil {
		_ = e.conn.Close()
	}
}
