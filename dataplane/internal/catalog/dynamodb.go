package catalog

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/zonecast/zonecast/dataplane/internal/config"
)

// DynamoDB is the catalog in a DynamoDB table (a global table in
// production, the local DynamoDB-API server in `make run` and the tests),
// one item per stream keyed by its name.
type DynamoDB struct {
	client *dynamodb.Client
	table  string
	now    func() time.Time
}

// The item's attribute names. "name" is one of DynamoDB's reserved words,
// so expressions spell it #name.
const (
	attrName             = "name"
	attrPassphrase       = "passphrase"
	attrBackupPassphrase = "backup_passphrase"
	attrLadder           = "ladder"
	attrLatency          = "latency"
	attrRecord           = "record"
	attrLabels           = "labels"
	attrCreated          = "created"
	attrUpdated          = "updated"
	attrVersion          = "version"
)

// NewDynamoDB connects to the table that c names, creating it first when
// c.CreateTable is set. Credentials come from the usual AWS environment
// variables or the instance role.
func NewDynamoDB(ctx context.Context, c config.CatalogDynamoDB) (*DynamoDB, error) {
	opts := []func(*awsconfig.LoadOptions) error{
		awsconfig.WithRegion(c.Region),
		// The SDK's default keeps two idle connections per host: a node's
		// concurrent handshakes would open and close connections.
		awsconfig.WithHTTPClient(awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
			t.MaxIdleConnsPerHost = 64
		})),
	}
	// A local DynamoDB-API server accepts any key; `make run` and the tests
	// should not need AWS variables, nor wait for an instance role that a
	// laptop does not have.
	if loopback(c.Endpoint) && os.Getenv("AWS_ACCESS_KEY_ID") == "" {
		opts = append(opts, awsconfig.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("local", "local", "")))
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("catalog: AWS configuration: %w", err)
	}
	client := dynamodb.NewFromConfig(awsCfg, func(o *dynamodb.Options) {
		if c.Endpoint != "" {
			o.BaseEndpoint = aws.String(c.Endpoint)
		}
	})
	d := &DynamoDB{client: client, table: c.Table, now: time.Now}
	if c.CreateTable {
		if err := d.createTable(ctx); err != nil {
			return nil, err
		}
	}
	return d, nil
}

func loopback(endpoint string) bool {
	u, err := url.Parse(endpoint)
	if err != nil || u.Hostname() == "" {
		return false
	}
	if u.Hostname() == "localhost" {
		return true
	}
	ip := net.ParseIP(u.Hostname())
	return ip != nil && ip.IsLoopback()
}

// createTable creates the table when it is missing and waits until it is
// usable. In AWS the global stack owns the table; this is for local use.
func (d *DynamoDB) createTable(ctx context.Context) error {
	_, err := d.client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &d.table})
	var missing *types.ResourceNotFoundException
	switch {
	case err == nil:
	case errors.As(err, &missing):
		_, err = d.client.CreateTable(ctx, &dynamodb.CreateTableInput{
			TableName:            &d.table,
			AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String(attrName), AttributeType: types.ScalarAttributeTypeS}},
			KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String(attrName), KeyType: types.KeyTypeHash}},
			BillingMode:          types.BillingModePayPerRequest,
		})
		var inUse *types.ResourceInUseException
		if err != nil && !errors.As(err, &inUse) { // in use: another node created it meanwhile
			return fmt.Errorf("catalog: create table %s: %w", d.table, err)
		}
	default:
		return fmt.Errorf("catalog: describe table %s: %w", d.table, err)
	}
	// The waiter's default first pause is 20 s, sized for AWS; a local
	// table is ready in milliseconds.
	w := dynamodb.NewTableExistsWaiter(d.client, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 50*time.Millisecond, 2*time.Second
	})
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: &d.table}, 2*time.Minute); err != nil {
		return fmt.Errorf("catalog: table %s did not become active: %w", d.table, err)
	}
	return nil
}

// Create adds a new stream (version 1); a taken name is ErrExists.
func (d *DynamoDB) Create(ctx context.Context, s Stream) (Stream, error) {
	s.normalize()
	if err := s.Validate(); err != nil {
		return Stream{}, err
	}
	now := d.now().UTC()
	s.Created, s.Updated, s.Version = now, now, 1
	_, err := d.client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                &d.table,
		Item:                     toItem(s),
		ConditionExpression:      aws.String("attribute_not_exists(#name)"),
		ExpressionAttributeNames: map[string]string{"#name": attrName},
	})
	var taken *types.ConditionalCheckFailedException
	if errors.As(err, &taken) {
		return Stream{}, fmt.Errorf("%w: %q", ErrExists, s.Name)
	}
	if err != nil {
		return Stream{}, fmt.Errorf("catalog: create %q: %w", s.Name, err)
	}
	return s, nil
}

// Get reads a stream with a strongly consistent read: the answer includes
// every write this region's replica has acknowledged.
func (d *DynamoDB) Get(ctx context.Context, name string) (Stream, error) {
	out, err := d.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      &d.table,
		Key:            key(name),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return Stream{}, fmt.Errorf("catalog: get %q: %w", name, err)
	}
	if out.Item == nil {
		return Stream{}, fmt.Errorf("%w: %q", ErrNotFound, name)
	}
	return fromItem(out.Item)
}

// List returns up to limit streams after the cursor ("" for the first
// page), in the table's order (not by name), and the cursor of the next
// page ("" after the last).
func (d *DynamoDB) List(ctx context.Context, cursor string, limit int) ([]Stream, string, error) {
	in := &dynamodb.ScanInput{TableName: &d.table, ConsistentRead: aws.Bool(true)}
	if limit > 0 {
		in.Limit = aws.Int32(int32(min(limit, 1<<30)))
	}
	if cursor != "" {
		in.ExclusiveStartKey = key(cursor)
	}
	out, err := d.client.Scan(ctx, in)
	if err != nil {
		return nil, "", fmt.Errorf("catalog: list: %w", err)
	}
	streams := make([]Stream, 0, len(out.Items))
	for _, item := range out.Items {
		s, err := fromItem(item)
		if err != nil {
			return nil, "", err
		}
		streams = append(streams, s)
	}
	next := ""
	if v, ok := out.LastEvaluatedKey[attrName].(*types.AttributeValueMemberS); ok {
		next = v.Value
	}
	return streams, next, nil
}

// Update writes s's settings if the stored stream is still at s.Version,
// and returns it at the next version; otherwise ErrVersion (or ErrNotFound).
// The creation time is kept.
func (d *DynamoDB) Update(ctx context.Context, s Stream) (Stream, error) {
	s.normalize()
	if err := s.Validate(); err != nil {
		return Stream{}, err
	}
	set := map[string]types.AttributeValue{}
	var remove []string
	item := toItem(s)
	for _, a := range []string{attrPassphrase, attrBackupPassphrase, attrLadder, attrLatency, attrRecord, attrLabels} {
		if v, ok := item[a]; ok {
			set[a] = v
		} else {
			remove = append(remove, a)
		}
	}
	set[attrUpdated] = &types.AttributeValueMemberS{Value: d.now().UTC().Format(time.RFC3339Nano)}
	set[attrVersion] = number(s.Version + 1)
	expr, names, values := updateExpression(set, remove)
	values[":read"] = number(s.Version)
	names["#name"] = attrName
	out, err := d.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 &d.table,
		Key:                       key(s.Name),
		UpdateExpression:          &expr,
		ConditionExpression:       aws.String("attribute_exists(#name) AND #version = :read"),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
		ReturnValues:              types.ReturnValueAllNew,
	})
	var failed *types.ConditionalCheckFailedException
	if errors.As(err, &failed) {
		// Missing or changed: one read tells which.
		if _, gerr := d.Get(ctx, s.Name); errors.Is(gerr, ErrNotFound) {
			return Stream{}, gerr
		}
		return Stream{}, fmt.Errorf("%w: %q is no longer at version %d", ErrVersion, s.Name, s.Version)
	}
	if err != nil {
		return Stream{}, fmt.Errorf("catalog: update %q: %w", s.Name, err)
	}
	return fromItem(out.Attributes)
}

// Rotate sets a new passphrase, whatever the version, and returns the
// stream at its next version.
func (d *DynamoDB) Rotate(ctx context.Context, name, passphrase string) (Stream, error) {
	if p := passphraseProblem(passphrase); p != "" || passphrase == "" {
		if p == "" {
			p = "must be set"
		}
		return Stream{}, Invalid{{Field: "passphrase", Problem: p}}
	}
	out, err := d.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                &d.table,
		Key:                      key(name),
		UpdateExpression:         aws.String("SET #passphrase = :p, #updated = :u ADD #version :one"),
		ConditionExpression:      aws.String("attribute_exists(#name) AND (attribute_not_exists(#backup) OR #backup <> :p)"),
		ExpressionAttributeNames: map[string]string{"#name": attrName, "#passphrase": attrPassphrase, "#updated": attrUpdated, "#version": attrVersion, "#backup": attrBackupPassphrase},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":p":   &types.AttributeValueMemberS{Value: passphrase},
			":u":   &types.AttributeValueMemberS{Value: d.now().UTC().Format(time.RFC3339Nano)},
			":one": number(1),
		},
		ReturnValues: types.ReturnValueAllNew,
	})
	var failed *types.ConditionalCheckFailedException
	if errors.As(err, &failed) {
		if _, gerr := d.Get(ctx, name); gerr != nil {
			return Stream{}, gerr
		}
		return Stream{}, Invalid{{Field: "passphrase", Problem: "must differ from backup_passphrase"}}
	}
	if err != nil {
		return Stream{}, fmt.Errorf("catalog: rotate %q: %w", name, err)
	}
	return fromItem(out.Attributes)
}

// Delete removes a stream; a missing one is ErrNotFound.
func (d *DynamoDB) Delete(ctx context.Context, name string) error {
	_, err := d.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                &d.table,
		Key:                      key(name),
		ConditionExpression:      aws.String("attribute_exists(#name)"),
		ExpressionAttributeNames: map[string]string{"#name": attrName},
	})
	var missing *types.ConditionalCheckFailedException
	if errors.As(err, &missing) {
		return fmt.Errorf("%w: %q", ErrNotFound, name)
	}
	if err != nil {
		return fmt.Errorf("catalog: delete %q: %w", name, err)
	}
	return nil
}

func key(name string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrName: &types.AttributeValueMemberS{Value: name}}
}

func number(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

// updateExpression spells SET and REMOVE with placeholders for every name
// (several of them are reserved words).
func updateExpression(set map[string]types.AttributeValue, remove []string) (string, map[string]string, map[string]types.AttributeValue) {
	names := map[string]string{}
	values := map[string]types.AttributeValue{}
	expr := ""
	sep := "SET "
	for a, v := range set {
		names["#"+a] = a
		values[":"+a] = v
		expr += sep + "#" + a + " = :" + a
		sep = ", "
	}
	sep = " REMOVE "
	for _, a := range remove {
		names["#"+a] = a
		expr += sep + "#" + a
		sep = ", "
	}
	return expr, names, values
}

// toItem writes a stream as an item; empty optional fields are left out
// (DynamoDB refuses empty sets, and absent reads the same as empty).
func toItem(s Stream) map[string]types.AttributeValue {
	item := map[string]types.AttributeValue{
		attrName:    &types.AttributeValueMemberS{Value: s.Name},
		attrLatency: &types.AttributeValueMemberS{Value: s.Latency},
		attrRecord:  &types.AttributeValueMemberBOOL{Value: s.Record},
		attrCreated: &types.AttributeValueMemberS{Value: s.Created.UTC().Format(time.RFC3339Nano)},
		attrUpdated: &types.AttributeValueMemberS{Value: s.Updated.UTC().Format(time.RFC3339Nano)},
		attrVersion: number(s.Version),
	}
	for a, v := range map[string]string{attrPassphrase: s.Passphrase, attrBackupPassphrase: s.BackupPassphrase, attrLadder: s.Ladder} {
		if v != "" {
			item[a] = &types.AttributeValueMemberS{Value: v}
		}
	}
	if len(s.Labels) > 0 {
		labels := make(map[string]types.AttributeValue, len(s.Labels))
		for k, v := range s.Labels {
			labels[k] = &types.AttributeValueMemberS{Value: v}
		}
		item[attrLabels] = &types.AttributeValueMemberM{Value: labels}
	}
	return item
}

// fromItem reads an item written by toItem.
func fromItem(item map[string]types.AttributeValue) (Stream, error) {
	var s Stream
	var errs []error
	str := func(a string) string {
		switch v := item[a].(type) {
		case *types.AttributeValueMemberS:
			return v.Value
		case nil:
			return ""
		default:
			errs = append(errs, fmt.Errorf("attribute %s is %T, want a string", a, v))
			return ""
		}
	}
	when := func(a string) time.Time {
		t, err := time.Parse(time.RFC3339Nano, str(a))
		if err != nil {
			errs = append(errs, fmt.Errorf("attribute %s: %w", a, err))
		}
		return t
	}
	s.Name = str(attrName)
	s.Passphrase = str(attrPassphrase)
	s.BackupPassphrase = str(attrBackupPassphrase)
	s.Ladder = str(attrLadder)
	s.Latency = str(attrLatency)
	s.Created = when(attrCreated)
	s.Updated = when(attrUpdated)
	if v, ok := item[attrRecord].(*types.AttributeValueMemberBOOL); ok {
		s.Record = v.Value
	}
	if v, ok := item[attrVersion].(*types.AttributeValueMemberN); ok {
		n, err := strconv.ParseInt(v.Value, 10, 64)
		if err != nil {
			errs = append(errs, fmt.Errorf("attribute %s: %w", attrVersion, err))
		}
		s.Version = n
	} else {
		errs = append(errs, fmt.Errorf("attribute %s missing", attrVersion))
	}
	if v, ok := item[attrLabels].(*types.AttributeValueMemberM); ok {
		s.Labels = make(map[string]string, len(v.Value))
		for k, lv := range v.Value {
			if sv, ok := lv.(*types.AttributeValueMemberS); ok {
				s.Labels[k] = sv.Value
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return Stream{}, fmt.Errorf("catalog: item %q: %w", s.Name, err)
	}
	return s, nil
}
