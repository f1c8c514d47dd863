package errs

// Code is a stable, machine-readable error code: what a client switches on. The list is
// closed: every code the API can send is declared here, once, with the kind of failure it
// is. openapi.yaml (the Problem schema's code enum) and the README's table list the same
// codes, and TestCodesAreDocumented keeps all three in step.
type Code string

// The codes.
const (
	CodeValidationFailed     Code = "validation_failed"         // the request does not match the contract
	CodeInvalidCursor        Code = "invalid_cursor"            // a cursor this API did not issue
	CodeUnauthorized         Code = "unauthorized"              // no credential, or one that does not verify
	CodeForbidden            Code = "forbidden"                 // a verified caller that may not do this
	CodeInvalidSignature     Code = "invalid_signature"         // a webhook whose signature does not match
	CodeNotFound             Code = "not_found"                 // no such resource for this caller
	CodeNoRecording          Code = "no_recording"              // the call has no recording to play
	CodeRecordingPurged      Code = "recording_purged"          // the clinic's retention window removed the recording
	CodeMethodNotAllowed     Code = "method_not_allowed"        // the route does not take this method
	CodePayloadTooLarge      Code = "payload_too_large"         // the body is larger than the operation takes
	CodeUnsupportedMediaType Code = "unsupported_media_type"    // the body's Content-Type is not one the operation takes
	CodeInvalidPhoneNumber   Code = "invalid_phone_number"      // not a number that can be called
	CodePhoneNumberTaken     Code = "phone_number_taken"        // the number is registered already
	CodeAlreadyVerified      Code = "already_verified"          // the clinic's claim of the number is proven already
	CodeVerificationRefused  Code = "verification_refused"      // Twilio Verify will not send a code that way now
	CodeInvalidCode          Code = "invalid_verification_code" // not the code sent, or none is waiting
	CodeTooManyStreams       Code = "too_many_streams"          // the clinic holds as many live streams as allowed
	CodeUnknownAssistant     Code = "unknown_assistant"         // not one of the clinic's assistants, or not one VAPI knows
	CodeAssistantTaken       Code = "assistant_taken"           // the assistant is registered already
	CodeAlreadyBlocked       Code = "already_blocked"           // the caller is blocked already
	CodeInvalidRouting       Code = "invalid_routing"           // routing that cannot route: a zone, hours or closures that do not read
	CodeStaleVersion         Code = "stale_version"             // If-Match names a version someone has changed since
	CodeCallbackOpen         Code = "callback_open"             // the call has an open callback already
	CodeInvalidEndpoint      Code = "invalid_endpoint"          // a webhook endpoint that cannot be delivered to
	CodeCallbackCompleted    Code = "callback_completed"        // the callback is completed already
	CodeVersionRequired      Code = "version_required"          // the change needs If-Match with the version it was made against
	CodeAccountClosed        Code = "account_closed"            // the tenant's Clerk organisation or user was deleted
	CodeUnavailable          Code = "unavailable"               // a dependency is down; retry
	CodeInternal             Code = "internal_error"            // the service failed; quote the request id
)

// Codes maps every code to the kind of failure it is.
var Codes = map[Code]Kind{
	CodeValidationFailed:     Invalid,
	CodeInvalidCursor:        Invalid,
	CodeUnauthorized:         Unauthorized,
	CodeForbidden:            Forbidden,
	CodeInvalidSignature:     Forbidden,
	CodeNotFound:             NotFound,
	CodeNoRecording:          NotFound,
	CodeRecordingPurged:      NotFound,
	CodeMethodNotAllowed:     MethodNotAllowed,
	CodePayloadTooLarge:      TooLarge,
	CodeUnsupportedMediaType: UnsupportedMediaType,
	CodeInvalidPhoneNumber:   Unprocessable,
	CodePhoneNumberTaken:     Conflict,
	CodeAlreadyVerified:      Conflict,
	CodeVerificationRefused:  Unprocessable,
	CodeInvalidCode:          Unprocessable,
	CodeTooManyStreams:       TooMany,
	CodeUnknownAssistant:     Unprocessable,
	CodeAssistantTaken:       Conflict,
	CodeAlreadyBlocked:       Conflict,
	CodeInvalidRouting:       Unprocessable,
	CodeStaleVersion:         PreconditionFailed,
	CodeCallbackOpen:         Conflict,
	CodeInvalidEndpoint:      Unprocessable,
	CodeCallbackCompleted:    Conflict,
	CodeVersionRequired:      PreconditionRequired,
	CodeAccountClosed:        Forbidden,
	CodeUnavailable:          Unavailable,
	CodeInternal:             Internal,
}

// Kind returns the kind of failure the code is; a code outside the list is Internal.
func (c Code) Kind() Kind {
	if k, ok := Codes[c]; ok {
		return k
	}
	return Internal
}
