package awsfence

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	ga "github.com/aws/aws-sdk-go-v2/service/globalaccelerator"
	gatypes "github.com/aws/aws-sdk-go-v2/service/globalaccelerator/types"
)

// Accelerator weights endpoints through the Global Accelerator API (JSON).
type Accelerator struct {
	client *ga.Client
}

// NewAccelerator is Global Accelerator's API, or the one at url.
func NewAccelerator(ctx context.Context, url string) (*Accelerator, error) {
	cfg, err := loadConfig(ctx, AcceleratorRegion, url)
	if err != nil {
		return nil, err
	}
	return &Accelerator{client: ga.NewFromConfig(cfg, func(o *ga.Options) {
		if url != "" {
			o.BaseEndpoint = aws.String(url)
		}
	})}, nil
}

// SetEndpointWeight sets the endpoint's weight in the group. The API
// replaces a group's whole endpoint list, so the list is read first and
// written back with only this endpoint's weight changed (every other
// endpoint keeps its weight and client IP preservation).
func (a *Accelerator) SetEndpointWeight(ctx context.Context, endpointGroup, endpoint string, weight int) (int, error) {
	d, err := a.client.DescribeEndpointGroup(ctx, &ga.DescribeEndpointGroupInput{EndpointGroupArn: aws.String(endpointGroup)})
	if err != nil {
		return 0, fmt.Errorf("describe endpoint group %s: %w", endpointGroup, err)
	}
	if d.EndpointGroup == nil {
		return 0, fmt.Errorf("describe endpoint group %s: no group in the answer", endpointGroup)
	}
	previous, found := 0, false
	confs := make([]gatypes.EndpointConfiguration, 0, len(d.EndpointGroup.EndpointDescriptions))
	for _, e := range d.EndpointGroup.EndpointDescriptions {
		c := gatypes.EndpointConfiguration{EndpointId: e.EndpointId, Weight: e.Weight, ClientIPPreservationEnabled: e.ClientIPPreservationEnabled}
		if aws.ToString(e.EndpointId) == endpoint {
			found = true
			previous = int(aws.ToInt32(e.Weight))
			c.Weight = aws.Int32(int32(weight))
		}
		confs = append(confs, c)
	}
	if !found {
		return 0, fmt.Errorf("endpoint %s is not in endpoint group %s", endpoint, endpointGroup)
	}
	if previous == weight {
		return previous, nil // nothing to change
	}
	if _, err := a.client.UpdateEndpointGroup(ctx, &ga.UpdateEndpointGroupInput{
		EndpointGroupArn:       aws.String(endpointGroup),
		EndpointConfigurations: confs,
	}); err != nil {
		return 0, fmt.Errorf("update endpoint group %s: %w", endpointGroup, err)
	}
	return previous, nil
}
