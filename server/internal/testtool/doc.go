// Package testtool runs the external programs that interop tests need (real
// third-party WebSocket clients from Debian) and decides what a missing one
// means: a skip on a developer machine, a failure when CI=true.
package testtool
