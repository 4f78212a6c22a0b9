package main

import (
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/mfpdev/mfpdev/internal/realcordova"
)

// TestRealCordovaScripts runs the scripts in testdata/real on a copy of a
// project made by the real cordova CLI with cordova-plugin-mfp from npm
// ($REAL), with a free port for a server ($PORT). Without that project the
// test is skipped, or fails under CI=true (see internal/realcordova).
func TestRealCordovaScripts(t *testing.T) {
	realcordova.Project(t)

	testscript.Run(t, testscript.Params{
		Dir: filepath.Join("testdata", "real"),
		Setup: func(env *testscript.Env) error {
			env.Setenv("REAL", realcordova.CopyProject(t))
			env.Setenv("MFPDEV_CONFIG", filepath.Join(env.WorkDir, ".config", "mfpdev.json"))
			env.Setenv("SOURCE_DATE_EPOCH", "")
			port, err := freePort()
			if err != nil {
				return err
			}
			env.Setenv("PORT", port)
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"cpdir":     cmdCopyDir,
			"waitready": cmdWaitReady,
		},
		RequireExplicitExec: true,
	})
}
