package awsapi

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
)

// Code returns the AWS error code of err ("NoSuchEntity", "NoSuchBucket"),
// or "" when err carries none.
func Code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// HTTPStatus returns the HTTP status of the response behind err, or 0.
func HTTPStatus(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// notFoundCodes are the codes AWS uses to say a resource does not exist.
var notFoundCodes = map[string]bool{
	"NoSuchEntity":                       true, // IAM
	"NoSuchBucket":                       true, // S3
	"NotFound":                           true, // S3 HEAD
	"NoSuchHostedZone":                   true, // Route53
	"InvalidInstanceID.NotFound":         true,
	"InvalidGroup.NotFound":              true,
	"InvalidAllocationID.NotFound":       true,
	"InvalidAssociationID.NotFound":      true,
	"InvalidNetworkInterfaceID.NotFound": true,
	"ParameterNotFound":                  true, // SSM
}

// IsNotFound reports whether err says the resource does not exist.
func IsNotFound(err error) bool {
	if err == nil {
		return false
	}
	if notFoundCodes[Code(err)] {
		return true
	}
	return HTTPStatus(err) == http.StatusNotFound && Code(err) == ""
}

// IsCode reports whether err carries one of the given AWS error codes.
func IsCode(err error, codes ...string) bool {
	c := Code(err)
	if c == "" {
		return false
	}
	for _, want := range codes {
		if c == want {
			return true
		}
	}
	return false
}

// Consistency describes an eventual-consistency wait: which error codes mean
// "not visible yet" and how long to keep trying.
type Consistency struct {
	Codes   []string
	Timeout time.Duration
}

// Waits keyed to each API's known eventual-consistency errors.
var (
	// IAMPropagation: a role or provider just created may not be visible,
	// and a principal just created is reported as invalid for a while.
	IAMPropagation = Consistency{Codes: []string{"NoSuchEntity", "MalformedPolicyDocument"}, Timeout: 2 * time.Minute}
	// S3Create: calls straight after CreateBucket can return NoSuchBucket.
	S3Create = Consistency{Codes: []string{"NoSuchBucket", "OperationAborted"}, Timeout: time.Minute}
	// EC2Create: an id just returned may not be visible to other calls yet.
	EC2Create = Consistency{Codes: []string{"InvalidInstanceID.NotFound", "InvalidAllocationID.NotFound", "InvalidGroup.NotFound"}, Timeout: 2 * time.Minute}
	// Route53Busy: the zone is still applying an earlier change.
	Route53Busy = Consistency{Codes: []string{"PriorRequestNotComplete"}, Timeout: 2 * time.Minute}
)

// Retry calls fn until it succeeds, fails with an error outside c.Codes, the
// timeout passes or ctx is done. Backoff is exponential with full jitter.
func (c Consistency) Retry(ctx context.Context, fn func(context.Context) error) error {
	deadline := time.Now().Add(c.Timeout)
	delay := 200 * time.Millisecond
	for {
		err := fn(ctx)
		if err == nil || !IsCode(err, c.Codes...) || time.Now().After(deadline) {
			return err
		}
		sleep := time.Duration(rand.Int64N(int64(delay))) + delay/2
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(sleep):
		}
		if delay < 5*time.Second {
			delay *= 2
		}
	}
}

// CreateOnce calls create with the SDK's own retries turned off (the
// caller passes them through noRetry) and, when a call fails in a way that
// means the create may have happened anyway — the connection dropped, a 5xx,
// a throttle on a half-processed request — asks found whether the resource
// now exists before trying again. Retrying a create blindly after a lost
// response is what makes duplicates (AllocateAddress has no idempotency
// token; emulators ignore RunInstances' ClientToken). At most attempts
// tries, with jittered backoff.
func CreateOnce(ctx context.Context, attempts int, create func(context.Context) error, found func(context.Context) (bool, error)) error {
	delay := 200 * time.Millisecond
	for try := 1; ; try++ {
		err := create(ctx)
		if err == nil || !mayHaveHappened(err) {
			return err
		}
		ok, ferr := found(ctx)
		if ferr == nil && ok {
			return nil
		}
		if try >= attempts {
			return err
		}
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(time.Duration(rand.Int64N(int64(delay))) + delay/2):
		}
		if delay < 10*time.Second {
			delay *= 2
		}
	}
}

// mayHaveHappened: a failure after which the request may still have been
// carried out, or that is worth another try.
func mayHaveHappened(err error) bool {
	code := Code(err)
	if code == "" || HTTPStatus(err) >= 500 {
		return true
	}
	return IsCode(err, "Throttling", "ThrottlingException", "RequestLimitExceeded", "RequestThrottled", "SlowDown", "InternalError", "InternalFailure", "ServiceUnavailable", "Unavailable")
}

// NoRetry turns off the SDK's retries for one call, for CreateOnce.
func NoRetry(r aws.Retryer) aws.Retryer { return retry.AddWithMaxAttempts(r, 1) }
