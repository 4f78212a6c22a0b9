package cmdutil

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"
)

// ExitCode is the status mfpdev exits with.
type ExitCode int

// Exit statuses, listed in every command's help.
const (
	ExitOK        ExitCode = 0 // success
	ExitError     ExitCode = 1 // the operation failed
	ExitUsage     ExitCode = 2 // invalid flags or arguments
	ExitCancelled ExitCode = 3 // interrupted by the user (Ctrl-C, SIGTERM)
	ExitAuth      ExitCode = 4 // the server rejected the credentials
)

// ExitStatusLocalHelp ends the long help of commands that talk to no server.
const ExitStatusLocalHelp = `
Exit status:
  0  success
  1  the operation failed
  2  invalid flags or arguments
  3  interrupted (Ctrl-C or SIGTERM)`

// ExitStatusHelp ends the long help of commands that talk to a server.
const ExitStatusHelp = ExitStatusLocalHelp + `
  4  the server rejected the credentials`

// UsageError reports invalid flags or arguments; it exits with ExitUsage.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// Usagef returns a UsageError with a formatted message.
func Usagef(format string, args ...any) error {
	return &UsageError{Err: fmt.Errorf(format, args...)}
}

// AuthError reports credentials a server rejected; it exits with ExitAuth.
type AuthError struct{ Err error }

func (e *AuthError) Error() string { return e.Err.Error() }
func (e *AuthError) Unwrap() error { return e.Err }

// SilentError makes the command exit with Code without printing anything
// more, because the command already reported the failure on its own.
type SilentError struct{ Code ExitCode }

func (e *SilentError) Error() string { return fmt.Sprintf("exit status %d", e.Code) }

// StopError reports a failure while a command stopped after SIGINT or
// SIGTERM, such as a server whose running requests were cut off. It exits
// with ExitError, not ExitCancelled, because the stop did not go cleanly.
type StopError struct{ Err error }

func (e *StopError) Error() string { return e.Err.Error() }
func (e *StopError) Unwrap() error { return e.Err }

// ErrCancelled reports an operation interrupted by the user.
var ErrCancelled = errors.New("interrupted")

// FlagRequiredError returns the error for a value that is missing when
// mfpdev cannot prompt for it.
func FlagRequiredError(flag string) error {
	return Usagef("%s required when not running interactively", flag)
}

// RunGroup is the RunE of a command group: it prints the group's help, or
// fails on an unknown subcommand. Without a RunE, cobra prints the help and
// exits 0 for a mistyped subcommand, so a script never notices the typo.
func RunGroup(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return Usagef("unknown command %q for %q: run %q for the list", args[0], cmd.CommandPath(), cmd.CommandPath()+" --help")
	}
	return cmd.Help()
}
