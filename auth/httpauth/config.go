package httpauth

import (
	"errors"
	"fmt"
	"net/url"
	"time"
)

// maxTimeout bounds Config.Timeout: a login that takes longer is better
// refused and retried.
const maxTimeout = time.Minute

// Config is the auth.http section of the config file.
type Config struct {
	// URL is the endpoint chatd POSTs each login to, http or https, such as
	// "https://accounts.example.com/chat/login". Required; default "".
	URL string `yaml:"url"`
	// Timeout bounds one login request, from connecting to reading the
	// whole answer, "1ms" to "1m". Default "5s".
	Timeout time.Duration `yaml:"timeout"`
}

// Default returns the defaults. They do not validate on their own: the URL
// is required.
func Default() Config { return Config{Timeout: 5 * time.Second} }

// Validate reports every invalid field, one per line.
func (c Config) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.URL == "" {
		add(`auth.http.url: required: the login endpoint, such as "https://accounts.example.com/chat/login"`)
	} else if u, err := url.Parse(c.URL); err != nil {
		add("auth.http.url: %v", err)
	} else if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		add("auth.http.url %q: want an absolute http:// or https:// URL", u.Redacted())
	}
	if c.Timeout <= 0 || c.Timeout > maxTimeout {
		add(`auth.http.timeout %v: want a duration from "1ms" to "1m", such as "5s"`, c.Timeout)
	}
	return errors.Join(errs...)
}
