package cordova

import "errors"

// Kinds of project errors. An error Find, Load or SelectPlatforms returns
// for one of these problems matches its kind with errors.Is, and its
// message names the file and the fix. Other errors (I/O, an invalid plugin
// version, an unknown platform name) match none of them.
var (
	ErrNoConfig            = errors.New("no config.xml found")
	ErrInvalidConfig       = errors.New("config.xml is not well-formed")
	ErrInvalidVersion      = errors.New("invalid widget version")
	ErrMissingID           = errors.New("widget id missing")
	ErrInvalidID           = errors.New("invalid widget id")
	ErrNoPlatform          = errors.New("no platform added")
	ErrPlatformNotAdded    = errors.New("platform not added")
	ErrPlatformNotPrepared = errors.New("platform not prepared")
	ErrPluginMissing       = errors.New("cordova-plugin-mfp not installed")
)

// projectError carries a full message and matches its kind and its cause.
type projectError struct {
	kind  error
	msg   string
	cause error
}

func (e *projectError) Error() string { return e.msg }

func (e *projectError) Unwrap() []error {
	if e.cause == nil {
		return []error{e.kind}
	}
	return []error{e.kind, e.cause}
}
