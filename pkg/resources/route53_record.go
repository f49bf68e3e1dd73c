package resources

import (
	"context"
	"errors"

	"github.com/litentry/envctl/pkg/awsapi"
)

// STUB: to be replaced by the real driver.
var route53RecordSchema = &Schema{Type: "route53_record", Attrs: []Attr{{Name: "name", Kind: String}, {Name: "tags", Kind: Tags}}, Exports: []string{"arn"}}

type route53RecordDriver struct{ c *awsapi.Clients }

func newRoute53Record(c *awsapi.Clients) Driver { return &route53RecordDriver{c: c} }

func (d *route53RecordDriver) Schema() *Schema { return route53RecordSchema }

var errRoute53RecordStub = errors.New("route53_record: not implemented")

func (d *route53RecordDriver) Find(ctx context.Context, t Target) (*Live, error)     { return nil, nil }
func (d *route53RecordDriver) List(ctx context.Context, env string) ([]*Live, error) { return nil, nil }
func (d *route53RecordDriver) Create(ctx context.Context, t Target) (*Live, error) {
	return nil, errRoute53RecordStub
}
func (d *route53RecordDriver) Update(ctx context.Context, l *Live, t Target, c []string) (*Live, error) {
	return nil, errRoute53RecordStub
}
func (d *route53RecordDriver) Delete(ctx context.Context, l *Live) error { return errRoute53RecordStub }
