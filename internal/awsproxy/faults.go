package awsproxy

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// Kind is a fault the proxy can inject in place of moto's response.
type Kind int

// The fault kinds. Each mirrors something the real AWS does to envctl; see
// docs/awsproxy.md for the exact responses.
const (
	// Throttle answers with the protocol's throttling error (IAM Throttling,
	// EC2 RequestLimitExceeded, S3 SlowDown, ...). The request never reaches
	// moto. The SDK retries it with the throttle backoff (1 s base).
	Throttle Kind = iota + 1
	// InternalError answers HTTP 500 with the protocol's internal-failure
	// error. The request never reaches moto. The SDK retries any 500.
	InternalError
	// DropBeforeServer closes the client connection without forwarding the
	// request and without a response: a network failure on the way in.
	DropBeforeServer
	// DropAfterServer forwards the request to moto, reads moto's complete
	// response, and then closes the client connection without writing any
	// of it: the change happened, but the client cannot know. The SDK
	// retries connection errors for every operation, so the retry repeats a
	// mutation that already took effect — the case drivers must be
	// idempotent against.
	DropAfterServer
)

var kindNames = map[Kind]string{
	Throttle:         "throttle",
	InternalError:    "500",
	DropBeforeServer: "drop-before",
	DropAfterServer:  "drop-after",
}

// String returns the name the command's -faults flag uses.
func (k Kind) String() string {
	if n, ok := kindNames[k]; ok {
		return n
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// ParseKind parses a fault name as the -faults flag spells it: "throttle",
// "500" (or "internal-error"), "drop-before", "drop-after".
func ParseKind(s string) (Kind, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "internal-error" || s == "internal" {
		return InternalError, nil
	}
	for k, n := range kindNames {
		if n == s {
			return k, nil
		}
	}
	return 0, fmt.Errorf("unknown fault kind %q (want throttle, 500, drop-before or drop-after)", s)
}

// ParseKinds parses a comma-separated list of fault names.
func ParseKinds(s string) ([]Kind, error) {
	var kinds []Kind
	for _, f := range strings.Split(s, ",") {
		if strings.TrimSpace(f) == "" {
			continue
		}
		k, err := ParseKind(f)
		if err != nil {
			return nil, err
		}
		kinds = append(kinds, k)
	}
	return kinds, nil
}

// errorResponse is an injected AWS error, ready to write.
type errorResponse struct {
	status int
	header http.Header
	body   string
}

// faultResponse builds the error AWS itself would send for a Throttle or
// InternalError fault, in the wire shape of the request's protocol. The
// shapes matter: the SDK reads the error code out of the body per protocol,
// and the retryer classifies by that code (throttle vs transient) and by
// HTTP status, so an error in the wrong dialect would be retried differently
// from the real one.
func faultResponse(req Request, proto protocol, kind Kind, requestID string, contentType string) errorResponse {
	h := http.Header{}
	var status int
	var body string
	switch proto {
	case protoEC2:
		h.Set("Content-Type", "text/xml;charset=UTF-8")
		code, msg := "RequestLimitExceeded", "Request limit exceeded."
		status = http.StatusServiceUnavailable
		if kind == InternalError {
			code, msg, status = "InternalError", "An internal error has occurred", http.StatusInternalServerError
		}
		body = fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>`+"\n"+
			`<Response><Errors><Error><Code>%s</Code><Message>%s</Message></Error></Errors><RequestID>%s</RequestID></Response>`,
			code, msg, requestID)
	case protoS3:
		h.Set("Content-Type", "application/xml")
		h.Set("X-Amz-Request-Id", requestID)
		h.Set("X-Amz-Id-2", "awsproxy/"+requestID)
		code, msg := "SlowDown", "Please reduce your request rate."
		status = http.StatusServiceUnavailable
		if kind == InternalError {
			code, msg, status = "InternalError", "We encountered an internal error. Please try again.", http.StatusInternalServerError
		}
		body = fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>`+"\n"+
			`<Error><Code>%s</Code><Message>%s</Message><RequestId>%s</RequestId></Error>`,
			code, msg, requestID)
	case protoJSON:
		if contentType == "" {
			contentType = "application/x-amz-json-1.1"
		}
		h.Set("Content-Type", contentType)
		h.Set("X-Amzn-RequestId", requestID)
		code, msg := "ThrottlingException", "Rate exceeded"
		status = http.StatusBadRequest
		if kind == InternalError {
			// SSM models its 500 as InternalServerError; other JSON services
			// use the common InternalFailure.
			code, msg, status = "InternalFailure", "An internal error has occurred", http.StatusInternalServerError
			if req.Service == "ssm" {
				code = "InternalServerError"
			}
		}
		body = fmt.Sprintf(`{"__type":%q,"message":%q}`, code, msg)
	default: // protoQuery and protoRESTXML share the ErrorResponse shape.
		h.Set("Content-Type", "text/xml")
		h.Set("X-Amzn-RequestId", requestID)
		typ, code, msg := "Sender", "Throttling", "Rate exceeded"
		status = http.StatusBadRequest
		if kind == InternalError {
			// IAM models its 500 as ServiceFailure; STS and Route53 answer
			// with the common InternalFailure.
			typ, code, msg, status = "Receiver", "InternalFailure", "An internal error has occurred", http.StatusInternalServerError
			if req.Service == "iam" {
				code = "ServiceFailure"
			}
		}
		xmlns := ""
		if proto == protoRESTXML {
			xmlns = ` xmlns="https://route53.amazonaws.com/doc/2013-04-01/"`
		}
		body = fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>`+"\n"+
			`<ErrorResponse%s><Error><Type>%s</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>%s</RequestId></ErrorResponse>`,
			xmlns, typ, code, msg, requestID)
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	return errorResponse{status: status, header: h, body: body}
}
