package query

import (
	"errors"
	"io"
	"net"
	"syscall"
)

// isNetworkTransient reports whether err is a connection failure that may
// heal by itself: refused or reset connections, a connection closed early,
// or a network timeout.
func isNetworkTransient(err error) bool {
	if errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, io.EOF) {
		return true
	}
	var nerr net.Error
	return errors.As(err, &nerr) && nerr.Timeout()
}
