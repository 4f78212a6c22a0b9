// Package cli assembles the mfpdev command tree and maps errors to exit
// codes. Each verb lives in its own package below this one and stays thin:
// it parses and validates flags, then calls a library under pkg/ or the
// server under internal/server.
package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/mfpdev/mfpdev/internal/cli/cmdutil"
	"github.com/mfpdev/mfpdev/internal/cli/prompt"
)

// version is set by the release build with -ldflags "-X ...cli.version=…".
var version = "dev"

// Main runs mfpdev with the process's arguments and returns its exit code.
// SIGINT and SIGTERM cancel the context the commands run under, so
// interrupted work is cleaned up before exiting.
func Main() cmdutil.ExitCode {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	f := cmdutil.NewFactory(version)
	root := NewCmdRoot(f)
	root.SetArgs(os.Args[1:])
	cmd, err := root.ExecuteContextC(ctx)
	return handleError(f, ctx, cmd, err)
}

// NewCmdRoot returns the root command with every subcommand attached.
func NewCmdRoot(f *cmdutil.Factory) *cobra.Command {
	root := &cobra.Command{
		Use:   "mfpdev <command> <subcommand> [flags]",
		Short: "Package, serve and apply direct updates of Cordova web resources",
		Long: `mfpdev packages the web resources of a Cordova app that uses
cordova-plugin-mfp into signed direct-update archives, runs an update server
that decides which devices get them, and plays the part of a device to check
and apply updates.`,
		Example: `  # From the Cordova project root: build the archives into mobilefirst/
  mfpdev app webupdate --build

  # Run a local update server and push to it
  mfpdev server start &
  mfpdev app webupdate`,
		Version:       f.Version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(f.IOStreams.In)
	root.SetOut(f.IOStreams.Out)
	root.SetErr(f.IOStreams.ErrOut)
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return &cmdutil.UsageError{Err: fmt.Errorf("%w\nRun '%s --help' for usage.", err, cmd.CommandPath())}
	})

	for _, add := range subcommands {
		root.AddCommand(add(f))
	}
	// Cobra adds its completion command only when the root runs; add it now
	// so that it gets the check below too.
	root.InitDefaultCompletionCmd()
	for _, cmd := range root.Commands() {
		rejectUnknownSubcommands(cmd)
	}
	return root
}

// rejectUnknownSubcommands gives every command group below cmd that has
// no RunE of its own cmdutil.RunGroup, which fails on an unknown
// subcommand.
func rejectUnknownSubcommands(cmd *cobra.Command) {
	if cmd.HasSubCommands() && cmd.Run == nil && cmd.RunE == nil {
		cmd.RunE = cmdutil.RunGroup
	}
	for _, sub := range cmd.Commands() {
		rejectUnknownSubcommands(sub)
	}
}

// handleError prints err and returns the exit code for it. cmd is the
// command that ran, or the deepest one found, for the usage line of an
// argument error.
func handleError(f *cmdutil.Factory, ctx context.Context, cmd *cobra.Command, err error) cmdutil.ExitCode {
	if err == nil {
		return cmdutil.ExitOK
	}
	stderr := f.IOStreams.ErrOut

	var silent *cmdutil.SilentError
	if errors.As(err, &silent) {
		return silent.Code
	}
	var stop *cmdutil.StopError
	if errors.As(err, &stop) {
		fmt.Fprintln(stderr, "mfpdev:", redactKeys(err.Error()))
		return cmdutil.ExitError
	}
	if errors.Is(err, cmdutil.ErrCancelled) || errors.Is(err, prompt.ErrCancelled) || ctx.Err() != nil {
		fmt.Fprintln(stderr, "mfpdev: interrupted; nothing was left half-written")
		return cmdutil.ExitCancelled
	}

	msg := redactKeys(err.Error())
	var usage *cmdutil.UsageError
	if errors.As(err, &usage) || strings.HasPrefix(msg, "unknown command") || strings.HasPrefix(msg, "accepts ") ||
		strings.HasPrefix(msg, "requires ") || strings.HasPrefix(msg, "unknown flag") {
		fmt.Fprintln(stderr, "mfpdev:", msg)
		// Cobra's argument-count errors do not say which arguments the
		// command takes.
		if cmd != nil && (strings.HasPrefix(msg, "accepts ") || strings.HasPrefix(msg, "requires ")) {
			fmt.Fprintf(stderr, "Usage: %s\nRun '%s --help' for more.\n", cmd.UseLine(), cmd.CommandPath())
		}
		return cmdutil.ExitUsage
	}
	fmt.Fprintln(stderr, "mfpdev:", msg)

	var auth *cmdutil.AuthError
	if errors.As(err, &auth) {
		return cmdutil.ExitAuth
	}
	return cmdutil.ExitError
}

// redactKeys replaces PEM blocks in an error message, so that a key pasted
// where a flag or value was expected never reaches the terminal or a CI log.
func redactKeys(msg string) string {
	for {
		start := strings.Index(msg, "-----BEGIN")
		if start < 0 {
			return msg
		}
		end := strings.Index(msg[start:], "-----END")
		if end < 0 {
			return msg[:start] + "[PEM block removed]"
		}
		rest := msg[start+end+len("-----END"):]
		if close := strings.Index(rest, "-----"); close >= 0 {
			rest = rest[close+len("-----"):]
		} else {
			rest = ""
		}
		msg = msg[:start] + "[PEM block removed]" + rest
	}
}
