package resources

import (
	"context"
	"errors"

	"github.com/litentry/envctl/pkg/awsapi"
)

// STUB: to be replaced by the real driver.
var oidcProviderSchema = &Schema{Type: "iam_oidc_provider", Attrs: []Attr{{Name: "name", Kind: String}, {Name: "tags", Kind: Tags}}, Exports: []string{"arn"}}

type oidcProviderDriver struct{ c *awsapi.Clients }

func newOIDCProvider(c *awsapi.Clients) Driver { return &oidcProviderDriver{c: c} }

func (d *oidcProviderDriver) Schema() *Schema { return oidcProviderSchema }

var errOIDCProviderStub = errors.New("iam_oidc_provider: not implemented")

func (d *oidcProviderDriver) Find(ctx context.Context, t Target) (*Live, error)     { return nil, nil }
func (d *oidcProviderDriver) List(ctx context.Context, env string) ([]*Live, error) { return nil, nil }
func (d *oidcProviderDriver) Create(ctx context.Context, t Target) (*Live, error) {
	return nil, errOIDCProviderStub
}
func (d *oidcProviderDriver) Update(ctx context.Context, l *Live, t Target, c []string) (*Live, error) {
	return nil, errOIDCProviderStub
}
func (d *oidcProviderDriver) Delete(ctx context.Context, l *Live) error { return errOIDCProviderStub }
