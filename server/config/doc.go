// Package config holds chatd's configuration: the Go structs that mirror
// configs/chatd.yaml, their built-in defaults and their validation.
//
// The file is decoded strictly: an unknown key is an error that names its
// line. Durations are strings such as "5s". Every field has a default, and
// Default() equals configs/chatd.yaml (a test proves it), so running chatd
// with no file and running it with the shipped file behave the same.
//
// Config values are plain data: they are built once in main, validated, and
// passed by value to the packages that need them. Nothing here is global.
package config
