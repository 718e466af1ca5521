package tui

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/iamwizard/iamwizard/internal/engine"
	"github.com/iamwizard/iamwizard/internal/settings"
)

func TestPrompterReadsEveryAnswerFromOneBuffer(t *testing.T) {
	var out bytes.Buffer
	p := newPrompter(strings.NewReader("first\n\nthird"), &out)
	for i, want := range []string{"first", "default", "third"} {
		got, err := p.ask("q", "default", false, nil)
		if err != nil || got != want {
			t.Fatalf("answer %d = %q, %v; want %q", i, got, err, want)
		}
	}
	if _, err := p.ask("fourth question", "default", false, nil); err == nil || !strings.Contains(err.Error(), "input ended before fourth question was answered") {
		t.Fatalf("end of input must be an error naming the question, got %v", err)
	}
}

func TestPrompterClearsOptionalAnswers(t *testing.T) {
	p := newPrompter(strings.NewReader("-\n"), &bytes.Buffer{})
	if got, err := p.ask("prefix", "uploads/", true, nil); err != nil || got != "" {
		t.Fatalf("- should empty an optional answer, got %q, %v", got, err)
	}
}

func TestAccessibleReasksInvalidAndStopsAtEndOfInput(t *testing.T) {
	t.Setenv("IAMWIZARD_SETTINGS", t.TempDir()+"/settings.json")
	var out bytes.Buffer
	// A bad bucket, then a good one, then the input ends: nothing may be assumed.
	in := strings.NewReader("\n\nBad_Bucket\nexample-bucket\n")
	cfg := engine.Config{Store: settings.Store{Path: t.TempDir() + "/settings.json"}}
	err := RunAccessible(context.Background(), cfg, in, &out, false)
	if err == nil || !strings.Contains(err.Error(), "input ended before Key prefix") {
		t.Fatalf("err = %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "not accepted: \"Bad_Bucket\"") {
		t.Errorf("an invalid answer should be refused with the rule:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "Existing bucket the application writes to [example-bucket]") &&
		strings.Count(out.String(), "Existing bucket the application writes to") != 2 {
		t.Errorf("the bucket should be asked again after the refusal:\n%s", out.String())
	}
}

func TestPrompterConfirmDefaultsToNoAndNeedsAnAnswer(t *testing.T) {
	p := newPrompter(strings.NewReader("maybe\n\n"), &bytes.Buffer{})
	if ok, err := p.confirm("Apply?"); err != nil || ok {
		t.Fatalf("empty answer must be no, got %v %v", ok, err)
	}
	if _, err := p.confirm("Apply?"); err == nil {
		t.Fatal("end of input must not count as an answer")
	}
}
