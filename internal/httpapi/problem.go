package httpapi

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/labstack/echo/v4"

	"github.com/switchboard-health/switchboard/api"
	"github.com/switchboard-health/switchboard/internal/errs"
)

// statusOf is the one map from error kinds to HTTP statuses.
var statusOf = map[errs.Kind]int{
	errs.Internal:      http.StatusInternalServerError,
	errs.Invalid:       http.StatusBadRequest,
	errs.Unprocessable: http.StatusUnprocessableEntity,
	errs.Unauthorized:  http.StatusUnauthorized,
	errs.Forbidden:     http.StatusForbidden,
	errs.NotFound:      http.StatusNotFound,
	errs.Conflict:      http.StatusConflict,
	errs.Unavailable:   http.StatusServiceUnavailable,
}

// codeOfStatus names the errors Echo and the request validator raise themselves.
var codeOfStatus = map[int]string{
	http.StatusBadRequest:            "validation_failed",
	http.StatusUnauthorized:          "unauthorized",
	http.StatusForbidden:             "forbidden",
	http.StatusNotFound:              "not_found",
	http.StatusMethodNotAllowed:      "method_not_allowed",
	http.StatusRequestEntityTooLarge: "payload_too_large",
	http.StatusUnsupportedMediaType:  "unsupported_media_type",
	http.StatusServiceUnavailable:    "unavailable",
}

// handleError is Echo's error handler: every error of every route becomes an RFC 9457
// problem here, and only here. Internal causes are logged with the request id and never
// sent to the client.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	p, fields := s.toProblem(err)
	p.RequestId = ptr(requestID(c))
	p.Instance = ptr(c.Request().URL.Path)
	if len(fields) > 0 {
		p.Errors = &fields
	}
	if p.Status >= 500 {
		s.log.ErrorContext(c.Request().Context(), "request failed",
			slog.String("route", c.Path()),
			slog.Int("status", p.Status),
			slog.String("code", p.Code),
			slog.String("error", err.Error()))
	}
	if err := writeProblem(c, p); err != nil {
		s.log.WarnContext(c.Request().Context(), "writing problem", slog.String("error", err.Error()))
	}
}

func (s *Server) toProblem(err error) (api.Problem, []api.FieldError) {
	var appErr *errs.Error
	var httpErr *echo.HTTPError
	switch {
	case errors.As(err, &appErr):
		status := statusOf[appErr.Kind]
		if appErr.Kind == errs.Internal {
			// The message of an internal error may name internals; say only what happened.
			return problem(status, "internal_error", "An unexpected error occurred. Quote the request id when reporting it."), nil
		}
		return problem(status, appErr.Code, appErr.Message), nil
	case errors.As(err, &httpErr):
		if errors.As(httpErr.Internal, &appErr) {
			return s.toProblem(appErr)
		}
		status := httpErr.Code
		code, ok := codeOfStatus[status]
		if !ok || status >= 500 {
			return problem(http.StatusInternalServerError, "internal_error", "An unexpected error occurred. Quote the request id when reporting it."), nil
		}
		detail := http.StatusText(status) + "."
		if msg, ok := httpErr.Message.(string); ok && msg != "" {
			detail = strings.ToUpper(msg[:1]) + msg[1:]
		}
		var fields []api.FieldError
		var reqErr *openapi3filter.RequestError
		if errors.As(httpErr.Internal, &reqErr) {
			detail, fields = describeRequestError(reqErr)
		}
		if status == http.StatusNotFound {
			detail = "No such route."
		}
		return problem(status, code, detail), fields
	default:
		return problem(http.StatusInternalServerError, "internal_error", "An unexpected error occurred. Quote the request id when reporting it."), nil
	}
}

// describeRequestError says which parameter or body field broke the contract, and how.
func describeRequestError(e *openapi3filter.RequestError) (string, []api.FieldError) {
	field := "body"
	if e.Parameter != nil {
		field = e.Parameter.Name
	}
	message := e.Reason
	var schemaErr *openapi3.SchemaError
	if errors.As(e.Err, &schemaErr) {
		if ptr := schemaErr.JSONPointer(); len(ptr) > 0 && e.Parameter == nil {
			field = strings.Join(ptr, ".")
		}
		message = schemaErr.Reason
	} else if message == "" && e.Err != nil {
		message = e.Err.Error()
	}
	if message == "" {
		message = "does not match the contract"
	}
	return "The request does not match the API contract: " + field + ": " + message + ".",
		[]api.FieldError{{Field: field, Message: message}}
}

func problem(status int, code, detail string) api.Problem {
	return api.Problem{
		Type:   "urn:switchboard:problem:" + code,
		Title:  http.StatusText(status),
		Status: status,
		Code:   code,
		Detail: detail,
	}
}

func writeProblem(c echo.Context, p api.Problem) error {
	c.Response().Header().Set(echo.HeaderContentType, "application/problem+json")
	if c.Request().Method == http.MethodHead {
		return c.NoContent(p.Status)
	}
	return c.JSON(p.Status, p)
}

func ptr[T any](v T) *T { return &v }
