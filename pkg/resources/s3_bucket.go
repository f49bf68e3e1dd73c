package resources

import (
	"context"
	"errors"

	"github.com/litentry/envctl/pkg/awsapi"
)

// STUB: to be replaced by the real driver.
var s3BucketSchema = &Schema{Type: "s3_bucket", Attrs: []Attr{{Name: "name", Kind: String}, {Name: "tags", Kind: Tags}}, Exports: []string{"arn"}}

type s3BucketDriver struct{ c *awsapi.Clients }

func newS3Bucket(c *awsapi.Clients) Driver { return &s3BucketDriver{c: c} }

func (d *s3BucketDriver) Schema() *Schema { return s3BucketSchema }

var errS3BucketStub = errors.New("s3_bucket: not implemented")

func (d *s3BucketDriver) Find(ctx context.Context, t Target) (*Live, error)     { return nil, nil }
func (d *s3BucketDriver) List(ctx context.Context, env string) ([]*Live, error) { return nil, nil }
func (d *s3BucketDriver) Create(ctx context.Context, t Target) (*Live, error) {
	return nil, errS3BucketStub
}
func (d *s3BucketDriver) Update(ctx context.Context, l *Live, t Target, c []string) (*Live, error) {
	return nil, errS3BucketStub
}
func (d *s3BucketDriver) Delete(ctx context.Context, l *Live) error { return errS3BucketStub }
