package resources

import (
	"fmt"
	"sort"

	"github.com/litentry/envctl/pkg/awsapi"
)

// registration ties a resource type to its schema and driver constructor.
type registration struct {
	schema *Schema
	newFn  func(*awsapi.Clients) Driver
}

// registry lists every resource type envctl manages. Adding a type takes a
// driver file, its tests, one line here and its page in docs/resources/
// (see docs/adding-a-resource-type.md).
var registry = map[string]registration{
	"iam_oidc_provider":  {oidcProviderSchema, newOIDCProvider},
	"iam_role":           {iamRoleSchema, newIAMRole},
	"s3_bucket":          {s3BucketSchema, newS3Bucket},
	"ec2_security_group": {securityGroupSchema, newSecurityGroup},
	"ec2_instance":       {instanceSchema, newInstance},
	"elastic_ip":         {elasticIPSchema, newElasticIP},
	"route53_record":     {route53RecordSchema, newRoute53Record},
}

// Types returns the registered resource type names in order.
func Types() []string {
	return SortedKeys(registry)
}

// SchemaFor returns the schema of a registered type, or nil.
func SchemaFor(typ string) *Schema {
	r, ok := registry[typ]
	if !ok {
		return nil
	}
	return r.schema
}

// Drivers builds one driver per registered type, sharing the clients.
func Drivers(c *awsapi.Clients) map[string]Driver {
	out := make(map[string]Driver, len(registry))
	for typ, r := range registry {
		out[typ] = r.newFn(c)
	}
	return out
}

// UnknownTypeError lists the valid types.
func UnknownTypeError(typ string) error {
	types := Types()
	sort.Strings(types)
	return fmt.Errorf("unknown resource type %q (expected one of %v)", typ, types)
}
