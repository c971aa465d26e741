package web

import (
	"embed"
	"io/fs"
)

//go:embed static
var static embed.FS

// Files returns the page's files, all at the top of the file system:
// index.html, its scripts, style.css and favicon.svg. It is safe for
// concurrent use.
func Files() fs.FS {
	sub, err := fs.Sub(static, "static")
	if err != nil { // "static" is a valid path; fs.Sub cannot fail on it
		panic(err)
	}
	return sub
}

// Config is the web section of the config file.
type Config struct {
	// Enabled serves the chat page at / (and its files at /NAME).
	// Default true.
	Enabled bool `yaml:"enabled"`
}

// Default returns the defaults: the page is served.
func Default() Config { return Config{Enabled: true} }

// Validate reports invalid fields. Every value of Config is valid today; it
// is here so that the section is checked like the others when it grows.
func (c Config) Validate() error { return nil }
