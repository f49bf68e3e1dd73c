package resources

import (
	"context"
	"errors"

	"github.com/litentry/envctl/pkg/awsapi"
)

// STUB: to be replaced by the real driver.
var elasticIPSchema = &Schema{Type: "elastic_ip", Attrs: []Attr{{Name: "name", Kind: String}, {Name: "tags", Kind: Tags}}, Exports: []string{"arn"}}

type elasticIPDriver struct{ c *awsapi.Clients }

func newElasticIP(c *awsapi.Clients) Driver { return &elasticIPDriver{c: c} }

func (d *elasticIPDriver) Schema() *Schema { return elasticIPSchema }

var errElasticIPStub = errors.New("elastic_ip: not implemented")

func (d *elasticIPDriver) Find(ctx context.Context, t Target) (*Live, error)     { return nil, nil }
func (d *elasticIPDriver) List(ctx context.Context, env string) ([]*Live, error) { return nil, nil }
func (d *elasticIPDriver) Create(ctx context.Context, t Target) (*Live, error) {
	return nil, errElasticIPStub
}
func (d *elasticIPDriver) Update(ctx context.Context, l *Live, t Target, c []string) (*Live, error) {
	return nil, errElasticIPStub
}
func (d *elasticIPDriver) Delete(ctx context.Context, l *Live) error { return errElasticIPStub }
