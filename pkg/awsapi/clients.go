package awsapi

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/logging"
)

// Options select the region and, for emulators and tests, the endpoint.
type Options struct {
	Region string
	// EndpointURL overrides every service endpoint (moto_server, a proxy).
	// Empty means the SDK default chain, which also honours AWS_ENDPOINT_URL.
	EndpointURL string
	// MaxAttempts is the SDK retryer's attempt budget per call; 0 means 20.
	MaxAttempts int
}

// Clients holds one client per AWS service envctl talks to.
type Clients struct {
	Region  string
	STS     *sts.Client
	IAM     *iam.Client
	S3      *s3.Client
	EC2     *ec2.Client
	Route53 *route53.Client
	SSM     *ssm.Client
}

// New loads the SDK's default configuration chain and builds the clients.
func New(ctx context.Context, o Options) (*Clients, error) {
	attempts := o.MaxAttempts
	if attempts == 0 {
		// Enough that a call survives a storm in which half the requests
		// are throttled (0.5^20 ≈ 1e-6), with backoff capped at 20 s.
		attempts = 20
	}
	loadOpts := []func(*awsconfig.LoadOptions) error{
		awsconfig.WithRetryer(func() aws.Retryer {
			// The standard retryer already retries throttling and 5xx with
			// jittered backoff; envctl only raises the budget so a throttling
			// storm does not fail an apply halfway.
			return retry.NewStandard(func(so *retry.StandardOptions) {
				so.MaxAttempts = attempts
				so.MaxBackoff = 20 * time.Second
				// The default client-side retry quota (500 tokens per
				// client) gives up during a throttling storm long before
				// the attempt budget does; a CLI run is short and bounded
				// by attempts and backoff instead.
				so.RateLimiter = ratelimit.None
			})
		}),
	}
	if o.Region != "" {
		loadOpts = append(loadOpts, awsconfig.WithRegion(o.Region))
	}
	if o.EndpointURL != "" {
		loadOpts = append(loadOpts, awsconfig.WithBaseEndpoint(o.EndpointURL))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, loadOpts...)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	// envctl reports what matters itself; the SDK's own log lines
	// (connection reuse, checksum notes) would only unsettle the output.
	cfg.Logger = logging.Nop{}
	if cfg.Region == "" {
		return nil, fmt.Errorf("no AWS region: set region in the env file or AWS_REGION")
	}
	customEndpoint := o.EndpointURL != "" || cfg.BaseEndpoint != nil
	return &Clients{
		Region: cfg.Region,
		STS:    sts.NewFromConfig(cfg),
		IAM:    iam.NewFromConfig(cfg),
		S3: s3.NewFromConfig(cfg, func(so *s3.Options) {
			// Emulators serve buckets by path, not by virtual host.
			so.UsePathStyle = customEndpoint
			// Output stays calm: no SDK log line for responses (from
			// emulators, or S3 operations without checksums) that carry
			// no checksum to validate.
			so.DisableLogOutputChecksumValidationSkipped = true
		}),
		EC2:     ec2.NewFromConfig(cfg),
		Route53: route53.NewFromConfig(cfg),
		SSM:     ssm.NewFromConfig(cfg),
	}, nil
}

// CallerAccount returns the account id of the credentials in use.
func (c *Clients) CallerAccount(ctx context.Context) (string, error) {
	out, err := c.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return "", fmt.Errorf("sts get-caller-identity: %w", err)
	}
	return aws.ToString(out.Account), nil
}
