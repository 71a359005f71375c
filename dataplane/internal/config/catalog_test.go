package config

import (
	"bytes"
	"strings"
	"testing"
)

// The three sections of the catalog contract, as the contract file writes them.
const catalogContractYAML = `admin: {listen: "127.0.0.1:9090", token: "an-admin-token"}
catalog:
  dynamodb: {table: zonecast-streams, region: local, endpoint: "http://127.0.0.1:8000", create_table: true}
events:
  webhook: {url: "http://127.0.0.1:9999/hook", secret: "a-webhook-secret"}
`

func TestCatalogContractFile(t *testing.T) {
	cases := []struct {
		name    string
		yaml    string
		streams int
	}{
		{"with the streams list", contractYAML + catalogContractYAML, 2},
		// A catalog replaces the list: no stream needs configuring.
		{"catalog alone", "node: {id: a1, region: local, zone: a}\n" + catalogContractYAML, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Load([]string{"-config", writeFile(t, tc.yaml)}, envOf(nil), &bytes.Buffer{})
			if err != nil {
				t.Fatal(err)
			}
			want := Catalog{DynamoDB: CatalogDynamoDB{Table: "zonecast-streams", Region: "local", Endpoint: "http://127.0.0.1:8000", CreateTable: true}}
			if cfg.Catalog != want {
				t.Errorf("catalog %+v, want %+v", cfg.Catalog, want)
			}
			if cfg.Admin != (Admin{Listen: "127.0.0.1:9090", Token: "an-admin-token"}) {
				t.Errorf("admin %+v", cfg.Admin)
			}
			if cfg.Events.Webhook != (EventsWebhook{URL: "http://127.0.0.1:9999/hook", Secret: "a-webhook-secret"}) {
				t.Errorf("events %+v", cfg.Events)
			}
			if len(cfg.Streams) != tc.streams {
				t.Errorf("%d streams, want %d", len(cfg.Streams), tc.streams)
			}
		})
	}
}

// Every key of the new sections is also a flag and a variable.
func TestCatalogFlagsAndEnv(t *testing.T) {
	cfg, err := Load([]string{"-catalog.dynamodb.table", "t-from-flag", "-admin.token", "flag-token"}, envOf(map[string]string{
		"ZONECAST_CATALOG_DYNAMODB_TABLE":        "t-from-env",
		"ZONECAST_CATALOG_DYNAMODB_REGION":       "eu-west-1",
		"ZONECAST_CATALOG_DYNAMODB_CREATE_TABLE": "true",
		"ZONECAST_ADMIN_LISTEN":                  "127.0.0.1:9090",
		"ZONECAST_EVENTS_WEBHOOK_URL":            "https://example.com/hook",
		"ZONECAST_EVENTS_WEBHOOK_SECRET":         "s3cret",
	}), &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Catalog.DynamoDB.Table != "t-from-flag" || cfg.Catalog.DynamoDB.Region != "eu-west-1" || !cfg.Catalog.DynamoDB.CreateTable {
		t.Errorf("catalog %+v", cfg.Catalog)
	}
	if cfg.Admin.Listen != "127.0.0.1:9090" || cfg.Admin.Token != "flag-token" {
		t.Errorf("admin %+v", cfg.Admin)
	}
	if cfg.Events.Webhook.URL != "https://example.com/hook" || cfg.Events.Webhook.Secret != "s3cret" {
		t.Errorf("events %+v", cfg.Events)
	}
	var help bytes.Buffer
	WriteUsage(&help)
	for _, k := range []string{"-admin.listen", "-admin.token", "-catalog.dynamodb.table", "-catalog.dynamodb.region", "-catalog.dynamodb.endpoint", "-catalog.dynamodb.create_table", "-events.webhook.url", "-events.webhook.secret"} {
		if !strings.Contains(help.String(), k+" ") {
			t.Errorf("edge -h does not document %s", k)
		}
	}
}

func TestCatalogSectionsValidate(t *testing.T) {
	cases := []struct {
		name    string
		err     error
		wantErr string
	}{
		{"empty catalog", Catalog{}.Validate(), ""},
		{"contract catalog", Catalog{DynamoDB: CatalogDynamoDB{Table: "zonecast-streams", Region: "local", Endpoint: "http://127.0.0.1:8000", CreateTable: true}}.Validate(), ""},
		{"AWS catalog", Catalog{DynamoDB: CatalogDynamoDB{Table: "zonecast-streams", Region: "eu-west-1"}}.Validate(), ""},
		{"region without table", Catalog{DynamoDB: CatalogDynamoDB{Region: "local"}}.Validate(), "catalog.dynamodb.table must be set"},
		{"short table", Catalog{DynamoDB: CatalogDynamoDB{Table: "ab", Region: "local"}}.Validate(), "catalog.dynamodb.table \"ab\""},
		{"table with a space", Catalog{DynamoDB: CatalogDynamoDB{Table: "a b c", Region: "local"}}.Validate(), "DynamoDB's rule"},
		{"no region", Catalog{DynamoDB: CatalogDynamoDB{Table: "zonecast-streams"}}.Validate(), "catalog.dynamodb.region"},
		{"bad endpoint", Catalog{DynamoDB: CatalogDynamoDB{Table: "zonecast-streams", Region: "local", Endpoint: "127.0.0.1:8000"}}.Validate(), "catalog.dynamodb.endpoint"},
		{"empty admin", Admin{}.Validate(), ""},
		{"contract admin", Admin{Listen: "127.0.0.1:9090", Token: "an-admin-token"}.Validate(), ""},
		{"bad admin listen", Admin{Listen: "9090"}.Validate(), "admin.listen"},
		{"token with a space", Admin{Token: "an admin token"}.Validate(), "admin.token"},
		{"no events", Events{}.Validate(), ""},
		{"contract events", Events{Webhook: EventsWebhook{URL: "http://127.0.0.1:9999/hook", Secret: "a-webhook-secret"}}.Validate(), ""},
		{"unsigned events", Events{Webhook: EventsWebhook{URL: "http://127.0.0.1:9999/hook"}}.Validate(), "events.webhook.secret"},
		{"secret without url", Events{Webhook: EventsWebhook{Secret: "x"}}.Validate(), "events.webhook.url must be set"},
		{"relative url", Events{Webhook: EventsWebhook{URL: "/hook", Secret: "x"}}.Validate(), "events.webhook.url \"/hook\""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.wantErr == "" && tc.err != nil {
				t.Fatal(tc.err)
			}
			if tc.wantErr != "" && (tc.err == nil || !strings.Contains(tc.err.Error(), tc.wantErr)) {
				t.Fatalf("err %v, want %q", tc.err, tc.wantErr)
			}
		})
	}
}

// Without a catalog, the list stays required: a node with no stream at all
// is a mistake.
func TestStreamsRequiredWithoutCatalog(t *testing.T) {
	_, err := Load([]string{"-config", writeFile(t, "node: {id: a1}\n")}, envOf(nil), &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "at least one stream") {
		t.Fatalf("err %v", err)
	}
}

func TestStreamRecordKey(t *testing.T) {
	cfg, err := Load([]string{"-config", writeFile(t, "recording: {bucket: b, region: local, spool_dir: /tmp/spool}\nstreams: [{name: cam1, passphrase: correct-horse-battery, record: true}, {name: cam2}]\n")}, envOf(nil), &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Streams[0].Record || cfg.Streams[1].Record {
		t.Fatalf("streams %+v", cfg.Streams)
	}
}

// One token guards the operator's endpoints: admin.token, or the older
// cluster.admin_token alone; two different ones are refused.
func TestAdminToken(t *testing.T) {
	for _, tc := range []struct {
		name, yaml, want, wantErr string
	}{
		{"admin only", "admin: {token: tok-a}\n", "tok-a", ""},
		{"cluster only", "cluster: {admin_token: tok-c}\n", "tok-c", ""},
		{"both alike", "admin: {token: tok-a}\ncluster: {admin_token: tok-a}\n", "tok-a", ""},
		{"both differ", "admin: {token: tok-a}\ncluster: {admin_token: tok-c}\n", "", "cluster.admin_token and admin.token differ"},
		{"neither", "", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Load([]string{"-config", writeFile(t, tc.yaml+"streams: [{name: cam1}]\n")}, envOf(nil), &bytes.Buffer{})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.AdminToken(); got != tc.want {
				t.Fatalf("AdminToken %q, want %q", got, tc.want)
			}
		})
	}
}
