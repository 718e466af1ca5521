package tui

import (
	"errors"

	"github.com/iamwizard/iamwizard/internal/cli"
)

// stage is how far the wizard got, which decides what leaving means.
type stage int

const (
	stageChoosing stage = iota // nothing written yet
	stageRunning               // apply is writing
	stageApplied               // apply finished
	stageVerified              // the live checks ran
)

// outcome records how the run is going, for the exit code when the wizard ends.
type outcome struct {
	stage        stage
	quit         bool
	interrupted  bool
	err          error // apply or verify failed
	verifyFailed bool
}

// result is the error the command returns: the exit code follows the plain commands
// (1 failed, 130 interrupted), and leaving before applying changes nothing and is no error.
func (o outcome) result() error {
	switch {
	case o.interrupted:
		return &cli.ExitError{Code: cli.ExitAborted, Err: errInterrupted}
	case o.err != nil:
		return o.err
	case o.verifyFailed:
		return &cli.ExitError{Code: cli.ExitFailed, Err: errors.New("the setup was applied, but a check failed: run `iamwizard verify` for the details")}
	}
	return nil
}

// errInterrupted says what an interruption left behind.
var errInterrupted = errors.New("stopped between AWS calls: nothing is half-written; re-running iamwizard continues where it stopped")
