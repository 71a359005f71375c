package rehearse

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/zonecast/zonecast/dataplane/e2e/dynalite"
	"github.com/zonecast/zonecast/dataplane/e2e/s3server"
	"github.com/zonecast/zonecast/dataplane/internal/catalog"
	"github.com/zonecast/zonecast/dataplane/internal/config"
)

// Services stands in for the AWS services the rendered environment names
// by region only (the SDK's regional endpoints, which cannot be reached
// here): the stream catalog's DynamoDB table on a dynalite and the
// recording bucket on a versitygw, both on the bridge, with the table
// created before any node starts (in AWS the global stack owns it). Every
// node's edge is given their endpoints and the stand-ins' credentials
// (the instance role's on AWS). It returns what it substituted, one line
// each.
func (l *Lab) Services(t testing.TB, z *Zone) []string {
	t.Helper()
	var notes []string
	keys := s3server.AccessKey
	secret := s3server.SecretKey
	// The harness' own catalog client reads the credentials the nodes get.
	t.Setenv("AWS_ACCESS_KEY_ID", keys)
	t.Setenv("AWS_SECRET_ACCESS_KEY", secret)
	l.env = append(l.env, "AWS_ACCESS_KEY_ID="+keys, "AWS_SECRET_ACCESS_KEY="+secret)
	if table := envValue(z.Env, "ZONECAST_CATALOG_DYNAMODB_TABLE"); table != "" {
		region := envValue(z.Env, "ZONECAST_CATALOG_DYNAMODB_REGION")
		db, err := dynalite.Start(dynalite.Options{Host: l.BridgeIP})
		if err != nil {
			t.Fatalf("the catalog's stand-in: %v", err)
		}
		t.Cleanup(db.Stop)
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("dynalite's output:\n%s", db.Output())
			}
		})
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := catalog.NewDynamoDB(ctx, config.CatalogDynamoDB{Table: table, Region: region, Endpoint: db.Endpoint(), CreateTable: true}); err != nil {
			t.Fatalf("create the catalog table %s on the stand-in: %v", table, err)
		}
		l.env = append(l.env, "ZONECAST_CATALOG_DYNAMODB_ENDPOINT="+db.Endpoint())
		notes = append(notes, fmt.Sprintf("catalog: DynamoDB's %s endpoint → dynalite at %s (ZONECAST_CATALOG_DYNAMODB_ENDPOINT); "+
			"table %s created by the rehearsal before the nodes start (the global stack's in AWS)", region, db.Endpoint(), table))
	}
	if bucket := envValue(z.Env, "ZONECAST_RECORDING_BUCKET"); bucket != "" {
		region := envValue(z.Env, "ZONECAST_RECORDING_REGION")
		s3, err := s3server.StartWith(filepath.Join(l.Dir, "s3"), bucket, s3server.Options{Host: l.BridgeIP, Region: region})
		if err != nil {
			t.Fatalf("the recording bucket's stand-in: %v", err)
		}
		t.Cleanup(s3.Stop)
		l.env = append(l.env, "ZONECAST_RECORDING_ENDPOINT="+s3.Endpoint)
		notes = append(notes, fmt.Sprintf("recording: S3's %s endpoint → versitygw at %s (ZONECAST_RECORDING_ENDPOINT), bucket %s", region, s3.Endpoint, bucket))
	}
	if envValue(z.Env, "ZONECAST_FENCING_ENABLED") == "true" {
		// The rehearsal has no load balancer in front of its nodes (the
		// production-routing rows of the chaos suite run the stand-in):
		// the rendered fencing settings load and the fencer runs, and any
		// call it makes is refused on the lab's own bridge and counted as
		// an error, never sent to AWS.
		refused := "http://" + net.JoinHostPort(l.BridgeIP, "9")
		l.env = append(l.env, "ZONECAST_FENCING_ELB_URL="+refused, "ZONECAST_FENCING_ACCELERATOR_URL="+refused)
		notes = append(notes, "fencing: the ELB and Global Accelerator APIs → "+refused+" (refused: the rehearsal has no load balancer; chaos-routing has the stand-in)")
	}
	notes = append(notes, "credentials: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY of the stand-ins in every edge's environment (the instance role's on AWS)")
	return notes
}
