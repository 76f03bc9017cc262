package parse

import (
	"context"
	"errors"
	"fmt"

	"github.com/parsego/parse/storage"
)

// Error is the one error type of parsego: a Parse error code and a message,
// as the REST API reports them ({"code": 101, "error": "Object not found."}).
// Err, when set, is the underlying cause; it is logged, never sent.
type Error struct {
	Code    int
	Message string
	Err     error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("parse error %d: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("parse error %d: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is an *Error with the same code, so that
// errors.Is(err, &parse.Error{Code: parse.ObjectNotFound}) works.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// NewError returns an *Error with a formatted message.
func NewError(code int, format string, args ...any) *Error {
	if len(args) == 0 {
		return &Error{Code: code, Message: format}
	}
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns err's Parse code: its own if it is (or wraps) an *Error,
// InternalServerError otherwise, and 0 for nil.
func ErrorCode(err error) int {
	if err == nil {
		return 0
	}
	var pe *Error
	if errors.As(err, &pe) {
		return pe.Code
	}
	return InternalServerError
}

// Parse error codes, named as in the Parse SDKs.
const (
	OtherCause                  = -1
	InternalServerError         = 1
	ConnectionFailed            = 100
	ObjectNotFound              = 101
	InvalidQuery                = 102
	InvalidClassName            = 103
	MissingObjectID             = 104
	InvalidKeyName              = 105
	InvalidPointer              = 106
	InvalidJSON                 = 107
	CommandUnavailable          = 108
	NotInitialized              = 109
	IncorrectType               = 111
	InvalidChannelName          = 112
	PushMisconfigured           = 115
	ObjectTooLarge              = 116
	OperationForbidden          = 119
	CacheMiss                   = 120
	InvalidNestedKey            = 121
	InvalidFileName             = 122
	InvalidACL                  = 123
	Timeout                     = 124
	InvalidEmailAddress         = 125
	MissingContentType          = 126
	MissingContentLength        = 127
	InvalidContentLength        = 128
	FileTooLarge                = 129
	FileSaveError               = 130
	DuplicateValue              = 137
	InvalidRoleName             = 139
	ExceededQuota               = 140
	ScriptFailed                = 141
	ValidationError             = 142
	InvalidImageData            = 143
	UnsavedFileError            = 151
	InvalidPushTime             = 152
	FileDeleteError             = 153
	FileDeleteUnnamedError      = 161
	RequestLimitExceeded        = 155
	DuplicateRequest            = 159
	InvalidEventName            = 160
	InvalidValue                = 162
	UsernameMissing             = 200
	PasswordMissing             = 201
	UsernameTaken               = 202
	EmailTaken                  = 203
	EmailMissing                = 204
	EmailNotFound               = 205
	SessionMissing              = 206
	MustCreateUserThroughSignup = 207
	AccountAlreadyLinked        = 208
	InvalidSessionToken         = 209
	MFAError                    = 210
	MFATokenRequired            = 211
	LinkedIDMissing             = 250
	InvalidLinkedSession        = 251
	UnsupportedService          = 252
	InvalidSchemaOperation      = 255
	AggregateError              = 600
	FileReadError               = 601
	XDomainRequest              = 602
	// Codes the reference server uses without SDK names: installations.
	InvalidInstallationID = 132
	MissingRequiredField  = 135
	ChangedImmutableField = 136
	// WebhookError (the JS SDK's WEBHOOK_ERROR) reports misuse of the
	// Hooks API.
	WebhookError = 143
)

// writeError translates a store error of a write into a Parse error.
func (a *App) writeError(class string, err error) error {
	var dup *storage.DuplicateError
	if errors.As(err, &dup) {
		if class == ClassUser {
			switch dup.Field {
			case "username":
				return errUsernameTaken()
			case "email":
				return NewError(EmailTaken, "Account already exists for this email address.")
			}
		}
		return NewError(DuplicateValue, "A duplicate value for a field with unique values was provided")
	}
	return a.storeError(err)
}

// storeError translates a store error into a Parse error; unexpected ones
// become 1 (internal error) with the cause kept for the log.
func (a *App) storeError(err error) error {
	var pe *Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &pe):
		return pe
	case errors.Is(err, storage.ErrNotFound):
		return NewError(ObjectNotFound, "Object not found.")
	case errors.Is(err, storage.ErrTypeMismatch):
		return &Error{Code: IncorrectType, Message: "the operator does not apply to the stored value", Err: err}
	case errors.Is(err, storage.ErrInvalidQuery):
		return &Error{Code: InvalidQuery, Message: "invalid query", Err: err}
	case errors.Is(err, storage.ErrUnsupported):
		return &Error{Code: InvalidQuery, Message: "unsupported query", Err: err}
	case errors.Is(err, storage.ErrDuplicateValue):
		return NewError(DuplicateValue, "A duplicate value for a field with unique values was provided")
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return &Error{Code: Timeout, Message: "request canceled", Err: err}
	}
	return &Error{Code: InternalServerError, Message: "An internal server error occurred", Err: err}
}
