package resources

import (
	"context"
	"errors"

	"github.com/litentry/envctl/pkg/awsapi"
)

// STUB: to be replaced by the real driver.
var iamRoleSchema = &Schema{Type: "iam_role", Attrs: []Attr{{Name: "name", Kind: String}, {Name: "tags", Kind: Tags}}, Exports: []string{"arn"}}

type iamRoleDriver struct{ c *awsapi.Clients }

func newIAMRole(c *awsapi.Clients) Driver { return &iamRoleDriver{c: c} }

func (d *iamRoleDriver) Schema() *Schema { return iamRoleSchema }

var errIAMRoleStub = errors.New("iam_role: not implemented")

func (d *iamRoleDriver) Find(ctx context.Context, t Target) (*Live, error)     { return nil, nil }
func (d *iamRoleDriver) List(ctx context.Context, env string) ([]*Live, error) { return nil, nil }
func (d *iamRoleDriver) Create(ctx context.Context, t Target) (*Live, error) {
	return nil, errIAMRoleStub
}
func (d *iamRoleDriver) Update(ctx context.Context, l *Live, t Target, c []string) (*Live, error) {
	return nil, errIAMRoleStub
}
func (d *iamRoleDriver) Delete(ctx context.Context, l *Live) error { return errIAMRoleStub }
