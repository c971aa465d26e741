package main

import (
	"errors"
	"fmt"
	"io"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// LogConfig is the log: section: the zap logger's level and format.
type LogConfig struct {
	// Level is debug, info, warn or error. Default "info".
	Level string `yaml:"level"`
	// Format is console or json. Default "console".
	Format string `yaml:"format"`
}

// Validate reports every invalid field, one per line, named by its YAML key
// path (log.…).
func (c LogConfig) Validate() error {
	var errs []error
	switch c.Level {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("log.level %q: want debug, info, warn or error", c.Level))
	}
	switch c.Format {
	case "console", "json":
	default:
		errs = append(errs, fmt.Errorf("log.format %q: want console or json", c.Format))
	}
	return errors.Join(errs...)
}

// newLogger builds the one logger of the process, writing to w. It is
// injected into the server; zap's globals are never replaced.
func newLogger(cfg LogConfig, w io.Writer) (*zap.Logger, error) {
	log, _, err := newLeveledLogger(cfg, w)
	return log, err
}

// newLeveledLogger is newLogger that also returns the logger's level, which
// a reload changes (log.level) while the logger is in use.
func newLeveledLogger(cfg LogConfig, w io.Writer) (*zap.Logger, zap.AtomicLevel, error) {
	level, err := zapcore.ParseLevel(cfg.Level)
	if err != nil {
		return nil, zap.AtomicLevel{}, fmt.Errorf("log.level: %w", err)
	}
	var enc zapcore.Encoder
	switch cfg.Format {
	case "json":
		ec := zap.NewProductionEncoderConfig()
		ec.EncodeTime = zapcore.RFC3339NanoTimeEncoder
		ec.EncodeDuration = zapcore.StringDurationEncoder // "10s", not 10
		enc = zapcore.NewJSONEncoder(ec)
	case "console":
		ec := zap.NewDevelopmentEncoderConfig()
		ec.EncodeTime = zapcore.RFC3339TimeEncoder
		enc = zapcore.NewConsoleEncoder(ec)
	default:
		return nil, zap.AtomicLevel{}, fmt.Errorf("log.format %q: want console or json", cfg.Format)
	}
	out := zapcore.Lock(zapcore.AddSync(w))
	atomicLevel := zap.NewAtomicLevelAt(level)
	core := zapcore.NewCore(enc, out, atomicLevel)
	return zap.New(core, zap.AddCaller(), zap.ErrorOutput(out)), atomicLevel, nil
}
