// Package awsfence is fast fencing's reach into AWS: the ELB API that
// deregisters a dead node's targets (LoadBalancer) and the Global
// Accelerator API that weights a dead zone's load balancer (Accelerator),
// both through aws-sdk-go-v2. The cluster package declares what it needs
// of them (cluster.LoadBalancer, cluster.Accelerator).
//
// Credentials come from the SDK's default chain (the instance role in
// production). With an API URL override (the local load balancer stand-in)
// and no AWS_ACCESS_KEY_ID in the environment, static dummy credentials
// are used instead: the stand-in checks none, and a test machine has no
// instance role to wait for.
package awsfence

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// AcceleratorRegion is where Global Accelerator's API is served: one
// region for the whole (global) service.
const AcceleratorRegion = "us-west-2"

// loadConfig is the SDK configuration for region, with url overriding the
// API endpoint when set.
func loadConfig(ctx context.Context, region, url string) (aws.Config, error) {
	opts := []func(*awsconfig.LoadOptions) error{
		awsconfig.WithRegion(region),
		// One attempt per call: the fencer retries on its own cadence
		// (Fencing.Retry) and counts every attempt; the SDK's backoff would
		// hide throttling for seconds.
		awsconfig.WithRetryMaxAttempts(1),
	}
	if url != "" && os.Getenv("AWS_ACCESS_KEY_ID") == "" {
		opts = append(opts, awsconfig.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("zonecast-local", "zonecast-local", "")))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("awsfence: AWS configuration: %w", err)
	}
	return cfg, nil
}
