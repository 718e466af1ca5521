package awsproxy

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync/atomic"
	"time"
)

// Fault answers matching requests itself instead of forwarding them.
//
// Faults are consulted in the order added and the first match wins. Match and
// Respond are called one request at a time, so they may keep state without
// locking. The Call they receive has Status 0.
type Fault struct {
	// Name is recorded in Call.Injected for every request the fault answers.
	Name string
	// Match decides whether the fault answers the request; nil matches every
	// request. body is the IAM/STS form body (already read and restored for
	// forwarding); it is nil for S3, whose bodies are never read. Match must
	// not modify body.
	Match func(c Call, body []byte) bool
	// Respond produces the answer: a status, content type and body, or
	// drop=true to close the connection without any response. nil answers
	// 500 InternalFailure.
	Respond func(c Call) (status int, contentType string, body []byte, drop bool)
	// Times limits how many requests the fault answers; 0 means unlimited.
	Times int
	// DropResponse, when set, forwards a matching request upstream (so it
	// takes effect there) and then closes the client's connection without
	// passing the answer on: the client cannot tell whether the call
	// happened. Respond is not used. The call is recorded with Status 0.
	DropResponse bool
}

// Namespaces of the query-protocol error documents.
const (
	iamXMLNS = "https://iam.amazonaws.com/doc/2010-05-08/"
	stsXMLNS = "https://sts.amazonaws.com/doc/2011-06-15/"
)

// ErrorBody renders an AWS error document for the protocol of c's service:
// an S3 <Error> document (application/xml) for S3, otherwise a query-protocol
// <ErrorResponse> (text/xml) with Type Sender for 4xx and Receiver for 5xx.
func ErrorBody(c Call, status int, code, message string) (contentType string, body []byte) {
	var b bytes.Buffer
	reqID := newRequestID()
	if c.Service == "s3" {
		b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n<Error><Code>")
		_ = xml.EscapeText(&b, []byte(code))
		b.WriteString("</Code><Message>")
		_ = xml.EscapeText(&b, []byte(message))
		b.WriteString("</Message><RequestId>" + reqID + "</RequestId></Error>")
		return "application/xml", b.Bytes()
	}
	typ := "Sender"
	if status >= 500 {
		typ = "Receiver"
	}
	b.WriteString("<ErrorResponse")
	switch c.Service {
	case "iam":
		b.WriteString(` xmlns="` + iamXMLNS + `"`)
	case "sts":
		b.WriteString(` xmlns="` + stsXMLNS + `"`)
	}
	b.WriteString("><Error><Type>" + typ + "</Type><Code>")
	_ = xml.EscapeText(&b, []byte(code))
	b.WriteString("</Code><Message>")
	_ = xml.EscapeText(&b, []byte(message))
	b.WriteString("</Message></Error><RequestId>" + reqID + "</RequestId></ErrorResponse>")
	return "text/xml", b.Bytes()
}

// RespondError returns a Respond function answering status with an error
// document carrying code and message in the protocol of each call's service.
func RespondError(status int, code, message string) func(Call) (int, string, []byte, bool) {
	return func(c Call) (int, string, []byte, bool) {
		ct, body := ErrorBody(c, status, code, message)
		return status, ct, body, false
	}
}

// ErrorFault answers up to times (0 = unlimited) requests selected by match
// (nil = all) with status and an AWS error document carrying code and message.
//
// The SDK turns the code into its typed error where one is modelled, e.g.
// 404 "NoSuchEntity" into *iamtypes.NoSuchEntityException, and 400
// "MalformedPolicyDocument" with message `Invalid principal in policy:
// "AWS":"arn:aws:iam::123456789012:role/new"` into the error AWS returns
// while a just-created role or user named as a principal has not propagated.
func ErrorFault(name string, match func(Call, []byte) bool, status int, code, message string, times int) Fault {
	return Fault{Name: name, Match: match, Respond: RespondError(status, code, message), Times: times}
}

// Throttle answers a deterministic pseudo-random fraction rate of all calls
// it is consulted for (sequence fixed by seed) with 400 Throttling "Rate
// exceeded" for IAM/STS or 503 SlowDown for S3; narrow it by wrapping Match,
// e.g. f.Match = And(ByService("iam"), f.Match).
func Throttle(rate float64, seed int64) Fault {
	return Fault{
		Name:  "Throttle",
		Match: rateMatch(rate, seed),
		Respond: bySvc(
			RespondError(http.StatusServiceUnavailable, "SlowDown", "Please reduce your request rate."),
			RespondError(http.StatusBadRequest, "Throttling", "Rate exceeded"),
		),
	}
}

// ServerError answers a deterministic pseudo-random fraction rate of all
// calls (sequence fixed by seed) with 500 InternalError for S3 or 500
// InternalFailure for IAM/STS.
func ServerError(rate float64, seed int64) Fault {
	return Fault{
		Name:  "ServerError",
		Match: rateMatch(rate, seed),
		Respond: bySvc(
			RespondError(http.StatusInternalServerError, "InternalError", "We encountered an internal error. Please try again."),
			RespondError(http.StatusInternalServerError, "InternalFailure", "The request processing has failed because of an unknown error, exception or failure."),
		),
	}
}

// DropConnection closes the client's connection without a response for up to
// times (0 = unlimited) requests selected by match (nil = all).
//
// Go's http.Transport silently resends an idempotent request (GET, HEAD)
// once if a reused keep-alive connection closes before any response, so a
// dropped S3 GET may not reach the caller as an error; IAM/STS POSTs do.
func DropConnection(match func(Call, []byte) bool, times int) Fault {
	return Fault{
		Name:  "DropConnection",
		Match: match,
		Respond: func(Call) (int, string, []byte, bool) {
			return 0, "", nil, true
		},
		Times: times,
	}
}

// DropResponseFault forwards up to times (0 = unlimited) requests selected by
// match (nil = all) upstream and then closes the client's connection without
// the answer, as when a network fails after AWS carried out the call: a
// CreateAccessKey so dropped has created a key whose secret nobody received.
func DropResponseFault(match func(Call, []byte) bool, times int) Fault {
	return Fault{Name: "DropResponse", Match: match, DropResponse: true, Times: times}
}

// HideAccessKey rejects every request signed with akid for d from the first
// such request, as AWS does for the seconds after CreateAccessKey: 403
// InvalidClientTokenId for IAM/STS, 403 InvalidAccessKeyId for S3. now is the
// clock (nil = time.Now).
func HideAccessKey(akid string, d time.Duration, now func() time.Time) Fault {
	if now == nil {
		now = time.Now
	}
	var start time.Time
	started := false
	return Fault{
		Name: "HideAccessKey",
		Match: func(c Call, _ []byte) bool {
			if c.AccessKeyID != akid {
				return false
			}
			t := now()
			if !started {
				start, started = t, true
			}
			return t.Before(start.Add(d))
		},
		Respond: invalidKey,
	}
}

// HideAccessKeyFrom rejects every request signed with akid from start until
// start+d, like HideAccessKey but with an explicit start (for example the
// time the test created the key).
func HideAccessKeyFrom(akid string, start time.Time, d time.Duration, now func() time.Time) Fault {
	if now == nil {
		now = time.Now
	}
	return Fault{
		Name: "HideAccessKey",
		Match: func(c Call, _ []byte) bool {
			return c.AccessKeyID == akid && now().Before(start.Add(d))
		},
		Respond: invalidKey,
	}
}

// HideNewKeys rejects requests signed by any access key not in known for d
// from when the proxy first sees that key, with the errors of HideAccessKey;
// unsigned requests pass. STS session keys count as new keys too.
func HideNewKeys(known []string, d time.Duration, now func() time.Time) Fault {
	if now == nil {
		now = time.Now
	}
	known = slices.Clone(known)
	firstSeen := make(map[string]time.Time)
	return Fault{
		Name: "HideNewKeys",
		Match: func(c Call, _ []byte) bool {
			if c.AccessKeyID == "" || slices.Contains(known, c.AccessKeyID) {
				return false
			}
			t := now()
			start, ok := firstSeen[c.AccessKeyID]
			if !ok {
				start = t
				firstSeen[c.AccessKeyID] = t
			}
			return t.Before(start.Add(d))
		},
		Respond: invalidKey,
	}
}

var invalidKey = bySvc(
	RespondError(http.StatusForbidden, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records."),
	RespondError(http.StatusForbidden, "InvalidClientTokenId", "The security token included in the request is invalid."),
)

// bySvc picks the S3 or the query-protocol response by the call's service.
func bySvc(s3, query func(Call) (int, string, []byte, bool)) func(Call) (int, string, []byte, bool) {
	return func(c Call) (int, string, []byte, bool) {
		if c.Service == "s3" {
			return s3(c)
		}
		return query(c)
	}
}

func rateMatch(rate float64, seed int64) func(Call, []byte) bool {
	rng := rand.New(rand.NewPCG(uint64(seed), 0x9e3779b97f4a7c15))
	return func(Call, []byte) bool {
		return rng.Float64() < rate
	}
}

// ByOperation matches calls whose Operation is one of ops.
func ByOperation(ops ...string) func(Call, []byte) bool {
	ops = slices.Clone(ops)
	return func(c Call, _ []byte) bool { return slices.Contains(ops, c.Operation) }
}

// ByService matches calls to service svc ("iam", "sts", "s3").
func ByService(svc string) func(Call, []byte) bool {
	return func(c Call, _ []byte) bool { return c.Service == svc }
}

// ByAccessKey matches calls signed with one of akids.
func ByAccessKey(akids ...string) func(Call, []byte) bool {
	akids = slices.Clone(akids)
	return func(c Call, _ []byte) bool { return slices.Contains(akids, c.AccessKeyID) }
}

// And matches calls that all of ms match (nil entries match everything); it
// stops at the first that does not, so later stateful matchers are not
// consulted.
func And(ms ...func(Call, []byte) bool) func(Call, []byte) bool {
	ms = slices.Clone(ms)
	return func(c Call, body []byte) bool {
		for _, m := range ms {
			if m != nil && !m(c, body) {
				return false
			}
		}
		return true
	}
}

var (
	requestSeq    atomic.Uint64
	requestPrefix = uint32(time.Now().UnixNano())
)

// newRequestID returns a UUID-shaped request id unique within the process.
func newRequestID() string {
	return fmt.Sprintf("%08x-0000-4000-8000-%012x", requestPrefix, requestSeq.Add(1))
}
