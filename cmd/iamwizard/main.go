// Command iamwizard sets up role-based S3 access for an application that runs outside
// AWS, and verifies or repairs it on every later run.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/iamwizard/iamwizard/internal/cli"
	"github.com/iamwizard/iamwizard/internal/tui"
)

func main() {
	// With AWS_ENDPOINT_URL set and AWS_ENDPOINT_URL_STS not, the SDK's assume-role
	// provider sends its STS call to AWS instead of that endpoint (it relies on a base
	// endpoint that is resolved only after credentials). Naming STS explicitly makes the
	// role profile follow the endpoint the administrator chose, as every other call does.
	if ep, ok := os.LookupEnv("AWS_ENDPOINT_URL"); ok {
		if _, set := os.LookupEnv("AWS_ENDPOINT_URL_STS"); !set {
			_ = os.Setenv("AWS_ENDPOINT_URL_STS", ep)
		}
	}
	// Ctrl-C cancels the context: the engine stops between calls and nothing is half-written.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	stdio := cli.StdIO()
	os.Exit(cli.Run(ctx, cli.NewRoot(stdio, tui.Command(stdio)), os.Args[1:], stdio))
}
