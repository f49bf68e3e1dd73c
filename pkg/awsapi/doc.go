// Package awsapi builds the AWS SDK clients envctl uses (one per service,
// built once), classifies AWS errors by their smithy error codes, and retries
// the eventual-consistency errors each API is known for.
package awsapi
