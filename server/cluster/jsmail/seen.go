package jsmail

import (
	"errors"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// SetSeen records at as the time user was last seen, replacing any earlier
// record, and returns once JetStream has acknowledged the write. The record
// is a key of the Prefix_seen bucket (the user's name in base64url, the
// value Unix nanoseconds in decimal); the bucket's TTL, Config.SeenMaxAge,
// deletes it that long after it was written.
func (s *Store) SetSeen(user string, at time.Time) error {
	ctx, cancel, err := s.begin(user)
	if err != nil {
		return err
	}
	defer cancel()
	_, err = s.kv.Put(ctx, token(user), strconv.AppendInt(nil, at.UnixNano(), 10))
	return wrap("set seen", err)
}

// Seen returns when user was last seen, as recorded by SetSeen. ok is false
// if there is no record, or only one older than SeenMaxAge by the Store's
// clock (the bucket's TTL deletes those; Seen never reports them).
func (s *Store) Seen(user string) (at time.Time, ok bool, err error) {
	ctx, cancel, err := s.begin(user)
	if err != nil {
		return time.Time{}, false, err
	}
	defer cancel()
	kve, err := s.kv.Get(ctx, token(user))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, wrap("seen", err)
	}
	n, err := strconv.ParseInt(string(kve.Value()), 10, 64)
	if err != nil || n < s.now().Add(-s.cfg.SeenMaxAge).UnixNano() {
		return time.Time{}, false, nil // malformed, or too old
	}
	return time.Unix(0, n), true, nil
}
