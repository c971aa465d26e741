// Package testserver runs a real chatd server on 127.0.0.1:0 for tests in
// other packages, with its logs captured so tests can assert what the server
// recorded (for example a connection's close code).
package testserver
