package testkit

import (
	"fmt"
	"os"
	"path/filepath"
)

// AppendFigure adds line to the file named by the environment variable
// env (CHAOS_OUT, ENCODERS_OUT: the figures a make target collects into a
// table); unset, it does nothing. A figure that cannot be written is not
// worth failing a measurement for.
func AppendFigure(env, line string) {
	p := os.Getenv(env)
	if p == "" {
		return
	}
	_ = os.MkdirAll(filepath.Dir(p), 0o755)
	f, err := os.OpenFile(p, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	fmt.Fprintln(f, line)
}
