package resources

import (
	"context"
	"errors"

	"github.com/litentry/envctl/pkg/awsapi"
)

// STUB: to be replaced by the real driver.
var securityGroupSchema = &Schema{Type: "ec2_security_group", Attrs: []Attr{{Name: "name", Kind: String}, {Name: "tags", Kind: Tags}}, Exports: []string{"arn"}}

type securityGroupDriver struct{ c *awsapi.Clients }

func newSecurityGroup(c *awsapi.Clients) Driver { return &securityGroupDriver{c: c} }

func (d *securityGroupDriver) Schema() *Schema { return securityGroupSchema }

var errSecurityGroupStub = errors.New("ec2_security_group: not implemented")

func (d *securityGroupDriver) Find(ctx context.Context, t Target) (*Live, error)     { return nil, nil }
func (d *securityGroupDriver) List(ctx context.Context, env string) ([]*Live, error) { return nil, nil }
func (d *securityGroupDriver) Create(ctx context.Context, t Target) (*Live, error) {
	return nil, errSecurityGroupStub
}
func (d *securityGroupDriver) Update(ctx context.Context, l *Live, t Target, c []string) (*Live, error) {
	return nil, errSecurityGroupStub
}
func (d *securityGroupDriver) Delete(ctx context.Context, l *Live) error { return errSecurityGroupStub }
