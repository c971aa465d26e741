package bridge

import "github.com/chatd/chatd/server/config"

// Config is the bridge's configuration, the bridge: section of chatd.yaml:
// the programs and the limits, each documented with its default. It is
// declared in package config (config.Bridge), because this package
// imports package server, which imports package config.
type Config = config.Bridge

// Program is one bridged program (bridge.programs[i]).
type Program = config.BridgeProgram

// Modes of a program.
const (
	// ModePerConnection runs one process per WebSocket connection.
	ModePerConnection = config.BridgePerConnection
	// ModeShared runs one process for the path, shared by its connections.
	ModeShared = config.BridgeShared
)

// Default returns the defaults: no programs, and the documented limits.
func Default() Config { return config.DefaultBridge() }
