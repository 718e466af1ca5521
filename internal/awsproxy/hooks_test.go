package awsproxy_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/iamwizard/iamwizard/internal/awsproxy"
)

func TestDropResponseForwardsThenDrops(t *testing.T) {
	u, p := setup(t)
	ctx := context.Background()
	client := iamClient(p, adminKey)
	p.AddFault(awsproxy.DropResponseFault(awsproxy.ByOperation("CreateAccessKey"), 1))
	before := u.requestCount()
	_, err := client.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("app")})
	var ae smithy.APIError
	var se *smithyhttp.RequestSendError
	if err == nil || errors.As(err, &ae) || !errors.As(err, &se) {
		t.Errorf("dropped answer: want a transport error (RequestSendError), got %T %v", err, err)
	}
	if got := u.requestCount() - before; got != 1 {
		t.Errorf("the upstream saw %d requests, want 1: the request must be carried out before the answer is dropped", got)
	}
	if _, err := client.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("app")}); err != nil {
		t.Errorf("after the one drop: %v", err)
	}
	checkCalls(t, p, []call{
		{"iam", "CreateAccessKey", adminKey, 0, "DropResponse"},
		{"iam", "CreateAccessKey", adminKey, 200, ""},
	})
}

func TestOnResponseSeesQueryBodiesOnly(t *testing.T) {
	_, p := setup(t)
	ctx := context.Background()
	var seen []string
	var bodies [][]byte
	p.OnResponse(func(c awsproxy.Call, body []byte) {
		seen = append(seen, c.Service+":"+c.Operation)
		bodies = append(bodies, bytes.Clone(body))
		if c.Status != 200 {
			t.Errorf("%s: hook saw status %d", c.Operation, c.Status)
		}
	})
	out, err := stsClient(p, adminKey).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(out.Account) != "000000000000" {
		t.Fatalf("the client must still get the body: %v %+v", err, out)
	}
	if _, err := s3Client(p, adminKey).PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("b"), Key: aws.String("k"), Body: bytes.NewReader([]byte("x"))}); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 1 || seen[0] != "sts:GetCallerIdentity" || !bytes.Contains(bodies[0], []byte("<Account>000000000000</Account>")) {
		t.Fatalf("hook saw %v", seen)
	}
}

func TestSetClockStampsCalls(t *testing.T) {
	_, p := setup(t)
	c := &clock{t: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
	p.SetClock(c.Now)
	if _, err := stsClient(p, adminKey).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatal(err)
	}
	p.SetClock(nil)
	if _, err := stsClient(p, adminKey).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatal(err)
	}
	calls := p.Calls()
	if !calls[0].Time.Equal(c.t) || time.Since(calls[1].Time) > time.Minute {
		t.Fatalf("call times %v, %v", calls[0].Time, calls[1].Time)
	}
}

func TestRewriteResponseChangesWhatTheClientGets(t *testing.T) {
	_, p := setup(t)
	p.RewriteResponse(func(c awsproxy.Call, body []byte) []byte {
		if c.Operation != "GetCallerIdentity" {
			return nil
		}
		return bytes.ReplaceAll(body, []byte("000000000000"), []byte("123456789012"))
	})
	var seen []byte
	p.OnResponse(func(_ awsproxy.Call, body []byte) { seen = bytes.Clone(body) })
	out, err := stsClient(p, adminKey).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(out.Account) != "123456789012" {
		t.Fatalf("rewritten answer: %v %+v", err, out)
	}
	if !bytes.Contains(seen, []byte("123456789012")) {
		t.Fatal("a later hook did not see the rewritten body")
	}
}
