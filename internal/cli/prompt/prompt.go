// Package prompt reads values the user types at a terminal prompt. Commands depend on
// the Prompter interface only, so that the survey library (archived
// upstream) can be replaced without touching them, and tests can answer
// prompts without a terminal.
package prompt

import (
	"errors"
	"os"

	"github.com/AlecAivazis/survey/v2"
	"github.com/AlecAivazis/survey/v2/terminal"
)

// ErrCancelled is returned when the user interrupts a prompt with Ctrl-C.
var ErrCancelled = errors.New("cancelled")

// Prompter prompts the user for one value at a time.
type Prompter interface {
	// Input prompts for a line of text and returns defaultValue for an empty input.
	Input(message, defaultValue string) (string, error)
	// Password asks for a secret without echoing it.
	Password(message string) (string, error)
	// Confirm asks a yes/no question.
	Confirm(message string, defaultValue bool) (bool, error)
}

// Survey is a Prompter that uses the process's terminal. It reads stdin
// and draws on stderr, so a prompt still reaches the user when stdout is
// redirected, as in users=$(mfpdev server hash-password), and none of its
// escape sequences end up in the redirected output.
type Survey struct{}

// stdio returns the option that makes a prompt read stdin and draw on stderr.
func stdio() survey.AskOpt {
	return survey.WithStdio(os.Stdin, os.Stderr, os.Stderr)
}

// Input asks for a line of text on the terminal.
func (Survey) Input(message, defaultValue string) (string, error) {
	var answer string
	err := survey.AskOne(&survey.Input{Message: message, Default: defaultValue}, &answer, stdio())
	return answer, mapError(err)
}

// Password asks for a secret on the terminal without echoing it.
func (Survey) Password(message string) (string, error) {
	var answer string
	err := survey.AskOne(&survey.Password{Message: message}, &answer, stdio())
	return answer, mapError(err)
}

// Confirm asks a yes/no question on the terminal.
func (Survey) Confirm(message string, defaultValue bool) (bool, error) {
	var answer bool
	err := survey.AskOne(&survey.Confirm{Message: message, Default: defaultValue}, &answer, stdio())
	return answer, mapError(err)
}

func mapError(err error) error {
	if errors.Is(err, terminal.InterruptErr) {
		return ErrCancelled
	}
	return err
}
