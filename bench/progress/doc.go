// Package progress shows a run's live counters on a terminal: the phase,
// connections open, messages sent and delivered per second, and errors, on
// one line redrawn in place (github.com/schollz/progressbar/v3's spinner).
// When the output is not a terminal, New returns a display that prints
// nothing, so logs and CI output stay clean.
package progress
