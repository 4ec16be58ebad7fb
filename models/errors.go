package models

import (
	"errors"
	"fmt"
)

// ErrDuplicate is a unique key already taken (a SKU, an open waitlist entry).
var ErrDuplicate = errors.New("models: already exists")

// ErrNotFound is returned where a caller must tell "missing" from "failed".
var ErrNotFound = errors.New("models: not found")

// wrapErr names the store operation that failed, keeping err for errors.Is.
func wrapErr(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("store: unable to "+format+": %w", append(args, err)...)
}
