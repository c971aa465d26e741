package server

// Test hooks: package server_test reaches unexported state through these.

// ClosingBytesRead returns how many bytes s has read, in all, from
// connections it had decided to close.
func ClosingBytesRead(s *Server) int64 { return s.closingRead.Load() }

// AddressEntries returns how many client addresses admission holds state
// for.
func AddressEntries(s *Server) int { return s.adm.entries() }

// Lingering returns how many answered sockets are lingering.
func Lingering(s *Server) int { return s.lingers.len() }

// ReadBufferSize is an event loop's read buffer size.
const ReadBufferSize = readBufferSize

// ReadingPaused reports whether c has input held back and its reading
// paused (a full queue, or the session's PauseReading).
func ReadingPaused(c *Conn) bool { return c.paused.Load() }
