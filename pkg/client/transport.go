package client

import (
	"errors"
	"net"
	"net/url"
)

// isTransportError reports whether err comes from the connection rather
// than from an HTTP response.
func isTransportError(err error) bool {
	var urlErr *url.Error
	var netErr net.Error
	return errors.As(err, &urlErr) || errors.As(err, &netErr)
}
