package config

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
)

// Catalog locates the stream catalog; the contract file's form:
//
//	catalog:
//	  dynamodb: {table: zonecast-streams, region: local, endpoint: "http://127.0.0.1:8000", create_table: true}
//
// An empty section leaves the node with the streams: list alone.
type Catalog struct {
	DynamoDB CatalogDynamoDB `yaml:"dynamodb"`
}

// CatalogDynamoDB is the catalog's table. Credentials come from the usual
// AWS environment variables or the instance role.
type CatalogDynamoDB struct {
	Table       string `yaml:"table" usage:"DynamoDB table of the stream catalog; empty: the streams: list is the catalog"`
	Region      string `yaml:"region" usage:"AWS region of the table's replica this node reads (the node's own)"`
	Endpoint    string `yaml:"endpoint" usage:"DynamoDB API endpoint URL, e.g. a local server (empty: AWS's endpoint for the region)"`
	CreateTable bool   `yaml:"create_table" usage:"create the table when it is missing (local use; in AWS the global stack owns it)"`
}

// Enabled reports whether the node reads its streams from a catalog.
func (c Catalog) Enabled() bool { return c.DynamoDB.Table != "" }

// DynamoDB's own rule for table names.
var tableName = regexp.MustCompile(`^[A-Za-z0-9_.-]{3,255}$`)

// Validate reports every problem of an enabled catalog section.
func (c Catalog) Validate() error {
	d := c.DynamoDB
	if !c.Enabled() {
		if d.Region != "" || d.Endpoint != "" || d.CreateTable {
			return errors.New("catalog.dynamodb.table must be set when the section is")
		}
		return nil
	}
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if !tableName.MatchString(d.Table) {
		bad("catalog.dynamodb.table %q must be 3–255 of A-Z a-z 0-9 _ . - (DynamoDB's rule)", d.Table)
	}
	if d.Region == "" {
		bad("catalog.dynamodb.region must be set (the node's own region)")
	}
	if d.Endpoint != "" {
		if u, err := url.Parse(d.Endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("catalog.dynamodb.endpoint %q must be an http:// or https:// URL", d.Endpoint)
		}
	}
	return errors.Join(errs...)
}
