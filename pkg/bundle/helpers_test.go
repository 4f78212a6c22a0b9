package bundle

import "runtime"

func runtimeSetProcs(n int) int { return runtime.GOMAXPROCS(n) }
