package awsfence

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// LoadBalancer deregisters targets through the ELBv2 API (Query/XML).
type LoadBalancer struct {
	client *elb.Client
}

// NewLoadBalancer is the ELBv2 API of region, or the one at url.
func NewLoadBalancer(ctx context.Context, region, url string) (*LoadBalancer, error) {
	cfg, err := loadConfig(ctx, region, url)
	if err != nil {
		return nil, err
	}
	return &LoadBalancer{client: elb.NewFromConfig(cfg, func(o *elb.Options) {
		if url != "" {
			o.BaseEndpoint = aws.String(url)
		}
	})}, nil
}

// DeregisterTargets takes the instance out of the target group. A target
// the group does not know is no error: it is out already (the call is
// repeated after failures, and by design idempotent).
func (l *LoadBalancer) DeregisterTargets(ctx context.Context, targetGroup, instance string) error {
	_, err := l.client.DeregisterTargets(ctx, &elb.DeregisterTargetsInput{
		TargetGroupArn: aws.String(targetGroup),
		Targets:        []elbtypes.TargetDescription{{Id: aws.String(instance)}},
	})
	var invalid *elbtypes.InvalidTargetException
	if errors.As(err, &invalid) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("deregister %s from %s: %w", instance, targetGroup, err)
	}
	return nil
}
