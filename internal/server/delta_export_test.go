package server

// WaitDeltaBuilds blocks until no delta build runs, so that tests know
// when the delta a check asked for is ready.
func (s *Server) WaitDeltaBuilds() { s.deltas.wait() }
