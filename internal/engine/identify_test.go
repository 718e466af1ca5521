package engine_test

import (
	"context"
	"slices"
	"testing"

	"github.com/iamwizard/iamwizard/internal/engine"
	"github.com/iamwizard/iamwizard/internal/settings"
	"github.com/iamwizard/iamwizard/internal/testenv"
)

func TestIdentifyNamesTheAdminAndTheBucketsItSees(t *testing.T) {
	env := testenv.Emulator(t)
	env.Isolate(t)
	bucket := env.Bucket(t)
	id, err := engine.Identify(context.Background(), engine.Config{Choices: settings.Choices{EndpointURL: env.Endpoint}})
	if err != nil {
		t.Fatal(err)
	}
	if id.Account == "" || id.AdminARN == "" || id.Partition != "aws" {
		t.Fatalf("identity: %+v", id)
	}
	if !id.CanList || !slices.Contains(id.Buckets, bucket) {
		t.Fatalf("buckets %v do not include %s", id.Buckets, bucket)
	}
}
