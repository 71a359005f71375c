package recording

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
)

// bucket is the recording bucket: the few S3 calls the recorder makes, each
// counted by operation and bounded in time.
type bucket struct {
	client  *s3.Client
	name    string
	metrics *metrics
}

// requestTimeout bounds one S3 call, so that a hanging endpoint counts as
// a failure and the spool takes over instead of an upload waiting forever.
const requestTimeout = 30 * time.Second

// NewClient makes an S3 client for region (and endpoint, a local S3-API
// server, addressed path-style), with credentials from the usual AWS
// environment variables or the instance role.
func NewClient(ctx context.Context, region, endpoint string) (*s3.Client, error) {
	cfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion(region),
		// The spool retries with its own back-off; the SDK's retries would
		// only hide failures from the metrics.
		awsconfig.WithRetryMaxAttempts(1))
	if err != nil {
		return nil, err
	}
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
			o.UsePathStyle = true
		}
	}), nil
}

func (b *bucket) call(ctx context.Context, op string, f func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	b.metrics.requests.WithLabelValues(op).Inc()
	err := f(ctx)
	if err != nil && !isNotFound(err) {
		b.metrics.failures.WithLabelValues(op).Inc()
	}
	return err
}

// put writes one object; meta becomes x-amz-meta-* headers.
func (b *bucket) put(ctx context.Context, key, contentType string, body []byte, meta map[string]string) error {
	return b.call(ctx, "put", func(ctx context.Context) error {
		_, err := b.client.PutObject(ctx, &s3.PutObjectInput{
			Bucket: aws.String(b.name), Key: aws.String(key), Body: bytes.NewReader(body),
			ContentType: aws.String(contentType), ContentLength: aws.Int64(int64(len(body))), Metadata: meta,
		})
		return err
	})
}

// get reads one object; found is false (and err nil) when it does not exist.
func (b *bucket) get(ctx context.Context, key string) (body []byte, found bool, err error) {
	err = b.call(ctx, "get", func(ctx context.Context) error {
		out, err := b.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b.name), Key: aws.String(key)})
		if err != nil {
			return err
		}
		defer out.Body.Close()
		body, err = io.ReadAll(out.Body)
		return err
	})
	if isNotFound(err) {
		return nil, false, nil
	}
	return body, err == nil, err
}

// head reads one object's metadata.
func (b *bucket) head(ctx context.Context, key string) (meta map[string]string, size int64, err error) {
	err = b.call(ctx, "head", func(ctx context.Context) error {
		out, err := b.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b.name), Key: aws.String(key)})
		if err != nil {
			return err
		}
		meta, size = out.Metadata, aws.ToInt64(out.ContentLength)
		return nil
	})
	return meta, size, err
}

// list returns the keys under prefix after startAfter, in order; with a
// delimiter, the common prefixes instead.
func (b *bucket) list(ctx context.Context, prefix, startAfter, delimiter string) ([]string, error) {
	in := &s3.ListObjectsV2Input{Bucket: aws.String(b.name), Prefix: aws.String(prefix)}
	if startAfter != "" {
		in.StartAfter = aws.String(startAfter)
	}
	if delimiter != "" {
		in.Delimiter = aws.String(delimiter)
	}
	var out []string
	p := s3.NewListObjectsV2Paginator(b.client, in)
	for p.HasMorePages() {
		err := b.call(ctx, "list", func(ctx context.Context) error {
			page, err := p.NextPage(ctx)
			if err != nil {
				return err
			}
			for _, o := range page.Contents {
				out = append(out, aws.ToString(o.Key))
			}
			for _, cp := range page.CommonPrefixes {
				out = append(out, aws.ToString(cp.Prefix))
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func isNotFound(err error) bool {
	if err == nil {
		return false
	}
	var api smithy.APIError
	if errors.As(err, &api) && (api.ErrorCode() == "NoSuchKey" || api.ErrorCode() == "NotFound") {
		return true
	}
	var re interface{ HTTPStatusCode() int }
	return errors.As(err, &re) && re.HTTPStatusCode() == http.StatusNotFound
}
