package resources

import (
	"context"
	"errors"

	"github.com/litentry/envctl/pkg/awsapi"
)

// STUB: to be replaced by the real driver.
var instanceSchema = &Schema{Type: "ec2_instance", Attrs: []Attr{{Name: "name", Kind: String}, {Name: "tags", Kind: Tags}}, Exports: []string{"arn"}}

type instanceDriver struct{ c *awsapi.Clients }

func newInstance(c *awsapi.Clients) Driver { return &instanceDriver{c: c} }

func (d *instanceDriver) Schema() *Schema { return instanceSchema }

var errInstanceStub = errors.New("ec2_instance: not implemented")

func (d *instanceDriver) Find(ctx context.Context, t Target) (*Live, error)     { return nil, nil }
func (d *instanceDriver) List(ctx context.Context, env string) ([]*Live, error) { return nil, nil }
func (d *instanceDriver) Create(ctx context.Context, t Target) (*Live, error) {
	return nil, errInstanceStub
}
func (d *instanceDriver) Update(ctx context.Context, l *Live, t Target, c []string) (*Live, error) {
	return nil, errInstanceStub
}
func (d *instanceDriver) Delete(ctx context.Context, l *Live) error { return errInstanceStub }
