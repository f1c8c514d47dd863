package httpapi

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/labstack/echo/v4"

	"github.com/switchboard-health/switchboard/api"
	"github.com/switchboard-health/switchboard/internal/errs"
)

// statusOf is the one map from error kinds to HTTP statuses.
var statusOf = map[errs.Kind]int{
	errs.Internal:             http.StatusInternalServerError,
	errs.Invalid:              http.StatusBadRequest,
	errs.Unprocessable:        http.StatusUnprocessableEntity,
	errs.Unauthorized:         http.StatusUnauthorized,
	errs.Forbidden:            http.StatusForbidden,
	errs.NotFound:             http.StatusNotFound,
	errs.MethodNotAllowed:     http.StatusMethodNotAllowed,
	errs.Conflict:             http.StatusConflict,
	errs.TooLarge:             http.StatusRequestEntityTooLarge,
	errs.UnsupportedMediaType: http.StatusUnsupportedMediaType,
	errs.TooMany:              http.StatusTooManyRequests,
	errs.PreconditionFailed:   http.StatusPreconditionFailed,
	errs.PreconditionRequired: http.StatusPreconditionRequired,
	errs.Unavailable:          http.StatusServiceUnavailable,
}

// codeOfStatus names the errors Echo and the request validator raise themselves.
var codeOfStatus = map[int]errs.Code{
	http.StatusBadRequest:            errs.CodeValidationFailed,
	http.StatusUnauthorized:          errs.CodeUnauthorized,
	http.StatusForbidden:             errs.CodeForbidden,
	http.StatusNotFound:              errs.CodeNotFound,
	http.StatusMethodNotAllowed:      errs.CodeMethodNotAllowed,
	http.StatusRequestEntityTooLarge: errs.CodePayloadTooLarge,
	http.StatusUnsupportedMediaType:  errs.CodeUnsupportedMediaType,
	http.StatusServiceUnavailable:    errs.CodeUnavailable,
}

// handleError is Echo's error handler: every error of every route becomes an RFC 9457
// problem here, and only here. Internal causes are logged with the request id and never
// sent to the client.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	p, fields := s.toProblem(c, err)
	allowHeader(c, p.Status)
	p.RequestId = ptr(requestID(c))
	p.Instance = ptr(c.Request().URL.Path)
	if len(fields) > 0 {
		p.Errors = &fields
	}
	if p.Status >= 500 {
		s.log.ErrorContext(c.Request().Context(), "request failed",
			slog.String("route", c.Path()),
			slog.Int("status", p.Status),
			slog.String("code", string(p.Code)),
			slog.String("error", err.Error()))
	}
	if err := writeProblem(c, p); err != nil {
		s.log.WarnContext(c.Request().Context(), "writing problem", slog.String("error", err.Error()))
	}
}

func (s *Server) toProblem(c echo.Context, err error) (api.Problem, []api.FieldError) {
	e, fields := s.asError(c, err)
	if e.Kind == errs.Internal {
		// The message of an internal error may name internals; say only what happened.
		return problem(errs.CodeInternal, "An unexpected error occurred. Quote the request id when reporting it."), nil
	}
	return problem(e.Code, e.Message), fields
}

// asError turns what a route returned into the one error model. The service's own errors
// pass as they are (also when Echo or the validator wrapped one); the errors Echo, the
// generated server and the request validator raise themselves (no route, a wrong method,
// a body too large, a request that breaks the contract) become the code of their status,
// said in the contract's terms; anything else is internal.
func (s *Server) asError(c echo.Context, err error) (*errs.Error, []api.FieldError) {
	var appErr *errs.Error
	if errors.As(err, &appErr) {
		return appErr, nil
	}
	var httpErr *echo.HTTPError
	if !errors.As(err, &httpErr) {
		return errs.Wrap(err, "unexpected error"), nil
	}
	code, ok := codeOfStatus[httpErr.Code]
	if !ok || httpErr.Code >= 500 && code != errs.CodeUnavailable {
		return errs.Wrap(err, "unexpected error"), nil
	}
	var reqErr *openapi3filter.RequestError
	if errors.As(httpErr.Internal, &reqErr) {
		return describeRequestError(reqErr)
	}
	msg, _ := httpErr.Message.(string)
	if e, fields, ok := s.describeBindError(c, msg); ok {
		return e, fields
	}
	detail := http.StatusText(httpErr.Code) + "."
	switch httpErr.Code {
	case http.StatusNotFound:
		detail = "No such route."
	case http.StatusMethodNotAllowed:
		detail = "This route does not take the " + c.Request().Method + " method; the Allow header lists those it takes."
	}
	return errs.NewCause(code, detail, err), nil
}

func problem(code errs.Code, detail string) api.Problem {
	status := statusOf[code.Kind()]
	return api.Problem{
		Type:   "urn:switchboard:problem:" + string(code),
		Title:  http.StatusText(status),
		Status: status,
		Code:   api.ProblemCode(code),
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
