package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// defaultAPI is the admin listener of `make run`'s node.
const defaultAPI = "http://127.0.0.1:9090"

const usage = `usage: zonecast streams <command> [flags] [NAME]

commands:
  create NAME   create a stream; prints its passphrase and publish URL
  list          list the streams with their live state
  get NAME      one stream
  update NAME   change settings (only the flags given)
  delete NAME   delete a stream
  rotate NAME   set a new passphrase; prints it

flags of every command:
  -api URL      the control API ($ZONECAST_API, default ` + defaultAPI + `)
  -token T      admin.token ($ZONECAST_TOKEN)
  -o FORMAT     text (default) or json
`

// client is one command's connection to the API.
type client struct {
	api    string
	token  string
	json   bool
	http   *http.Client
	stdout io.Writer
}

// run is the whole CLI; it returns the exit status (0 ok, 1 refused or
// failed, 2 usage).
func run(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) < 2 || args[0] != "streams" {
		fmt.Fprint(stderr, usage)
		return 2
	}
	verb, rest := args[1], args[2:]
	fs := flag.NewFlagSet("zonecast streams "+verb, flag.ContinueOnError)
	fs.SetOutput(stderr)
	api := fs.String("api", orDefault(getenv("ZONECAST_API"), defaultAPI), "control API base URL")
	token := fs.String("token", getenv("ZONECAST_TOKEN"), "admin.token")
	format := fs.String("o", "text", "output: text or json")
	var s settings
	switch verb {
	case "create":
		fs.StringVar(&s.passphrase, "passphrase", "", "publish passphrase (default: generated, 32 characters)")
		s.flags(fs)
	case "update":
		s.flags(fs)
		fs.Int64Var(&s.version, "version", 0, "change only if the stream is at this version")
	case "rotate":
		fs.StringVar(&s.passphrase, "passphrase", "", "new passphrase (default: generated)")
	case "list":
		fs.IntVar(&s.limit, "limit", 0, "at most this many (default: all)")
	case "get", "delete":
	default:
		fmt.Fprintf(stderr, "zonecast: unknown command %q\n%s", verb, usage)
		return 2
	}
	// Flags may come before or after the name.
	var names []string
	for {
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return 0
			}
			return 2
		}
		if fs.NArg() == 0 {
			break
		}
		names = append(names, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	wantName := verb != "list"
	if (wantName && len(names) != 1) || (!wantName && len(names) != 0) {
		fmt.Fprintf(stderr, "zonecast: %s takes %s\n%s", verb, map[bool]string{true: "one stream name", false: "no name"}[wantName], usage)
		return 2
	}
	if *format != "text" && *format != "json" {
		fmt.Fprintf(stderr, "zonecast: -o %q: want text or json\n", *format)
		return 2
	}
	c := &client{api: strings.TrimSuffix(*api, "/"), token: *token, json: *format == "json",
		http: &http.Client{Timeout: 30 * time.Second}, stdout: stdout}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var err error
	switch verb {
	case "create":
		err = c.create(names[0], s)
	case "list":
		err = c.list(s.limit)
	case "get":
		err = c.get(names[0])
	case "update":
		err = c.update(names[0], s, set)
	case "delete":
		err = c.delete(names[0])
	case "rotate":
		err = c.rotate(names[0], s.passphrase)
	}
	if err != nil {
		fmt.Fprintf(stderr, "zonecast: %v\n", err)
		return 1
	}
	return 0
}

func orDefault(v, d string) string {
	if v == "" {
		return d
	}
	return v
}

// settings are the stream flags of create and update.
type settings struct {
	passphrase, backup, ladder, latency string
	record                              bool
	labels                              labelFlag
	version                             int64
	limit                               int
}

func (s *settings) flags(fs *flag.FlagSet) {
	fs.StringVar(&s.backup, "backup-passphrase", "", "passphrase of the backup encoder (\"\" on update removes it)")
	fs.StringVar(&s.ladder, "ladder", "", "transcoding ladder profile")
	fs.BoolVar(&s.record, "record", false, "record the stream")
	fs.StringVar(&s.latency, "latency", "", "low (LL-HLS) or standard (classic HLS)")
	fs.Var(&s.labels, "label", "label key=value (repeatable; on update replaces all labels)")
}

// labelFlag collects -label key=value.
type labelFlag map[string]string

func (l *labelFlag) String() string { return fmt.Sprint(map[string]string(*l)) }
func (l *labelFlag) Set(v string) error {
	k, val, ok := strings.Cut(v, "=")
	if !ok || k == "" {
		return fmt.Errorf("want key=value, got %q", v)
	}
	if *l == nil {
		*l = labelFlag{}
	}
	(*l)[k] = val
	return nil
}

func (c *client) create(name string, s settings) error {
	body := map[string]any{"name": name}
	if s.passphrase != "" {
		body["passphrase"] = s.passphrase
	}
	if s.backup != "" {
		body["backup_passphrase"] = s.backup
	}
	if s.ladder != "" {
		body["ladder"] = s.ladder
	}
	if s.latency != "" {
		body["latency"] = s.latency
	}
	if s.record {
		body["record"] = true
	}
	if len(s.labels) > 0 {
		body["labels"] = s.labels
	}
	var out map[string]any
	raw, err := c.do(http.MethodPost, "/api/v1/streams", body, &out)
	if err != nil {
		return err
	}
	return c.show(raw, func(w io.Writer) { printSecrets(w, "created", out) })
}

func (c *client) list(limit int) error {
	path := "/api/v1/streams"
	if limit > 0 {
		path += "?limit=" + fmt.Sprint(limit)
	}
	var rows []map[string]any
	raw, err := c.do(http.MethodGet, path, nil, &rows)
	if err != nil {
		return err
	}
	return c.show(raw, func(w io.Writer) {
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tSTATE\tLEADER\tSTANDBY\tLATENCY\tLADDER\tRECORD\tVERSION")
		for _, r := range rows {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", field(r, "name"), orDash(field(r, "state")), orDash(field(r, "leader")),
				orDash(field(r, "standby")), orDash(field(r, "latency")), orDash(field(r, "ladder")), field(r, "record"), field(r, "version"))
		}
		tw.Flush()
	})
}

func (c *client) get(name string) error {
	var out map[string]any
	raw, err := c.do(http.MethodGet, "/api/v1/streams/"+url.PathEscape(name), nil, &out)
	if err != nil {
		return err
	}
	return c.show(raw, func(w io.Writer) { printStream(w, out) })
}

func (c *client) update(name string, s settings, set map[string]bool) error {
	body := map[string]any{}
	if set["backup-passphrase"] {
		body["backup_passphrase"] = s.backup
	}
	if set["ladder"] {
		body["ladder"] = s.ladder
	}
	if set["record"] {
		body["record"] = s.record
	}
	if set["latency"] {
		body["latency"] = s.latency
	}
	if set["label"] {
		body["labels"] = s.labels
	}
	if set["version"] {
		body["version"] = s.version
	}
	if len(body) == 0 || (len(body) == 1 && set["version"]) {
		return errors.New("update: nothing to change (give -ladder, -record, -latency, -backup-passphrase or -label)")
	}
	var out map[string]any
	raw, err := c.do(http.MethodPatch, "/api/v1/streams/"+url.PathEscape(name), body, &out)
	if err != nil {
		return err
	}
	return c.show(raw, func(w io.Writer) { fmt.Fprintf(w, "updated %s\n", name); printStream(w, out) })
}

func (c *client) delete(name string) error {
	if _, err := c.do(http.MethodDelete, "/api/v1/streams/"+url.PathEscape(name), nil, nil); err != nil {
		return err
	}
	if c.json {
		fmt.Fprintf(c.stdout, "{\"deleted\": %q}\n", name)
		return nil
	}
	fmt.Fprintf(c.stdout, "deleted %s\n", name)
	return nil
}

func (c *client) rotate(name, passphrase string) error {
	var body any
	if passphrase != "" {
		body = map[string]any{"passphrase": passphrase}
	}
	var out map[string]any
	raw, err := c.do(http.MethodPost, "/api/v1/streams/"+url.PathEscape(name)+"/rotate", body, &out)
	if err != nil {
		return err
	}
	return c.show(raw, func(w io.Writer) { printSecrets(w, "rotated", out) })
}

// show prints the API's answer as it is (-o json) or as text.
func (c *client) show(raw []byte, text func(io.Writer)) error {
	if c.json {
		_, err := c.stdout.Write(raw)
		return err
	}
	text(c.stdout)
	return nil
}

// apiError is an error answer of the API.
type apiError struct {
	Status int
	Msg    string `json:"error"`
	Field  string `json:"field"`
}

func (e *apiError) Error() string {
	msg := fmt.Sprintf("%d %s: %s", e.Status, http.StatusText(e.Status), e.Msg)
	if e.Field != "" {
		msg += " (field " + e.Field + ")"
	}
	if e.Status == http.StatusUnauthorized {
		msg += "; give the admin token with -token or $ZONECAST_TOKEN"
	}
	return msg
}

// do sends one request; a non-2xx answer is an *apiError.
func (c *client) do(method, path string, body any, into any) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.api+path, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		e := &apiError{Status: resp.StatusCode}
		if json.Unmarshal(raw, e) != nil || e.Msg == "" {
			e.Msg = strings.TrimSpace(string(raw))
		}
		return nil, e
	}
	if into != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, into); err != nil {
			return nil, fmt.Errorf("unexpected answer from %s: %v", c.api, err)
		}
	}
	return raw, nil
}

func field(m map[string]any, k string) string {
	v, ok := m[k]
	if !ok || v == nil {
		return ""
	}
	if f, ok := v.(float64); ok {
		return fmt.Sprint(int64(f))
	}
	return fmt.Sprint(v)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// printStream prints a stream's settings and live state, one per line.
func printStream(w io.Writer, s map[string]any) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, k := range []string{"name", "state", "leader", "standby", "publisher", "bitrate", "latency", "ladder", "record", "encrypted", "backup", "version", "created", "updated"} {
		if v := field(s, k); v != "" {
			fmt.Fprintf(tw, "%s:\t%s\n", k, v)
		}
	}
	if labels, ok := s["labels"].(map[string]any); ok && len(labels) > 0 {
		keys := make([]string, 0, len(labels))
		for k := range labels {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(tw, "label:\t%s=%v\n", k, labels[k])
		}
	}
	if urls, ok := s["urls"].(map[string]any); ok {
		if v, ok := urls["playback"].(string); ok {
			fmt.Fprintf(tw, "playback:\t%s\n", v)
		}
	}
	tw.Flush()
}

// printSecrets prints what a create or rotate hands out: the passphrases
// and the URLs carrying them.
func printSecrets(w io.Writer, what string, s map[string]any) {
	fmt.Fprintf(w, "%s %s\n", what, field(s, "name"))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "passphrase:\t%s\n", field(s, "passphrase"))
	if v := field(s, "backup_passphrase"); v != "" {
		fmt.Fprintf(tw, "backup passphrase:\t%s\n", v)
	}
	if urls, ok := s["urls"].(map[string]any); ok {
		for _, k := range []string{"publish", "publish_backup", "playback"} {
			if v, ok := urls[k].(string); ok {
				fmt.Fprintf(tw, "%s:\t%s\n", strings.ReplaceAll(k, "_", " "), v)
			}
		}
	}
	tw.Flush()
}
